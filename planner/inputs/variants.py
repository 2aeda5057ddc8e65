"""Variants: alternative proposals over the same instance (contract, `variants/NAME.toml`).

A variant file holds three kinds of entries, each validated like the instance itself:

* any key of instance.toml (`[pool] relocations = 30000`): merged into instance.toml before
  validation, table by table; a value that is not a table of instance.toml's schema replaces
  the instance's value as a whole (so `[key] weights = {...}` is the variant's whole key);
* `[member_states.XX]` tables: `column = value` overrides of one state's cells in
  member_states.csv (any column of that file, of its schema, or a key weight column);
* `[pledges.ID]` tables: `column = value` overrides of the row of pledges.csv whose
  pledge_id is ID (its replacement's, when `[tables]` replaces it);
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
PLEDGES = "pledges.csv"


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
    # `[pledges.ID]` tables: pledge_id -> (as written, column = value), and their cells
    pledges: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    pledge_cells: dict[tuple[int, str], tuple[int, str]] = field(default_factory=dict)
    # Overrides given as KEY=VALUE (`--set`, planner.inputs.overrides): the variant file they
    # apply over (None: the instance itself), and where each line of `text` was written.
    under: Variant | None = None
    places: dict[int, str] = field(default_factory=dict)

    def chain(self) -> list[Variant]:
        """The variants applied, the first applied first (a file variant, then `--set`)."""
        return [*(self.under.chain() if self.under is not None else []), self]

    def merged(self, raw: dict[str, Any]) -> dict[str, Any]:
        if self.under is not None:
            raw = self.under.merged(raw)
        config = rescaled_weights(self.config, raw) if self.places else self.config
        return merge(raw, config, InstanceConfig)

    def locate(self, column: str) -> tuple[str, int] | None:
        """(variant file, line) when the dotted instance.toml key `column` (or a table or value
        above it) is set by the variant (the last applied first); None when it comes from
        instance.toml."""
        if column in ("", "-"):
            return None
        node: Any = self.config
        for part in column.split("."):
            if not isinstance(node, dict):
                break  # a value the variant sets covers everything inside it
            if part not in node:
                return self.under.locate(column) if self.under is not None else None
            node = node[part]
        return self.file, toml_text_line(self.text, tuple(column.split(".")))

    def relocate(self, problems: list[Problem], reader: Reader) -> list[Problem]:
        """Problems found in a member_states.csv or pledges.csv cell the variant set, moved to
        the variant (the last applied first); a line of KEY=VALUE overrides named as given."""
        own = reader.display(self.file)
        moved = []
        for problem in problems:
            for name, cells in ((reader.display(STATES), self.cells),
                                (reader.display(PLEDGES), self.pledge_cells)):
                cell = cells.get((problem.line, problem.column))
                if problem.file == name and cell is not None:
                    problem = Problem(own, cell[0], cell[1], problem.message)
            if problem.file == own and self.places:
                problem = Problem(self.file, problem.line, problem.column, problem.message,
                                  self.places.get(problem.line, self.file))
            moved.append(problem)
        return self.under.relocate(moved, reader) if self.under is not None else moved


def rescaled_weights(config: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """`--set` of some of the key's weights only (`key.weights.population=0.6`): the others
    are the instance's, rescaled in proportion so that the key still sums to 1 (50/50 ->
    60/40), as an analyst asking "what if population counted 60 %" means. A variant file, or
    `--set` of every weight, gives the whole key as it is."""
    given = config.get("key", {}).get("weights") if isinstance(config.get("key"), dict) \
        else None
    base = raw.get("key", {}).get("weights") if isinstance(raw.get("key"), dict) else None
    if not (isinstance(given, dict) and isinstance(base, dict) and set(given) < set(base)):
        return config
    rest = {k: v for k, v in base.items() if k not in given}
    numbers = [*given.values(), *rest.values()]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        return config  # the model's own message says what is wrong
    left, total = 1.0 - sum(given.values()), sum(rest.values())
    if total <= 0 or left < 0:
        return config
    weights = {k: (given[k] if k in given else base[k] * left / total) for k in base}
    return {**config, "key": {**config["key"], "weights": weights}}


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
    return None if text is None else variant_of_text(reader, name, file, text)


def variant_of_text(reader: Reader, name: str, file: str, text: str,
                    places: dict[int, str] | None = None) -> Variant | None:
    """A variant from its TOML text (`file` names it in problems; `places` names its lines
    where they were not written in a file); None, with the problem, when it is not TOML."""
    raw = parse_toml(reader, file, text)
    return None if raw is None else variant_of_raw(reader, name, file, text, raw, places)


def variant_of_raw(reader: Reader, name: str, file: str, text: str, raw: dict[str, Any],
                   places: dict[int, str] | None = None) -> Variant:
    """A variant from its parsed TOML `raw` (of `text`); problems of its entries are added and
    the bad entries dropped."""
    variant = Variant(name, file, text, {k: v for k, v in raw.items()
                                         if k not in ("member_states", "tables", "pledges")},
                      places=places or {})
    _read_states(reader, variant, raw.get("member_states", {}))
    _read_pledges(reader, variant, raw.get("pledges", {}))
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


def _read_pledges(reader: Reader, variant: Variant, raw: object) -> None:
    """`[pledges.ID]` tables: `column = value` overrides of one row of pledges.csv."""
    if not isinstance(raw, dict):
        _problem(reader, variant, ("pledges",), "must be tables [pledges.ID] of column = value")
        return
    for written, columns in raw.items():
        if not isinstance(columns, dict):
            _problem(reader, variant, ("pledges", written), "must be a table of column = value")
        else:
            variant.pledges[written.strip()] = (written, columns)


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
        _apply_row(reader, variant, table, known, ("member_states", written, "code"), found,
                   columns, variant.cells)


def apply_pledges(reader: Reader, variant: Variant, table: CsvTable, known: tuple[str, ...]
                  ) -> None:
    """Write the variant's `[pledges.ID]` values into the rows of pledges.csv (the row whose
    pledge_id is ID), remembering each cell as `apply_states` does."""
    rows = {row.get("pledge_id", ""): (line, row) for line, row in reversed(table.rows)}
    named = {row.get("pledge_id", "") for row in table.named}
    for pledge_id, (written, columns) in sorted(variant.pledges.items()):
        found = rows.get(pledge_id)
        if found is None:
            if pledge_id not in named:
                _problem(reader, variant, ("pledges", written),
                         f"unknown pledge {pledge_id!r} (not in {reader.display(PLEDGES)})")
            continue  # a row with a broken cell: its own problem is reported already
        _apply_row(reader, variant, table, known, ("pledges", written, "pledge_id"), found,
                   columns, variant.pledge_cells)


def _apply_row(reader: Reader, variant: Variant, table: CsvTable, known: tuple[str, ...],
               where: tuple[str, str, str], found: tuple[int, dict[str, str]],
               columns: dict[str, Any], cells: dict[tuple[int, str], tuple[int, str]]) -> None:
    """Write `columns` into one row of `table`; `where` is (table, row as written, the
    column that names the row, which cannot change)."""
    line, row = found
    for column, value in columns.items():
        loc = (where[0], where[1], column)
        text = _cell(value)
        if column == where[2]:
            _problem(reader, variant, loc, "a variant cannot change a state's code"
                     if where[0] == "member_states" else "a variant cannot change a pledge's "
                     "pledge_id")
        elif column not in table.header and column not in known:
            meant = near_column(column, (*table.header, *known))
            hint = f": did you mean {meant!r}?" if meant else \
                f" ({where[0]}.csv has: {', '.join(table.header)})"
            _problem(reader, variant, loc, f"unknown column{hint}")
        elif text is None:
            _problem(reader, variant, loc, "must be one value (text, number or boolean)")
        else:
            if column not in table.header:
                table.header.append(column)
            row[column] = text
            cells[(line, column)] = (toml_text_line(variant.text, loc), ".".join(loc))
