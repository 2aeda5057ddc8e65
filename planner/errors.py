"""The two ways a run ends without a plan: bad input (exit 2) and no plan (exit 3)."""

from __future__ import annotations

from dataclasses import dataclass


def escape(text: str) -> str:
    """`text` with every character a terminal would not print as itself (control characters
    such as ESC, which starts an ANSI escape sequence, line breaks, zero-width and bidi
    controls, non-ASCII spaces) written as Python writes it in a repr (`\\x1b`, `\\u200b`):
    user text in a message can neither recolour nor rewrite the terminal, nor hide."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True, order=True)
class Problem:
    """One input problem, printed as `FILE:LINE: COLUMN: message` (contract, exit codes).

    LINE counts the file's lines with the header as line 1; 0 means the file as a whole.
    Every part may quote user text (a path, a header, a TOML key, a cell): printed escaped.
    `place`, when given, stands for `FILE:LINE` where the input is not a line of a file: a
    workbook's cell (`BOOK.xlsx:pledges!E7`) or a command-line value (`--set KEY=VALUE`).
    """

    file: str
    line: int
    column: str
    message: str
    place: str = ""

    def __str__(self) -> str:
        where = escape(self.place) if self.place else f"{escape(self.file)}:{self.line}"
        return f"{where}: {escape(self.column)}: {escape(self.message)}"


class InputError(Exception):
    """Every problem found in the inputs, reported at once (exit code 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class PlanError(Exception):
    """No plan could be produced, or the verifier rejected it (exit code 3). The message may
    quote user text (pledge ids, paths): printed escaped, line by line."""

    exit_code = 3

    def __str__(self) -> str:
        return "\n".join(escape(line) for line in super().__str__().split("\n"))
