"""Variants: alternative proposals over the same instance (contract, `variants/NAME.toml`).

A variant file holds three kinds of entries, each validated like the instance itself:

* any key of instance.toml (`[pool] relocations = 30000`): merged into instance.toml before
  validation, table by table; a value that is not a table of instance.toml's schema replaces
  the instance's value as a whole (so `[key] weights = {...}` is the variant's whole key);
* `[member_states.XX]` tables: `column = value` overrides of one state's cells in
  member_states.csv (any column of that file, of its schema, or a key weight column);
* `[tables]`: replacement files for `member_states`, `pledges`, `needs` and `responsibility`,
  relative to the instance folder and inside it (`pledges = "variants/pledges-x.csv"`; not an
  absolute path, a `..` above the folder or a link out of it). The person-level files
  (candidates, transfers, rejections) stay the instance's own: the matching verifier
  re-reads them.

Every problem names the file and line it comes from: a key the variant sets is reported in
`variants/NAME.toml` on that key's line (also when pydantic or a cross-check finds it), a
state override in the variant too, and a row of a replacement table in that table's file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from models.instance import STATE_CODE, InstanceConfig
from planner.errors import Problem
from planner.inputs.reader import CsvTable, Reader, near_column, parse_toml, toml_text_line

FOLDER = "variants"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
RESERVED = ("base", "comparison")  # folder names of `planner compare`'s own outputs
TABLES = {"member_states": "member_states.csv", "pledges": "pledges.csv",
          "needs": "needs.csv", "responsibility": "responsibility.csv"}
PERSON_TABLES = ("candidates", "transfers", "rejections")
STATES = "member_states.csv"


def variant_file(name: str) -> str:
    return f"{FOLDER}/{name}.toml"


def variant_names(folder: Path) -> list[str]:
    """The variants an instance ships, by name (`variants/*.toml`)."""
    directory = folder / FOLDER
    return sorted(p.stem for p in directory.glob("*.toml") if p.is_file()) \
        if directory.is_dir() else []


@dataclass
class Variant:
    """A variant file as read: its instance.toml overrides, state overrides and tables."""

    name: str
    file: str  # relative to the instance folder
    text: str
    config: dict[str, Any]
    states: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # XX -> as written
    tables: dict[str, str] = field(default_factory=dict)  # "pledges.csv" -> replacement
    # (member_states.csv line, column) -> (variant line, dotted key) of each overridden cell
    cells: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)

    def merged(self, raw: dict[str, Any]) -> dict[str, Any]:
        return merge(raw, self.config, InstanceConfig)

    def locate(self, column: str) -> tuple[str, int] | None:
        """(variant file, line) when the dotted instance.toml key `column` (or a table or value
        above it) is set by the variant; None when it comes from instance.toml."""
        if column in ("", "-"):
            return None
        node: Any = self.config
        for part in column.split("."):
            if not isinstance(node, dict):
                break  # a value the variant sets covers everything inside it
            if part not in node:
                return None
            node = node[part]
        return self.file, toml_text_line(self.text, tuple(column.split(".")))

    def relocate(self, problems: list[Problem], reader: Reader) -> list[Problem]:
        """Problems found in a member_states.csv cell the variant set, moved to the variant."""
        states, own = reader.display(STATES), reader.display(self.file)
        moved = []
        for problem in problems:
            cell = self.cells.get((problem.line, problem.column))
            if problem.file == states and cell is not None:
                problem = Problem(own, cell[0], cell[1], problem.message)
            moved.append(problem)
        return moved


def merge(raw: dict[str, Any], overrides: dict[str, Any], model: type[BaseModel]
          ) -> dict[str, Any]:
    """instance.toml's values with the variant's over them: tables of the schema key by key,
    anything else (a number, a list, a free table such as key.weights) replaced whole."""
    merged = dict(raw)
    for key, value in overrides.items():
        info = model.model_fields.get(key)
        sub = info.annotation if info is not None else None
        if (isinstance(value, dict) and isinstance(raw.get(key), dict)
                and isinstance(sub, type) and issubclass(sub, BaseModel)):
            merged[key] = merge(raw[key], value, sub)
        else:
            merged[key] = value
    return merged


def read_variant(reader: Reader, name: str) -> Variant | None:
    """Read `variants/NAME.toml` of the reader's instance; None (with the problem) when it is
    missing or not TOML. Problems of its entries are added and the bad entries dropped."""
    file = variant_file(name)
    if not NAME.fullmatch(name) or name in RESERVED:
        reader.problem(file, 0, "-", f"{name!r} cannot name a variant (letters, digits, '-', "
                       f"'_', '.'; not {' or '.join(RESERVED)})")
        return None
    if not reader.path(file).is_file():
        known = variant_names(reader.folder)
        listed = f"the instance has: {', '.join(known)}" if known else \
            f"the instance has no {FOLDER}/*.toml"
        reader.problem(file, 0, "-", f"variant {name!r} not found ({listed})")
        return None
    text = reader.read_text(file, required=True)
    raw = None if text is None else parse_toml(reader, file, text)
    if text is None or raw is None:
        return None
    variant = Variant(name, file, text, {k: v for k, v in raw.items()
                                         if k not in ("member_states", "tables")})
    _read_states(reader, variant, raw.get("member_states", {}))
    _read_tables(reader, variant, raw.get("tables", {}))
    return variant


def _problem(reader: Reader, variant: Variant, loc: tuple[str, ...], message: str) -> None:
    reader.problem(variant.file, toml_text_line(variant.text, loc), ".".join(loc), message)


def _read_states(reader: Reader, variant: Variant, raw: object) -> None:
    if not isinstance(raw, dict):
        _problem(reader, variant, ("member_states",), "must be tables [member_states.XX] of "
                 "column = value")
        return
    for written, columns in raw.items():
        code = written.strip().upper()
        if not STATE_CODE.fullmatch(code):
            _problem(reader, variant, ("member_states", written),
                     f"{written!r} is not a two-letter state code")
        elif not isinstance(columns, dict):
            _problem(reader, variant, ("member_states", written),
                     "must be a table of column = value")
        else:
            variant.states[code] = (written, columns)


def _read_tables(reader: Reader, variant: Variant, raw: object) -> None:
    if not isinstance(raw, dict):
        _problem(reader, variant, ("tables",), "must be a table of name = \"file.csv\"")
        return
    for key, value in raw.items():
        loc = ("tables", key)
        if key in PERSON_TABLES:
            _problem(reader, variant, loc, f"{key}.csv cannot be replaced by a variant (only "
                     f"{', '.join(TABLES)})")
        elif key not in TABLES:
            _problem(reader, variant, loc, f"unknown table (one of: {', '.join(TABLES)})")
        elif not isinstance(value, str) or not value.strip():
            _problem(reader, variant, loc, "must be a file name in quotes, relative to the "
                     "instance folder")
        elif not _inside(reader.folder, value):
            _problem(reader, variant, loc, f"{value!r} is outside the instance folder: a "
                     "variant may only name files inside it (relative to the folder, no '..')")
        elif not (reader.folder / value).is_file():
            _problem(reader, variant, loc, f"file not found: {reader.folder / value}")
        else:
            variant.tables[TABLES[key]] = value


def _inside(folder: Path, name: str) -> bool:
    """Whether `name` (relative to the instance folder) is a path inside it, symbolic links
    followed: an absolute path, a `..` above the folder or a link out of it is not."""
    root = folder.resolve()
    try:
        return (folder / name).resolve().is_relative_to(root)
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL in the name
        return False


def _cell(value: object) -> str | None:
    """A TOML value as the CSV cell text it stands for; None for a list, table or date."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return value if isinstance(value, str) else None


def apply_states(reader: Reader, variant: Variant, table: CsvTable, known: tuple[str, ...]
                 ) -> None:
    """Write the variant's `[member_states.XX]` values into the rows of member_states.csv,
    remembering each cell so that a problem found in it is reported in the variant."""
    rows = {row.get("code", "").upper(): (line, row) for line, row in reversed(table.rows)}
    codes = table.codes("code")
    for code, (written, columns) in sorted(variant.states.items()):
        found = rows.get(code)
        if found is None:
            if codes is not None and code not in codes:
                _problem(reader, variant, ("member_states", written),
                         f"unknown state {code} (not in {reader.display(STATES)})")
            continue  # a row with a broken cell: its own problem is reported already
        line, row = found
        for column, value in columns.items():
            loc = ("member_states", written, column)
            text = _cell(value)
            if column == "code":
                _problem(reader, variant, loc, "a variant cannot change a state's code")
            elif column not in table.header and column not in known:
                meant = near_column(column, (*table.header, *known))
                hint = f": did you mean {meant!r}?" if meant else \
                    f" (member_states.csv has: {', '.join(table.header)})"
                _problem(reader, variant, loc, f"unknown column{hint}")
            elif text is None:
                _problem(reader, variant, loc, "must be one value (text, number or boolean)")
            else:
                if column not in table.header:
                    table.header.append(column)
                row[column] = text
                variant.cells[(line, column)] = (toml_text_line(variant.text, loc), ".".join(loc))
