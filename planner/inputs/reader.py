"""Files to rows, with the line of every cell, and the problems found on the way.

`Reader` reads one instance folder's files (as the user named them, a variant's replacements
included) and collects every problem as FILE:LINE: COLUMN: message; `parse_rows` turns a
table's rows into pydantic models, a problem per bad cell; `toml_line` finds the line of a
TOML key (tomllib keeps none). The instance's own assembly is planner.inputs.load; the other
readers (candidates, variants, checks) share this module, so that none of them imports load.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
import tomllib
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from models.instance import STATE_CODE
from planner.errors import Problem
from planner.inputs.numbers import PLAIN, NumberError, NumberFormat

M = TypeVar("M", bound=BaseModel)


@dataclass
class CsvTable:
    """A CSV file as read: its header and its rows keyed by column, with line numbers."""

    display: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    # Every non-blank row, also those with the wrong number of fields (cells beyond the header
    # dropped, missing ones absent): what the file names, so that a broken row does not make
    # its state 'unknown' in the other files.
    named: list[dict[str, str]] = field(default_factory=list)
    usable: bool = True  # False when the header has a problem: the rows are not checked
    delimiter: str = ","

    def codes(self, column: str) -> set[str] | None:
        """The state codes a column names (upper case), or None when one of them is not a
        state code or the column is missing: then no other file can be said to name an
        unknown state."""
        if column not in self.header:
            return None
        codes = {row.get(column, "").strip().upper() for row in self.named}
        return codes if all(STATE_CODE.fullmatch(c) for c in codes) else None


def near_column(column: str, known: tuple[str, ...]) -> str | None:
    """The known column a header name most likely misspells (`benefiting`, `Code`), if any."""
    close = difflib.get_close_matches(column.lower(), known, n=1, cutoff=0.85)
    return close[0] if close else None


def header_problems(header: list[str], required: tuple[str, ...], known: tuple[str, ...]
                    ) -> list[tuple[str, str]]:
    """(column, message) for every problem of a header: empty or repeated names, required
    columns missing, and unknown names that look like a misspelt known column (an optional
    column misspelt would otherwise be ignored without a word, and its default used)."""
    problems = []
    for position, column in enumerate(header):
        if not column:
            problems.append((f"#{position + 1}", "empty column name in the header"))
        elif header.index(column) != position:
            problems.append((column, "column appears twice in the header"))
    meant = {column: near_column(column, known) for column in header
             if column and column not in known}
    for column in required:
        if column not in header:
            given = [h for h, m in meant.items() if m == column]
            hint = f" (the header has {given[0]!r})" if given else ""
            problems.append((column, f"required column is missing{hint}"))
    for column, known_column in meant.items():
        if known_column and known_column not in required and known_column not in header:
            problems.append((column, f"unknown column: did you mean {known_column!r}?"))
    return problems


@dataclass
class Reader:
    """Reads the files of one instance folder, naming them as the user named the folder.

    When a variant is loaded (`planner.inputs.variants`), `files` maps a table's usual name to its
    replacement file, and a problem about an instance.toml key the variant sets is reported
    in the variant's file, on that key's line."""

    folder: Path
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    variant: Any = None  # planner.inputs.variants.Variant, when loading a variant
    numbers: NumberFormat = PLAIN  # instance.toml's [input], once read

    def path(self, name: str) -> Path:
        return self.folder / self.files.get(name, name)

    def display(self, name: str) -> str:
        return str(self.path(name))

    def problem(self, name: str, line: int, column: str, message: str) -> None:
        if name == "instance.toml" and self.variant is not None:
            name, line = self.variant.locate(column) or (name, line)
        self.problems.append(Problem(self.display(name), line, column, message))

    def read_text(self, name: str, required: bool) -> str | None:
        path = self.path(name)
        if not path.exists():
            if required:
                self.problem(name, 0, "-", "required file is missing")
            return None
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = exc.object[:exc.start].count(b"\n") + 1
            self.problem(name, line, "-", f"not UTF-8 text (byte {exc.start}): save the file "
                         "as UTF-8")
            return None
        except OSError as exc:
            self.problem(name, 0, "-", f"cannot be read: {exc.strerror}")
            return None
        return text

    def header(self, name: str, text: str) -> tuple[list[str], str, int] | None:
        """The header row of a CSV text, its delimiter, and its width before empty names at
        its end (a spreadsheet's trailing separators) are dropped; None, with the problem,
        for an empty file or one that starts with a blank line."""
        # Without splitting the whole text: every line boundary of `str.splitlines` is
        # whitespace, so all lines are blank exactly when the text has no other character.
        if _NOT_SPACE.search(text) is None:
            self.problem(name, 0, "-", "file is empty (a header row is required)")
            return None
        first = _FIRST_LINE.match(text).group()  # type: ignore[union-attr]
        if not first.strip():
            self.problem(name, 1, "-", "the first line is blank: the header row must come first")
            return None
        # A spreadsheet saved with `;` as separator: accept it when the header has no comma.
        delimiter = ";" if ";" in first and "," not in first else ","
        try:
            header = [h.strip() for h in next(csv.reader([first], delimiter=delimiter), [])]
        except csv.Error as exc:
            self.problem(name, 1, "-", f"not a readable CSV file: {exc}")
            return None
        width = len(header)
        while len(header) > 1 and not header[-1]:
            header.pop()
        return header, delimiter, width

    def read_table(self, name: str, required: bool, columns: tuple[str, ...],
                   known: tuple[str, ...] = ()) -> CsvTable | None:
        """Read a CSV file; check it is non-empty and its header (required columns present,
        no misspelt `known` column). Empty columns at the end of the header (a spreadsheet's
        trailing separators) are dropped, with the empty cells under them."""
        text = self.read_text(name, required)
        found = None if text is None else self.header(name, text)
        if text is None or found is None:
            return None
        header, delimiter, width = found
        table = CsvTable(self.display(name), header, delimiter=delimiter)
        problems = header_problems(header, columns, (*columns, *known))
        for column, message in problems:
            self.problem(name, 1, column, message)
        try:
            self._read_records(name, table, text, delimiter, width)
        except Unreadable as exc:
            self.problem(name, exc.line, "-", f"not a readable CSV file: {exc.reason}")
            table.usable = False
            return table
        table.usable = not problems
        return table

    def _read_records(self, name: str, table: CsvTable, text: str, delimiter: str, width: int
                      ) -> None:
        header = table.header
        for line, cells in _records(text, delimiter):
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            # Only up to the header's own trailing separators: a row with one field too many
            # whose last cell is empty (`IT,ES` unquoted in a `;`-list) is still an error.
            while len(header) < len(cells) <= width and not cells[-1]:
                cells.pop()
            named = dict(zip(header, cells, strict=False))
            table.named.append(named)
            if len(cells) != len(header):
                self.problem(
                    name, line, "-", f"row has {len(cells)} fields, the header has {len(header)}"
                )
                continue
            table.rows.append((line, named))  # the same dict: rows are only read


_NOT_SPACE = re.compile(r"\S")
_FIRST_LINE = re.compile("[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*")


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The records after the header (the csv module's), each with its line number (the last
    line of a record that spans several)."""
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    try:
        next(reader)
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:  # a field over the size limit, a NUL in a quoted cell...
        raise Unreadable(reader.line_num, str(exc)) from exc


class Unreadable(Exception):
    """A CSV text the csv module cannot read past `line`."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _num(limit: object) -> str:
    return format(limit, "g") if isinstance(limit, int | float) else str(limit)


def _limit(limit: object) -> str:
    """A bound of an allowed range as a user reads it: 10,000,000 rather than 1e+07."""
    if isinstance(limit, int | float) and float(limit).is_integer() and abs(limit) >= 10_000:
        return f"{int(limit):,}"
    return _num(limit)


def cell_message(error: Any) -> str:
    """A pydantic error in the user's words."""
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx", {})
    shown = repr(value) if isinstance(value, str) else value
    number = _num(value) if isinstance(value, float) else value
    messages = {
        "missing": "required value is empty",
        "float_parsing": f"not a number: {shown}",
        "int_parsing": f"not a whole number: {shown}",
        "int_from_float": f"not a whole number: {shown}",
        "bool_parsing": f"not a boolean (true/false, yes/no, 1/0): {shown}",
        "bool_type": f"not a boolean (true/false, yes/no, 1/0): {shown}",
        "greater_than": f"must be greater than {_limit(ctx.get('gt'))}, got {number}",
        "greater_than_equal": f"must be at least {_limit(ctx.get('ge'))}, got {number}",
        "less_than_equal": f"must be at most {_limit(ctx.get('le'))}, got {number}",
        "finite_number": f"must be a finite number, got {shown}",
        "enum": f"{shown} is not one of: {ctx.get('expected', '')}",
        "literal_error": f"{shown} is not one of: {ctx.get('expected', '')}",
        "string_pattern_mismatch": f"{shown} is not a two-letter state code",
        "extra_forbidden": "unknown key",
        "string_too_short": "must not be empty",
        "string_type": f"must be text in quotes, got {shown}",
        "model_type": "must be a table (a [section] of keys)",
        "model_attributes_type": "must be a table (a [section] of keys)",
        "dict_type": "must be a table (a [section] or { key = value, ... })",
        "tuple_type": f"must be a list [...], got {shown}",
    }
    if kind in messages:
        return messages[kind]
    text = str(error.get("msg", kind))
    return text.removeprefix("Value error, ")


def parse_rows(reader: Reader, name: str, table: CsvTable, model: type[M],
               extra: tuple[str, ...] = ()) -> list[tuple[int, M]]:
    """Validate each row into `model`; empty cells are 'not given' so defaults apply.
    Number cells (the model's number fields and the key's `extra` columns) are read by the
    instance's one number rule (`planner.inputs.numbers`) before pydantic sees them; a cell a
    variant set from a TOML number is written plainly (`1e-05`, `0.5`) and read so."""
    cells = _Cells(reader, name, table, model, extra)
    parsed: list[tuple[int, M]] = []
    for line, row in table.rows:
        data, failed = cells.data(line, row)
        try:
            model_row = model.model_validate(data)
        except ValidationError as exc:
            _report(reader, name, line, model, exc, failed)
            continue
        if not failed:
            parsed.append((line, model_row))
    return parsed


@dataclass
class _Cells:
    """One table's rows as the data `parse_rows` validates: number cells read by the number
    rule, the key's `extra` columns gathered under `indicators`, problems reported on the way."""

    reader: Reader
    name: str
    table: CsvTable
    model: type[BaseModel]
    extra: tuple[str, ...]
    fields: set[str] = field(init=False)
    numeric: set[str] = field(init=False)
    canonical: Container[tuple[int, str]] = field(init=False)  # cells a variant set

    def __post_init__(self) -> None:
        info = self.model.model_fields
        self.fields = set(info)
        self.numeric = {c for c, i in info.items() if numeric_annotation(i.annotation)}
        chain = self.reader.variant.chain() if self.reader.variant is not None else []
        if self.name == "member_states.csv":
            self.canonical = {cell for variant in chain for cell in variant.cells}
        elif self.name == "pledges.csv":
            self.canonical = {cell for variant in chain for cell in variant.pledge_cells}
        else:
            self.canonical = set()

    def data(self, line: int, row: dict[str, str]) -> tuple[dict[str, Any], set[str]]:
        """The row's data for the model, and the columns whose problem is already reported."""
        data: dict[str, Any] = {"indicators": {}} if self.extra else {}
        failed: set[str] = set()
        for column, value in row.items():
            if value == "":
                continue
            if column not in self.numeric and column not in self.extra:
                if column in self.fields:
                    data[column] = value
                continue
            number = self.number(line, column, value)
            if number is None:
                failed.add(column)
            elif column in self.extra:
                data["indicators"][column] = number
            elif column in self.fields:
                data[column] = number
        for column in self.extra:
            if row.get(column, "") == "":
                self.reader.problem(self.name, line, column, "required value is empty (a "
                                    "key.weights column)")
                failed.add(column)
        return data, failed

    def number(self, line: int, column: str, value: str) -> Any:
        """A number cell read by the instance's number rule (a variant's own cells plainly),
        or None with the problem reported."""
        rule = PLAIN if (line, column) in self.canonical else self.reader.numbers
        try:
            return rule.parse(value, self.table.delimiter)
        except NumberError as exc:
            self.reader.problem(self.name, line, column, str(exc))
            return None


def _report(reader: Reader, name: str, line: int, model: type[BaseModel],
            exc: ValidationError, failed: set[str]) -> None:
    """A problem per pydantic error of a row, but for the cells already reported."""
    for error in exc.errors():
        column = str(error["loc"][0]) if error["loc"] else "-"
        if column in failed:  # a number cell already reported, not 'empty'
            continue
        message = cell_message(error)
        if error["type"] == "int_parsing_size":  # beyond 64 bits: give the range
            message = f"must be at most {_limit(_maximum(model, column))}, got " \
                      f"{_num(error.get('input'))}"
        reader.problem(name, line, column, message)


@functools.cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _maximum(model: type[BaseModel], column: str) -> object:
    """The upper bound of a field (its JSON Schema's `maximum`), for a message."""
    found = _schema(model)["properties"].get(column, {})
    for option in (found, *found.get("anyOf", ())):
        if "maximum" in option:
            return option["maximum"]
    return "?"


def toml_text_line(text: str, loc: tuple[Any, ...]) -> int:
    """The line of a dotted key in a TOML text (tomllib keeps no positions): the table header
    or `key = value` line whose dotted path is the longest prefix of `loc` (an item of an
    inline table or array is on its key's line), else 1."""
    wanted = [str(p) for p in loc]
    best, best_length, current = 1, 0, []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[\s*([^\[\]]+?)\s*\]", line)
        if header:
            current = _dotted(header.group(1))
            path = current
        elif "=" in line:
            path = current + _dotted(line.split("=", 1)[0])
        else:
            continue
        if len(path) > best_length and wanted[:len(path)] == path:
            best, best_length = number, len(path)
    return best


def _dotted(key: str) -> list[str]:
    return [part.strip().strip('"').strip("'") for part in key.split(".")]


def parse_toml(reader: Reader, name: str, text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        line = int(found.group(1)) if found else 1
        reader.problem(name, line, "-", f"not valid TOML: {str(exc).split(' (at')[0]}")
        return None



def toml_line(reader: Reader, loc: tuple[Any, ...]) -> int:
    """The line of a key of instance.toml (for problems found after it was parsed)."""
    text = reader.read_text("instance.toml", required=False) or ""
    return toml_text_line(text, loc)

def numeric_annotation(annotation: Any) -> bool:
    """Whether a field's type is a number (int or float, maybe optional or annotated)."""
    if get_origin(annotation) is Annotated:
        return numeric_annotation(get_args(annotation)[0])
    if annotation in (int, float):
        return True
    args = get_args(annotation)
    return bool(args) and bool not in args \
        and any(numeric_annotation(a) for a in args if a is not None)

