"""Text from the inputs, made safe to show (issue #12, item 8: defence in depth).

Whatever the loader lets through (state names, pledge ids, TOML keys, variant and folder
names), what the planner shows of it on a terminal or in a report is inert: `visible` writes
every character that could act instead of being read as a Python-style escape, so that an input
cannot move the cursor, recolour, clear or retitle a terminal (ANSI and OSC escapes start with
ESC, a control character), reorder a line (bidirectional overrides), hide a character (zero
width) or break a table's line (line and paragraph separators). The files themselves keep the
exact text: only what is shown is escaped.

Rich markup and emoji codes are a second layer on the terminal: the planner's consoles and
tables take input text as `rich.text.Text` (`literal`), which rich never parses, so
`[bold red]x` or `:warning:` in a pledge id prints as written.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# Unicode categories that act rather than show: control (C0, DEL, C1: ESC among them), format
# (bidirectional overrides and isolates, zero-width characters, soft hyphen), surrogate (not
# encodable), line and paragraph separator.
HIDDEN = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF \
        else f"\\U{code:08x}"


def visible(text: object) -> str:
    """`text` with every control, format, surrogate or separator character written as an
    escape (`\\x1b`, `\\n`, `\\u202e`); other characters, any script or emoji, as they are."""
    text = str(text)
    if text.isprintable():  # the usual case: nothing to do (spaces, letters, emoji)
        return text
    return "".join(_escape(c) if unicodedata.category(c) in HIDDEN else c for c in text)


def visible_lines(text: object) -> str:
    """`visible` line by line: a message of several lines keeps its line breaks (the
    verifier's failed checks), and nothing inside a line can act."""
    return "\n".join(visible(line) for line in str(text).split("\n"))


def literal(text: object, style: str = "") -> Text:
    """Input text for a rich table or console: escaped by `visible`, never parsed as markup
    or emoji codes (rich parses a plain `str` for both)."""
    from rich.text import Text

    return Text(visible(text), style=style)
