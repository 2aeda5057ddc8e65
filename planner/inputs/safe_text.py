"""Which text an input cell may hold (issue #12, item 8): the input side of safe text.

* Every text cell the planner writes back to its outputs (ids, state names; codes are checked
  by their own formats) must not start with `=`, `+`, `-`, `@`, a tab or a carriage return:
  a spreadsheet opening the results would take the cell for a formula (formula injection,
  OWASP "CSV injection"). Numbers are not text: `-5` in a number column is a number.
* Such a cell must hold no control character but a tab or line break inside (ESC starts an
  ANSI escape sequence that would recolour or rewrite a terminal; NUL ends a C string).
* An id (pledge, person, case) must hold no control character at all, no invisible character
  (zero-width, bidi controls, soft hyphen, variation selectors, fillers, non-ASCII spaces),
  and no mix of scripts beyond those Unicode's "highly restrictive" level allows (UTS #39:
  one script, or Latin with Han, Hiragana and Katakana, with Han and Bopomofo, or with Han and
  Hangul): two ids that read the same must be the same id.

Each check returns the message of the first problem, or None. The ASCII text every real file
holds is settled by one regular expression; only other text is looked at character by
character.
"""

from __future__ import annotations

import re
import unicodedata

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ASCII_SAFE = re.compile(r"[\x20-\x7e]*")  # printable ASCII: no control, invisible or script
_INVISIBLE = {"\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u3164", "\uffa0"}
# Scripts that may share an id (UTS #39, highly restrictive), each set with Latin.
_ALLOWED_MIXES = (frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
                  frozenset({"LATIN", "HAN", "BOPOMOFO"}),
                  frozenset({"LATIN", "HAN", "HANGUL"}))
# Letter names whose first word is not the script (unicodedata has no script property).
_SCRIPT_OF_PREFIX = {"CJK": "HAN", "FULLWIDTH": "LATIN", "HALFWIDTH": "KATAKANA",
                     "MODIFIER": "LATIN", "SMALL": "LATIN"}


def formula_problem(value: str) -> str | None:
    if value.startswith(FORMULA_START):
        first = repr(value[0])
        return (f"starts with {first}: a spreadsheet opening the results would read the cell "
                "as a formula (formula injection); remove or change the first character")
    return None


def text_problem(value: str) -> str | None:
    """A text cell written back to the outputs (a state's name): no formula start, no control
    character but a tab or line break inside."""
    found = formula_problem(value)
    if found is None and not _ASCII_SAFE.fullmatch(value):
        for char in value:
            if unicodedata.category(char) == "Cc" and char not in "\t\n\r":
                return f"holds the control character {char!r}: delete it"
    return found


def id_problem(value: str) -> str | None:
    """An id (pledge, person, case): `text_problem`, no control or invisible character at
    all, and one script."""
    found = formula_problem(value)
    if found is not None or _ASCII_SAFE.fullmatch(value):
        return found
    scripts: dict[str, str] = {}
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            return f"holds the control character {char!r}: delete it"
        if category in ("Cf", "Zl", "Zp", "Co", "Cn", "Cs") or char in _INVISIBLE or (
                category == "Zs" and char != " ") or _variation_selector(char):
            return (f"holds an invisible character (U+{ord(char):04X}): delete it, so that "
                    "two ids that read the same are the same id")
        if category.startswith("L") or category == "Nd":
            script = _script(char)
            if script is not None:
                scripts.setdefault(script, char)
    if len(scripts) > 1 and not any(set(scripts) <= mix for mix in _ALLOWED_MIXES):
        names = " and ".join(s.title() for s in sorted(scripts))
        return (f"mixes scripts ({names}): write an id in one script, so that a look-alike "
                "letter (Cyrillic 'а' for Latin 'a') cannot make two ids that read the same")
    return None


def _variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0x180B <= code <= 0x180F


def _script(char: str) -> str | None:
    """The script of a letter or digit, from its Unicode name (LATIN SMALL LETTER A, CYRILLIC
    SMALL LETTER A, CJK UNIFIED IDEOGRAPH-4E00); None for an ASCII digit (common to all)."""
    if "0" <= char <= "9":
        return None
    name = unicodedata.name(char, "")
    if not name:
        return None
    first = name.split(" ", 1)[0].split("-", 1)[0]
    if first in _SCRIPT_OF_PREFIX:
        if first == "HALFWIDTH" and "HANGUL" in name:
            return "HANGUL"
        return _SCRIPT_OF_PREFIX[first]
    if first == "MATHEMATICAL" or first == "DOUBLE-STRUCK":
        return "LATIN"
    return first


def ascii_letters(value: str, length: int) -> bool:
    """A code of `length` ASCII letters (ISO 3166-1 alpha-3, ISO 639-1): a look-alike letter
    from another script is not a code."""
    return len(value) == length and value.isascii() and value.isalpha()
