"""Read an instance folder into validated models, collecting every problem at once.

Files -> rows (with their line numbers) -> pydantic models -> cross-row checks (`checks`).
Nothing here raises on the first problem: each reader appends to a shared list and the
caller raises one `InputError` with all of them.
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

from models.instance import (
    STATE_CODE,
    Instance,
    InstanceConfig,
    MemberState,
    Need,
    Pledge,
    Responsibility,
)
from planner.errors import InputError, Problem
from planner.numbers import PLAIN, NumberError, NumberFormat

M = TypeVar("M", bound=BaseModel)

INSTANCE_FILES = ("instance.toml", "member_states.csv", "pledges.csv", "needs.csv",
                  "responsibility.csv", "candidates.csv", "transfers.csv", "rejections.csv")


@dataclass
class Table:
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

    When a variant is loaded (`planner.variants`), `files` maps a table's usual name to its
    replacement file, and a problem about an instance.toml key the variant sets is reported
    in the variant's file, on that key's line."""

    folder: Path
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    variant: Any = None  # planner.variants.Variant, when loading a variant
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
                   known: tuple[str, ...] = ()) -> Table | None:
        """Read a CSV file; check it is non-empty and its header (required columns present,
        no misspelt `known` column). Empty columns at the end of the header (a spreadsheet's
        trailing separators) are dropped, with the empty cells under them."""
        text = self.read_text(name, required)
        found = None if text is None else self.header(name, text)
        if text is None or found is None:
            return None
        header, delimiter, width = found
        table = Table(self.display(name), header, delimiter=delimiter)
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

    def _read_records(self, name: str, table: Table, text: str, delimiter: str, width: int
                      ) -> None:
        header = table.header
        for line, cells, plain in _records(text, delimiter):
            if not (any(cells) if plain else any(cell.strip() for cell in cells)):
                continue
            # Only up to the header's own trailing separators: a row with one field too many
            # whose last cell is empty (`IT,ES` unquoted in a `;`-list) is still an error.
            while len(header) < len(cells) <= width and not cells[-1].strip():
                cells.pop()
            named = dict(zip(header, cells, strict=False)) if plain else \
                {h: c.strip() for h, c in zip(header, cells, strict=False)}
            table.named.append(named)
            if len(cells) != len(header):
                self.problem(
                    name, line, "-", f"row has {len(cells)} fields, the header has {len(header)}"
                )
                continue
            table.rows.append((line, named))  # the same dict: rows are only read


_NOT_SPACE = re.compile(r"\S")
_FIRST_LINE = re.compile("[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*")
# What makes a text other than plain lines of cells: a quote, a NUL (the csv module's
# concern), or any whitespace but the newline (a cell to strip, or a line boundary of
# `str.splitlines` other than \n, such as \r).
_NOT_PLAIN = re.compile(r'["\x00]|[^\S\n]')


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str], bool]]:
    """The records after the header, each with its line number and whether its cells are
    known to need no strip. A plain text (`_NOT_PLAIN`, and no field over the csv module's
    size limit) is one record per line, split at the delimiter: what `csv.reader` gives for
    it (a blank line aside, [] there and [''] here: both are skipped as blank), in a third
    of the time; any other text goes through `csv.reader`."""
    if _NOT_PLAIN.search(text) is None:
        lines = text.split("\n")
        if max(map(len, lines)) <= csv.field_size_limit():
            for number, line in enumerate(lines[1:], start=2):
                yield number, line.split(delimiter), True
            return
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    try:
        next(reader)
        for cells in reader:
            yield reader.line_num, cells, False
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


def _message(error: Any) -> str:
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


def parse_rows(reader: Reader, name: str, table: Table, model: type[M],
               extra: tuple[str, ...] = ()) -> list[tuple[int, M]]:
    """Validate each row into `model`; empty cells are 'not given' so defaults apply.
    Number cells (the model's number fields and the key's `extra` columns) are read by the
    instance's one number rule (`planner.numbers`) before pydantic sees them; a cell a variant
    set from a TOML number is written plainly (`1e-05`, `0.5`) and read so."""
    fields = set(model.model_fields)
    numeric = {c for c, info in model.model_fields.items() if _numeric(info.annotation)}
    numbers, delimiter = reader.numbers, table.delimiter
    canonical = reader.variant.cells if reader.variant is not None and name == "member_states.csv" \
        else {}
    parsed: list[tuple[int, M]] = []
    for line, row in table.rows:
        data: dict[str, Any] = {}
        failed: set[str] = set()
        for column, value in row.items():
            if value == "":
                continue
            if column in numeric or column in extra:
                try:
                    number: Any = (PLAIN if (line, column) in canonical else numbers).parse(
                        value, delimiter)
                except NumberError as exc:
                    reader.problem(name, line, column, str(exc))
                    failed.add(column)
                    continue
                if column in extra:
                    data.setdefault("indicators", {})[column] = number
                    continue
                value = number
            if column in fields:
                data[column] = value
        for column in extra:
            if row.get(column, "") == "":
                reader.problem(name, line, column, "required value is empty (a key.weights "
                               "column)")
                failed.add(column)
        if extra:
            data.setdefault("indicators", {})
        try:
            model_row = model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else "-"
                if column in failed:  # a number cell already reported, not 'empty'
                    continue
                message = _message(error)
                if error["type"] == "int_parsing_size":  # beyond 64 bits: give the range
                    message = f"must be at most {_limit(_maximum(model, column))}, got " \
                              f"{_num(error.get('input'))}"
                reader.problem(name, line, column, message)
            continue
        if not failed:
            parsed.append((line, model_row))
    return parsed


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


def _toml_line(text: str, loc: tuple[Any, ...]) -> int:
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


def read_config(reader: Reader) -> InstanceConfig | None:
    name = "instance.toml"
    text = reader.read_text(name, required=True)
    if text is None:
        return None
    if not text.strip():
        reader.problem(name, 0, "-", "file is empty (name, cycle and [pool] are required)")
        return None
    raw = parse_toml(reader, name, text)
    if raw is None:
        return None
    if reader.variant is not None:
        raw = reader.variant.merged(raw)
    # pydantic takes true for 1: in instance.toml a boolean where a number belongs is a slip.
    flags = list(_booleans_for_numbers(raw, InstanceConfig, ()))
    for loc in flags:
        reader.problem(name, _toml_line(text, loc), ".".join(loc),
                       f"not a number: {str(_get(raw, loc)).lower()}")
    try:
        config = InstanceConfig.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
            if error["type"] == "value_error" and any(f[:len(loc)] == loc for f in flags):
                continue  # a table's own check of a boolean taken for 1: reported above
            message = "required key is missing" if error["type"] == "missing" else \
                _message(error)
            reader.problem(name, _toml_line(text, loc), ".".join(map(str, loc)) or "-", message)
        return None
    return None if flags else config


def _numeric(annotation: Any) -> bool:
    """Whether a field's type is a number (int or float, maybe optional or annotated)."""
    if get_origin(annotation) is Annotated:
        return _numeric(get_args(annotation)[0])
    if annotation in (int, float):
        return True
    args = get_args(annotation)
    return bool(args) and bool not in args and any(_numeric(a) for a in args if a is not None)


def _booleans_for_numbers(raw: dict[str, Any], model: type[BaseModel], loc: tuple[str, ...]
                          ) -> Iterator[tuple[str, ...]]:
    """Where a TOML boolean stands for a number field of `model` (or a number in a table of
    numbers such as key.weights)."""
    for key, value in raw.items():
        info = model.model_fields.get(key)
        if info is None:
            continue
        annotation = info.annotation
        if isinstance(value, dict):
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                yield from _booleans_for_numbers(value, annotation, (*loc, key))
            elif get_origin(annotation) is dict and _numeric(get_args(annotation)[1]):
                yield from ((*loc, key, k) for k, v in value.items() if isinstance(v, bool))
        elif isinstance(value, bool) and _numeric(annotation):
            yield (*loc, key)


def _get(raw: dict[str, Any], loc: tuple[str, ...]) -> Any:
    for key in loc:
        raw = raw[key]
    return raw


def input_sha256(folder: Path, files: dict[str, str] | None = None,
                 variant: str | None = None) -> str:
    """One digest over the instance's input files, by name then content (a variant's
    replacement tables in place of the instance's, then the variant's own file)."""
    files = files or {}
    digest = hashlib.sha256()
    for name in INSTANCE_FILES:
        path = folder / files.get(name, name)
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    if variant is not None:
        digest.update(variant.encode() + b"\0" + (folder / variant).read_bytes() + b"\0")
    return digest.hexdigest()


def load_instance(folder: Path | str, variant: str | None = None) -> Instance:
    """Read and validate an instance folder, or one of its variants (`variants/NAME.toml`
    applied over it, see `planner.variants`); raise `InputError` with every problem found."""
    from planner import checks
    from planner.variants import apply_states, read_variant

    reader = Reader(Path(folder))
    if not reader.folder.is_dir():
        raise InputError([Problem(str(reader.folder), 0, "-", "instance folder not found")])
    if variant is not None:
        reader.variant = read_variant(reader, variant)
        if reader.variant is None:
            raise InputError(reader.problems)
        reader.files = dict(reader.variant.tables)
    config = read_config(reader)
    if config is not None:
        reader.numbers = number_format(config)
    weights = config.key.weights if config else {}
    extra = tuple(c for c in weights if c not in MemberState.model_fields)
    states_table = reader.read_table("member_states.csv", True,
                                     ("code", "name", "population", "gdp_eur_million"),
                                     (*_columns(MemberState), *extra))
    pledges_table = reader.read_table("pledges.csv", True, ("state", "measure"),
                                      _columns(Pledge))
    needs_table = reader.read_table("needs.csv", False, ("state", "measure", "amount"))

    states: list[tuple[int, MemberState]] = []
    codes: set[str] | None = None
    if states_table is not None and states_table.usable and reader.variant is not None:
        apply_states(reader, reader.variant, states_table, (*_columns(MemberState), *extra))
    if states_table is not None:
        for column in extra:
            if column not in states_table.header:
                reader.problem("instance.toml", toml_line(reader, ("key", "weights")),
                               f"key.weights.{column}",
                               f"names column {column!r}, which member_states.csv does not have")
        if states_table.usable and not states_table.named:
            reader.problem("member_states.csv", 0, "-", "no states (one row per state is "
                           "required)")
        elif states_table.usable:
            columns = tuple(c for c in extra if c in states_table.header)
            states = parse_rows(reader, "member_states.csv", states_table, MemberState, columns)
            codes = states_table.codes("code")
    pledges: list[tuple[int, Pledge]] = []
    if pledges_table is not None and pledges_table.usable:
        if "pledge_id" not in pledges_table.header:
            # Default pledge id: the row's line number (contract: "no (row number)").
            for line, row in pledges_table.rows:
                row["pledge_id"] = str(line)
        pledges = parse_rows(reader, "pledges.csv", pledges_table, Pledge)
    needs = parse_rows(reader, "needs.csv", needs_table, Need) \
        if needs_table is not None and needs_table.usable else []

    checks.run_all(reader, config, states, pledges, needs, codes)
    responsibility = read_responsibility(reader, states, pledges, codes)
    checks.refused_by(reader, config, states, codes)
    cases, transfers, rejections = read_matching_inputs(reader, states, codes,
                                                        config.cycle if config else None,
                                                        config)
    if reader.variant is not None:
        reader.problems = reader.variant.relocate(reader.problems, reader)
    if reader.problems or config is None:
        raise InputError(sorted(set(reader.problems), key=lambda p: _problem_order(p, reader)))
    return Instance(
        name=reader.folder.name,
        config=config,
        states=tuple(sorted((s for _, s in states), key=lambda s: s.code)),
        pledges=tuple(sorted((p for _, p in pledges), key=lambda p: p.pledge_id)),
        needs=tuple(sorted((n for _, n in needs), key=lambda n: (n.state, n.measure))),
        responsibility=responsibility,
        cases=cases,
        transfers=transfers,
        rejections=rejections,
        source=str(reader.folder),
        input_sha256=input_sha256(reader.folder, reader.files,
                                  reader.variant.file if reader.variant is not None else None),
    )


def read_responsibility(reader: Reader, states: list[tuple[int, MemberState]],
                        pledges: list[tuple[int, Pledge]], codes: set[str] | None
                        ) -> tuple[Responsibility, ...] | None:
    """responsibility.csv (optional; Art. 63, rules section 5), checked row by row
    (planner.checks.responsibility_rows); None when the instance has no such file."""
    from planner import checks

    name = "responsibility.csv"
    if not reader.path(name).exists():
        return None
    table = reader.read_table(name, False, ("state", "benefitting", "persons"))
    rows = parse_rows(reader, name, table, Responsibility) \
        if table is not None and table.usable else []
    checks.responsibility_rows(reader, states, rows, codes)
    checks.offset_minimums(reader, pledges, rows)
    return tuple(sorted((r for _, r in rows), key=lambda r: (r.state, r.benefitting)))


def number_format(config: InstanceConfig) -> NumberFormat:
    """The number format instance.toml declares (`[input]`), or the default one."""
    given = config.input.model_fields_set if "input" in config.model_fields_set else set()
    return NumberFormat(config.input.decimal, config.input.thousands, declared=bool(given))


def _columns(model: type[BaseModel]) -> tuple[str, ...]:
    """The CSV columns of a row model (`indicators` holds the key's extra columns)."""
    return tuple(c for c in model.model_fields if c != "indicators")


Pairs = tuple[tuple[str, str, int], ...]


def read_matching_inputs(reader: Reader, states: list[tuple[int, MemberState]],
                         codes: set[str] | None, cycle: int | None = None,
                         config: InstanceConfig | None = None
                         ) -> tuple[tuple[Any, ...] | None, Pairs, Pairs]:
    """candidates.csv (column-wise), transfers.csv and rejections.csv, cross-checked.

    `codes` are all the state codes member_states.csv names, None when they are not known
    (file missing or broken, or a code that is not one); `states` are the rows that parsed,
    the only ones whose benefitting status is known."""
    from models.candidates import CasePair
    from planner.candidates import build_cases, read_candidates
    from planner.protection import rule_of

    benefitting = {s.code for _, s in states if s.benefitting}
    others = {s.code for _, s in states if not s.benefitting}
    frame = read_candidates(reader, codes, benefitting, others, cycle)
    # tolist: iterating an Arrow-backed column yields its cells one by one, 20 times slower.
    known_cases = set(frame["case_id"].tolist()) if frame is not None else set()
    pairs: dict[str, list[tuple[str, str, int]]] = {}
    for name in ("transfers.csv", "rejections.csv"):
        table = reader.read_table(name, False, ("case_id", "state"), _columns(CasePair))
        pairs[name] = []
        if table is None or not table.usable:
            continue
        if table.rows and not (reader.folder / "candidates.csv").exists():
            reader.problem(name, 0, "-", "names cases, but the instance has no candidates.csv")
            continue
        for line, case_id, state in parse_pairs(reader, name, table):
            if codes is not None and state not in codes:
                reader.problem(name, line, "state", f"unknown state {state}")
            elif name == "transfers.csv" and state in benefitting:
                reader.problem(name, line, "state", f"{state} is benefitting this cycle "
                               "and receives no relocations (rules section 4)")
            if frame is not None and case_id not in known_cases:
                reader.problem(name, line, "case_id", f"unknown case {case_id!r}")
            pairs[name].append((case_id, state, line))
    first: dict[str, tuple[str, int]] = {}
    for case_id, state, line in pairs["transfers.csv"]:
        if case_id in first:
            reader.problem("transfers.csv", line, "case_id", f"case {case_id!r} is already "
                           f"transferred on line {first[case_id][1]}")
        first.setdefault(case_id, (state, line))
    for case_id, state, line in pairs["rejections.csv"]:
        if first.get(case_id, ("", 0))[0] == state:
            reader.problem("rejections.csv", line, "state", f"case {case_id!r} was transferred "
                           f"to {state} (transfers.csv line {first[case_id][1]}), so {state} "
                           "cannot have refused it")
    # Beneficiaries' protection dates against pool.adopted (Art. 56(2)(a)(ii)).
    cases = tuple(build_cases(frame, rule_of(config))) if frame is not None else None
    # In file order, so that problems found later about transfers (places) come line by line.
    return (cases, tuple(sorted(pairs["transfers.csv"], key=lambda p: p[2])),
            tuple(sorted(pairs["rejections.csv"])))


def parse_pairs(reader: Reader, name: str, table: Table) -> list[tuple[int, str, str]]:
    """The rows of transfers.csv or rejections.csv as (line, case_id, state), checked by
    `models.candidates.CasePair` once per distinct state (a monthly re-run lists tens of
    thousands of transfers over a few states). A case id is only required to be non-empty, so
    a row's problems depend on its state cell and on whether its case id is empty: that pair
    is validated once, with the messages `parse_rows` would give."""
    from models.candidates import CasePair

    checked: dict[tuple[bool, str], str | list[tuple[str, str]]] = {}
    parsed: list[tuple[int, str, str]] = []
    for line, row in table.rows:
        case_id, state = row.get("case_id", ""), row.get("state", "")
        key = (case_id == "", state)
        if key not in checked:
            data = {k: v for k, v in (("case_id", "-" if case_id else ""), ("state", state))
                    if v != ""}
            try:
                checked[key] = CasePair.model_validate(data).state
            except ValidationError as exc:
                checked[key] = [(str(e["loc"][0]) if e["loc"] else "-", _message(e))
                                for e in exc.errors()]
        outcome = checked[key]
        if isinstance(outcome, str):
            parsed.append((line, case_id, outcome))
        else:
            for column, message in outcome:
                reader.problem(name, line, column, message)
    return parsed


def toml_line(reader: Reader, loc: tuple[Any, ...]) -> int:
    """The line of a key of instance.toml (for problems found after it was parsed)."""
    text = reader.read_text("instance.toml", required=False) or ""
    return _toml_line(text, loc)


_FILE_ORDER = {name: i for i, name in enumerate(INSTANCE_FILES)}


def _problem_order(problem: Problem, reader: Reader) -> tuple[int, int, str, int, str, str]:
    """Files in INSTANCE_FILES order (a replacement table in its table's place, a variant's
    own file right after instance.toml), then line by line."""
    names = {reader.display(name): name for name in INSTANCE_FILES}
    if reader.variant is not None:
        names[reader.display(reader.variant.file)] = "instance.toml"
    name = names.get(problem.file, Path(problem.file).name)
    rank = _FILE_ORDER.get(name, len(_FILE_ORDER))
    return (rank, int(name != Path(problem.file).name), problem.file, problem.line,
            problem.column, problem.message)
