"""How a number cell of a CSV file is read: one rule for every file of an instance.

Without an `[input]` section in instance.toml, `.` is the decimal point and numbers have no
thousands separator (`494000`, `0.125`, `1e6`). An instance saved by a spreadsheet in a locale
that writes `494.000,5` declares it: `[input] decimal = ","` and `thousands = "."`. Whatever
the format, a cell that could be read two ways is an input error naming the fix, never a guess:
a `;`-separated file (as spreadsheets save in most EU locales, where `.` groups thousands) with
`494.000` and no declared format could mean 494 or 494000; a `,` in a number under the default
format is a decimal comma or a thousands separator. `nan` and `inf` are not numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import NoReturn

_DIGITS = re.compile(r"[+-]?[0-9][0-9.,' ]*(?:[eE][+-]?[0-9]+)?")
# 494.000 or 1.234.567 in a `;` file: '.' may group thousands there (a first group of one to
# three digits not starting with 0, then groups of exactly three).
_GROUPED_BY_DOT = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


class NumberError(ValueError):
    """A cell that is not a number under the instance's number format; str() is the message."""


@dataclass(frozen=True)
class NumberFormat:
    """The number format of an instance's CSV files (`[input]` of instance.toml)."""

    decimal: str = "."
    thousands: str = ""
    declared: bool = False  # the instance has an [input] section with either key

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        d, t = re.escape(self.decimal), re.escape(self.thousands)
        whole = rf"(?:[0-9]{{1,3}}(?:{t}[0-9]{{3}})+|[0-9]+)" if self.thousands else "[0-9]+"
        return re.compile(rf"[+-]?(?:{whole}(?:{d}[0-9]*)?|{d}[0-9]+)(?:[eE][+-]?[0-9]+)?")

    def describe(self) -> str:
        thousands = f"thousands {self.thousands!r}" if self.thousands else "no thousands separator"
        return f"decimal {self.decimal!r}, {thousands}"

    def parse(self, text: str, delimiter: str = ",") -> float:
        """The number a (stripped) cell holds; `NumberError` with the user's fix otherwise.
        `delimiter` is the file's: a `;` file with no declared format makes `494.000`
        ambiguous."""
        if not self.declared:
            if delimiter == ";" and _GROUPED_BY_DOT.fullmatch(text):
                return self._dot_grouped(text, ambiguous=True)
            if "," in text and _DIGITS.fullmatch(text):
                raise NumberError(
                    f"',' in the number {text!r}: numbers are read with '.' as the decimal "
                    "point and no thousands separator; write it so, or declare the files' "
                    "format in instance.toml ([input] decimal = \",\" or thousands = \",\")")
        if self.pattern.fullmatch(text):
            if self.thousands:
                text = text.replace(self.thousands, "")
            return float(text.replace(self.decimal, "."))
        if _NOT_FINITE.fullmatch(text):
            raise NumberError(f"must be a finite number, got {text!r}")
        if self.declared and _DIGITS.fullmatch(text):
            raise NumberError(f"{text!r} is not a number in the format instance.toml declares "
                              f"([input]: {self.describe()})")
        if not self.declared and _GROUPED_BY_DOT.fullmatch(text):
            self._dot_grouped(text, ambiguous=False)
        raise NumberError(f"not a number: {text!r}")

    def _dot_grouped(self, text: str, ambiguous: bool) -> NoReturn:
        """`494.000` under no declared format: ambiguous in a `;` file (`ambiguous`), else
        (and 1.234.567, only a thousands separator, always) a thousands separator."""
        whole, _, fraction = text.partition(".")
        if not ambiguous or "." in fraction:
            raise NumberError(f"{text!r} groups thousands with '.': write it without a "
                              "thousands separator, or declare the files' format in "
                              "instance.toml ([input] decimal = \",\" and thousands = \".\")")
        raise NumberError(
            f"ambiguous number {text!r} in a ';'-separated file: {whole} or {whole}{fraction}? "
            "Declare the files' number format in instance.toml ([input] decimal = \",\" and "
            "thousands = \".\", as spreadsheets in most EU locales write), or write the "
            "number without a thousands separator")


PLAIN = NumberFormat()
