"""The two ways a run ends without a plan: bad input (exit 2) and no plan (exit 3)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One input problem, printed as `FILE:LINE: COLUMN: message` (contract, exit codes).

    LINE counts the file's lines with the header as line 1; 0 means the file as a whole.
    """

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.column}: {self.message}"


class InputError(Exception):
    """Every problem found in the inputs, reported at once (exit code 2)."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class PlanError(Exception):
    """No plan could be produced, or the verifier rejected it (exit code 3)."""

    exit_code = 3
