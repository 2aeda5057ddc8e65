"""The input workbook (issue 17, item 1): an instance as one .xlsx file, read wherever an
instance folder is read (`planner run`, `validate`, `compare`, `verify --instance`).

Layout, derived from the pydantic models (`models.instance`, their JSON Schemas):

* `settings`: instance.toml as rows `key | value | default | description`, one per leaf key
  of `InstanceConfig` (`pool.relocations`), `key.weights.COLUMN` per key column, and
  `files.candidates`, `files.transfers`, `files.rejections`: the person-level CSV files,
  by a path relative to the workbook (personal data never goes into a workbook that gets
  emailed around). An empty value is "not given": the default applies.
* `member_states`, `pledges`, `needs`, `responsibility`: the CSV files, a header row then one
  row per record, the columns of their row models (and the key's columns, and any column of
  your own, which the planner does not read). An empty needs or responsibility sheet is no
  such file.
* `variants` (optional): rows `variant | key | value`; the rows of one variant make it, each
  read as `--set KEY=VALUE` reads it (`planner.inputs.overrides`).
* `README`: what every sheet and column means (written by `planner template`, not read).

Reading is materialising: the sheets become the files of an instance folder in a temporary
folder (`instance_folder`), which the loader reads as any folder; each problem is then named
by the workbook's cell (`BOOK.xlsx:pledges!E7: max: ...`). The reader is python-calamine: on a
10,000-row pledges sheet it read every cell in 0.06 s against openpyxl's 0.55 s (read-only),
and it imports in 1 ms against 136 ms (bench/README.md, "Issue 17: the workbook reader").
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import json
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from models.instance import InstanceConfig, MemberState, Need, Pledge, Responsibility
from planner.errors import InputError, Problem
from planner.inputs.overrides import key_parts, typed_value
from planner.inputs.variants import NAME, RESERVED, variant_file

SETTINGS, VARIANTS, README = "settings", "variants", "README"
TABLES: dict[str, type[BaseModel]] = {"member_states": MemberState, "pledges": Pledge,
                                      "needs": Need, "responsibility": Responsibility}
OPTIONAL_TABLES = ("needs", "responsibility")  # an empty sheet is no file
FILES = {"files.candidates": "candidates.csv", "files.transfers": "transfers.csv",
         "files.rejections": "rejections.csv"}
SETTINGS_COLUMNS = ("key", "value", "default", "description")
VARIANTS_COLUMNS = ("variant", "key", "value")
SHEETS = (README, SETTINGS, *TABLES, VARIANTS)
SUFFIXES = (".xlsx", ".xlsm")


def is_workbook(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES and not path.is_dir()


def table_columns(sheet: str) -> tuple[str, ...]:
    """The columns of a table sheet: its row model's fields (the key's are extra)."""
    return tuple(c for c in TABLES[sheet].model_fields if c != "indicators")


# instance.toml's tables the workbook's settings leave out: `[input]` (a workbook's numbers are
# cells, not text) and `[uncertainty]` (the draws of `planner sweep`, which reads an instance
# folder; a plan does not read them).
LEFT_OUT = ("input", "uncertainty")


def setting_keys(model: type[BaseModel] = InstanceConfig, prefix: str = ""
                 ) -> list[tuple[str, Any]]:
    """(dotted key, field) of every leaf of instance.toml's schema but its `LEFT_OUT` tables,
    in the schema's order; `key.weights` is one leaf (a row per key column)."""
    found = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = info.annotation
        if key in LEFT_OUT:
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += setting_keys(annotation, f"{key}.")
        else:
            found.append((key, info))
    return found


def column_letter(index: int) -> str:
    """A 0-based column index as the spreadsheet names it (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_text(value: Any) -> str:
    """A cell as the CSV or TOML text it stands for: numbers plainly (a whole number without
    `.0`: spreadsheets store every number as a float), booleans true/false, dates ISO; a line
    break inside a cell becomes a space, so that a sheet's row N is the CSV file's line N."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return " ".join(str(value).splitlines())


def toml_value(value: Any) -> str:
    """A typed value (`planner.inputs.overrides.typed_value`) as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(v)}"
                                for k, v in value.items()) + " }"
    return json.dumps(str(value))


def toml_key(parts: tuple[str, ...]) -> str:
    return ".".join(json.dumps(part) for part in parts)


def read_sheets(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cells by position: row 0 is the sheet's row 1, column 0 its column A
    (python-calamine gives the used range: the rows and columns before it are put back)."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheets: dict[str, list[list[Any]]] = {}
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python()
            start = sheet.start or (0, 0)
            sheets[name] = [[] for _ in range(start[0])] + \
                [["" for _ in range(start[1])] + list(row) for row in rows]
        return sheets
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError([Problem(str(path), 0, "-", f"cannot be read as a workbook (.xlsx): "
                                  f"{exc}", str(path))]) from exc


@dataclass
class Book:
    """A workbook read into the files of an instance folder, with where each came from."""

    path: Path
    files: dict[str, str] = field(default_factory=dict)  # file name -> its text
    links: dict[str, Path] = field(default_factory=dict)  # candidates.csv -> the user's file
    headers: dict[str, list[str]] = field(default_factory=dict)  # file name -> its header
    sheets: dict[str, str] = field(default_factory=dict)  # file name -> sheet
    lines: dict[tuple[str, int], str] = field(default_factory=dict)  # (TOML file, line) -> cell
    problems: list[Problem] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return str(self.path)

    def cell(self, sheet: str, row: int, column: int | None = None) -> str:
        """`BOOK.xlsx:sheet!E7`; a whole row `sheet!7:7`; the sheet `BOOK.xlsx:sheet`."""
        if row <= 0:
            return f"{self.shown}:{sheet}"
        if column is None:
            return f"{self.shown}:{sheet}!{row}:{row}"
        return f"{self.shown}:{sheet}!{column_letter(column)}{row}"

    def problem(self, sheet: str, row: int, column: int | None, key: str, message: str) -> None:
        self.problems.append(Problem(f"{self.shown}:{sheet}", row, key, message,
                                     self.cell(sheet, row, column)))

    def placed(self, problems: list[Problem], folder: Path) -> list[Problem]:
        """The loader's problems about the materialised files in `folder`, named by the
        workbook's cells (a person-level file by the user's own path)."""
        return [self._placed(problem, folder) for problem in problems]

    def _placed(self, problem: Problem, folder: Path) -> Problem:
        if problem.place:
            return problem
        message = self._message(problem.message, folder)
        try:
            name = Path(problem.file).relative_to(folder).as_posix()
        except ValueError:
            return Problem(problem.file, problem.line, problem.column, message)
        if name in self.links:
            return Problem(str(self.links[name]), problem.line, problem.column, message)
        if name.removesuffix(".csv") in TABLES:
            header = self.headers.get(name, [])
            column = header.index(problem.column) if problem.column in header else None
            if problem.line == 0 and message == "required file is missing":
                message = "required sheet is missing"
            place = self.cell(name.removesuffix(".csv"), problem.line, column)
        else:
            sheet = VARIANTS if name.startswith("variants/") else self.sheets.get(name, name)
            place = self.lines.get((name, problem.line), self.cell(sheet, 0))
        return Problem(problem.file, problem.line, problem.column, message, place)

    def _message(self, message: str, folder: Path) -> str:
        """A message quoting a materialised file's path names the sheet instead."""
        for name, sheet in self.sheets.items():
            message = message.replace(str(folder / name), f"{self.shown}:{sheet}")
        return message.replace(str(folder), str(self.path.parent))

    def materialise(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        for name, text in self.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
        for name, target in self.links.items():
            (folder / name).symlink_to(target.resolve())


def read_book(path: Path) -> Book:
    """A workbook's sheets as instance files (module docstring); problems of its layout
    (unknown sheets, settings and variants rows) in `Book.problems`, by cell."""
    if not path.is_file():
        raise InputError([Problem(str(path), 0, "-", "workbook not found", str(path))])
    sheets = read_sheets(path)
    book = Book(path)
    for name in sheets:
        if name not in SHEETS:
            meant = difflib.get_close_matches(name, SHEETS, n=1, cutoff=0.8)
            if meant:
                book.problem(name, 0, None, "-", f"unknown sheet: did you mean {meant[0]!r}?")
    for sheet in TABLES:
        if sheet in sheets:
            _table(book, sheet, sheets[sheet])
    if SETTINGS in sheets:
        _settings(book, sheets[SETTINGS])
    else:
        book.sheets["instance.toml"] = SETTINGS
        book.problem(SETTINGS, 0, None, "-", "required sheet is missing")
    if VARIANTS in sheets:
        _variants(book, sheets[VARIANTS])
    return book


def _table(book: Book, sheet: str, rows: list[list[Any]]) -> None:
    """A table sheet as its CSV file, row N of the sheet on line N."""
    name = f"{sheet}.csv"
    texts = [[cell_text(v) for v in row] for row in rows]
    while texts and not any(texts[-1]):
        texts.pop()
    if sheet in OPTIONAL_TABLES and not any(any(row) for row in texts[1:]):
        return  # an empty optional sheet: no such file
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in texts:
        writer.writerow(row)
    book.files[name] = out.getvalue()
    book.headers[name] = [h.strip() for h in texts[0]] if texts else []
    book.sheets[name] = sheet


def _columns(book: Book, sheet: str, rows: list[list[Any]], wanted: tuple[str, ...]
             ) -> dict[str, int] | None:
    """The positions of a key/value sheet's columns, None (with the problem) when one is
    missing."""
    header = [cell_text(v).strip() for v in rows[0]] if rows else []
    missing = [c for c in wanted if c not in header]
    if missing:
        book.problem(sheet, 1, None, missing[0], "required column is missing (the header row "
                     f"must name {', '.join(wanted)})")
        return None
    return {c: header.index(c) for c in wanted}


def _cells(row: list[Any], at: dict[str, int], *names: str) -> list[str]:
    return [cell_text(row[at[n]]).strip() if at[n] < len(row) else "" for n in names]


def _settings(book: Book, rows: list[list[Any]]) -> None:
    """The settings sheet as instance.toml (one line per given key, line -> value cell) and
    the person-level files it names."""
    book.sheets["instance.toml"] = SETTINGS
    at = _columns(book, SETTINGS, rows, ("key", "value"))
    lines = [f"# instance.toml of {book.path.name} (the settings sheet)"]
    if at is None:
        book.files["instance.toml"] = lines[0] + "\n"
        return
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        key, value = _cells(row, at, "key", "value")
        column = at["value"]
        if not key or not value:
            continue  # a blank row, or a key left to its default
        if key in seen:
            book.problem(SETTINGS, number, at["key"], key, f"set twice (first on row "
                         f"{seen[key]})")
        elif key in FILES:
            _link(book, number, column, key, value)
        elif key.split(".")[0] == "input":
            book.problem(SETTINGS, number, at["key"], key, "not used in a workbook: its "
                         "numbers are cells, read as numbers")
        else:
            parts = key_parts(key)
            lines.append(f"{toml_key(parts)} = {toml_value(typed_value(parts, value))}")
            book.lines[("instance.toml", len(lines))] = book.cell(SETTINGS, number, column)
        seen.setdefault(key, number)
    book.files["instance.toml"] = "\n".join(lines) + "\n"


def _link(book: Book, row: int, column: int, key: str, value: str) -> None:
    """A person-level file the settings name, relative to the workbook's folder."""
    target = book.path.parent / value
    if not target.is_file():
        book.problem(SETTINGS, row, column, key, f"file not found: {target}")
    else:
        book.links[FILES[key]] = target


def _variants(book: Book, rows: list[list[Any]]) -> None:
    """The variants sheet: one variants/NAME.toml per variant named, its rows' assignments
    one per line (line -> value cell)."""
    at = _columns(book, VARIANTS, rows, VARIANTS_COLUMNS)
    if at is None:
        return
    texts: dict[str, list[str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for number, row in enumerate(rows[1:], start=2):
        name, key, value = _cells(row, at, *VARIANTS_COLUMNS)
        if not name and not key:
            continue
        if not NAME.fullmatch(name) or name in RESERVED:
            book.problem(VARIANTS, number, at["variant"], "variant", f"{name!r} cannot name "
                         "a variant (letters, digits, '-', '_', '.'; not base or comparison)")
            continue
        if (name, key) in seen:
            book.problem(VARIANTS, number, at["key"], key, f"set twice in variant {name} "
                         f"(first on row {seen[name, key]})")
            continue
        seen[name, key] = number
        file = variant_file(name)
        lines = texts.setdefault(name, [f"# variant {name} of {book.path.name}"])
        parts = key_parts(key) if key else ("-",)
        lines.append(f"{toml_key(parts)} = {toml_value(typed_value(parts, value))}")
        book.lines[(file, len(lines))] = book.cell(VARIANTS, number, at["value"])
        book.sheets[file] = VARIANTS
    for name, lines in texts.items():
        book.files[variant_file(name)] = "\n".join(lines) + "\n"


@contextmanager
def instance_folder(path: Path, variant: str | None = None, sets: Sequence[str] = ()
                    ) -> Iterator[Path]:
    """The instance folder `path`, or a workbook's files materialised in a temporary folder
    named after it (removed at the end); an `InputError` raised inside names the workbook's
    cells. Problems of the workbook's layout are raised on entering, with those of loading
    the `variant` with the `sets` (what the caller is about to load)."""
    if not is_workbook(path):
        yield path
        return
    book = read_book(path)
    with tempfile.TemporaryDirectory(prefix="planner-book-") as tmp:
        folder = Path(tmp) / path.stem
        book.materialise(folder)
        try:
            if book.problems:
                _raise_all(book, folder, variant, sets)
            yield folder
        except InputError as exc:
            raise InputError(book.placed(exc.problems, folder)) from None


def _raise_all(book: Book, folder: Path, variant: str | None, sets: Sequence[str]) -> None:
    """The workbook's own problems with those of the files it makes, all at once."""
    from planner.inputs.load import load_instance

    others: list[Problem] = []
    try:
        load_instance(folder, variant, sets)
    except InputError as exc:
        others = exc.problems
    raise InputError([*book.problems, *others])
