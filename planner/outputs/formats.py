"""A verified run folder's tables again as xlsx, json and parquet (`planner run --format`).

The CSV files are the source: they are always written and verified first. Every other format is
built from them, each row read back through its pydantic row model, so every format holds
exactly the CSV's values, typed by the model: numbers as numbers, booleans as booleans, an empty
cell as empty (null), `;`-lists as lists (as the CSV's `;` text in xlsx).

Beside the CSVs:
- xlsx: `tables.xlsx`, a `summary` sheet (summary.json as labelled sections with units,
  without the timings, which change at every rerun) then one sheet per table, and for a
  comparison a `by_state` sheet (planner.outputs.sheets: the layout, the number formats taken
  from the row models' units: thousands separators, EUR, % for shares and ratios); bold
  filled header row, frozen, with a filter; column widths fitted to the text as shown.
- json: `tables.json`, `{"TABLE": [record, ...], ...}`: tables in run order, one record per
  line, keys in column order (summary.json is already JSON).
- parquet: `parquet/TABLE.parquet`, one file per table (the optional `parquet` extra: pyarrow).
Candidate-level tables (planner.outputs.registry: `personal`) never share a file with the
aggregate tables: they go to `persons.xlsx`, `persons.json` and their own parquet files, all
created mode 0600 like their CSVs. Reruns give byte-identical files (fixed xlsx timestamps).
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from io import BytesIO
from pathlib import Path
from typing import Any, Literal, Union, cast, get_args, get_origin
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from pydantic.fields import FieldInfo

from models.results import AllocationRow, Summary
from planner.errors import PlanError
from planner.outputs.fileio import fmt, read_summary, read_table, write_file
from planner.outputs.registry import ALLOCATION, RUN_TABLES, SUMMARY, OutputFile
from planner.outputs.sheets import by_state_sheet, rows_sheet, summary_sheet, unit_format

FORMATS = ("csv", "xlsx", "json", "parquet")
PARQUET_HINT = "pip install 'solidarity-pool-planner[parquet]'"
FIXED_TIME = datetime(1980, 1, 1)  # the earliest time a zip entry can hold

Kind = Literal["float", "int", "bool", "str", "list"]
Cell = float | int | bool | str | list[str] | None


class FormatError(PlanError):
    """An export cannot be written (unknown format, pyarrow missing, a CSV off its schema)."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool
    unit: str | None = None  # the row model's unit (planner.outputs.sheets.UNIT_FORMATS)


@dataclass(frozen=True)
class ExportTable:
    """One table's cells, typed by its row model's columns, ready for any format."""

    name: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]
    personal: bool


def unit_of(field: FieldInfo) -> str | None:
    """A row model's field's unit (models.results `_unit`), if it has one."""
    extra = field.json_schema_extra
    return str(extra["unit"]) if isinstance(extra, dict) and "unit" in extra else None


def column(name: str, annotation: object, unit: str | None = None) -> Column:
    """The cell kind of a row model's field, from its type (Annotated metadata is stripped)."""
    nullable = False
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        annotation = args[0] if len(args) == 1 else annotation
    kinds: dict[object, Kind] = {bool: "bool", int: "int", float: "float", str: "str"}
    if annotation in kinds:
        return Column(name, kinds[annotation], nullable, unit)
    if get_origin(annotation) is Literal and all(isinstance(a, str) for a in get_args(annotation)):
        return Column(name, "str", nullable)
    if isinstance(annotation, type) and issubclass(annotation, str):  # a StrEnum
        return Column(name, "str", nullable)
    if get_origin(annotation) is tuple and get_args(annotation) == (str, ...):
        return Column(name, "list", nullable)
    raise TypeError(f"no export type for column {name}: {annotation!r}")


def typed(value: object, kind: Kind) -> Cell:
    if value is None:
        return None
    if kind == "list":
        return [str(v) for v in cast("tuple[str, ...]", value)]  # a list column's cell
    if kind == "str":
        return str(value.value) if isinstance(value, Enum) else str(value)
    return {"float": float, "int": int, "bool": bool}[kind](value)


def export_table(path: Path, table: OutputFile[Any]) -> ExportTable:
    """A verified CSV, each row validated by the table's model and typed by its columns."""
    cols = tuple(column(name, f.annotation, unit_of(f))
                 for name, f in table.model.model_fields.items())
    rows = [tuple(typed(getattr(record, c.name), c.kind) for c in cols)
            for record in read_table(path, table)]
    return ExportTable(table.name, cols, rows, table.personal)


def summary_of(folder: Path) -> Summary | None:
    """The run's summary.json (None: the folder has none, as a comparison's)."""
    path = folder / SUMMARY.file
    return read_summary(path) if path.is_file() else None


# --- xlsx -----------------------------------------------------------------------------------

def _number_text(original: Callable[[object], str]) -> Callable[[object], str]:
    """A stand-in for openpyxl's safe_string, whose "%.16g" can drop the 17th digit a float
    needs to read back as itself: floats by repr (shortest exact), ints whole."""
    def safe_string(value: object) -> str:
        if type(value) is float:
            return repr(value)
        if type(value) is int:
            return str(value)
        return original(value)
    return safe_string


def _table_sheet(workbook: Any, table: ExportTable) -> None:
    """One table's sheet, each number formatted by its column's unit (a `measure` column's
    by the row's measure: persons or EUR)."""
    names = [c.name for c in table.columns]
    formats = [[unit_format(c.unit, dict(zip(names, row, strict=True))) for c in table.columns]
               for row in table.rows]
    rows_sheet(workbook, table.name, names, table.rows, lambda r, c: formats[r][c], fmt)


def _repack(data: bytes) -> bytes:
    """The same zip with fixed entry times and modes (zipfile stamps the current time)."""
    out = BytesIO()
    with ZipFile(BytesIO(data)) as source, ZipFile(out, "w", ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info))
    return out.getvalue()


def xlsx_bytes(tables: Sequence[ExportTable], summary: Summary | None,
               by_state: Sequence[tuple[str, Sequence[AllocationRow]]] = ()) -> bytes:
    """The workbook: the summary sheet (a run's), a sheet per table, then the comparison by
    state (`by_state`: each run's name and allocation rows, the base first)."""
    import openpyxl.cell._writer as cell_writer
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook()
    if workbook.active is not None:  # a new workbook's one empty sheet
        workbook.remove(workbook.active)
    if summary is not None:
        summary_sheet(workbook, summary)
    for table in tables:
        _table_sheet(workbook, table)
    if by_state:
        by_state_sheet(workbook, by_state)
    props = workbook.properties
    props.creator, props.created, props.modified = "solidarity-pool-planner", FIXED_TIME, FIXED_TIME
    buffer = BytesIO()
    # ExcelWriter rather than save_workbook, which stamps the current time into core.xml.
    from unittest import mock  # here: importing it costs every run about 60 ms

    # safe_string is missing from openpyxl's stubs (types-openpyxl), not from openpyxl.
    safe_string = cell_writer.safe_string  # type: ignore[attr-defined]
    with mock.patch.object(cell_writer, "safe_string", _number_text(safe_string)):
        ExcelWriter(workbook, ZipFile(buffer, "w", ZIP_DEFLATED, allowZip64=True)).save()
    return _repack(buffer.getvalue())


# --- json and parquet -----------------------------------------------------------------------

def json_bytes(tables: Sequence[ExportTable]) -> bytes:
    parts = []
    for table in tables:
        names = [c.name for c in table.columns]
        try:
            records = [json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False,
                                  allow_nan=False) for row in table.rows]
        except ValueError as exc:
            raise FormatError(f"{table.name}: {exc}") from exc
        body = "".join(f"\n    {r}," for r in records).removesuffix(",")
        parts.append(f"  {json.dumps(table.name)}: [{body}{chr(10) + '  ' if records else ''}]")
    return ("{\n" + ",\n".join(parts) + "\n}\n" if parts else "{}\n").encode()


def parquet_available() -> bool:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def parquet_bytes(table: ExportTable) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(), "str": pa.string(),
             "list": pa.list_(pa.string())}
    schema = pa.schema([pa.field(c.name, kinds[c.kind], nullable=c.nullable)
                        for c in table.columns])
    arrays = [pa.array([row[i] for row in table.rows], type=kinds[c.kind])
              for i, c in enumerate(table.columns)]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), sink)
    return sink.getvalue().to_pybytes()


# --- writing --------------------------------------------------------------------------------

def check_formats(formats: Sequence[str]) -> list[str]:
    """Why `formats` cannot be written, one message each (none: they can)."""
    problems = [f"--format: {f!r} is not one of: {', '.join(FORMATS)}"
                for f in dict.fromkeys(formats) if f not in FORMATS]
    if "parquet" in formats and not parquet_available():
        problems.append(f"--format parquet needs pyarrow, which is not installed: {PARQUET_HINT}")
    return problems


def write_formats(folder: Path, formats: Sequence[str],
                  tables: Sequence[OutputFile[Any]] = RUN_TABLES,
                  runs: Sequence[Path] = ()) -> None:
    """Write `folder`'s verified CSV tables (those of `tables` present) again in each of
    `formats`; csv is always there. Personal tables go to files of their own, mode 0600.
    `runs`: a comparison's run folders (the base first), whose allocation.csv files make the
    by-state sheet of its tables.xlsx."""
    problems = check_formats(formats)
    if problems:
        raise FormatError("; ".join(problems))
    wanted = set(formats) - {"csv"}
    if not wanted:
        return
    read = [export_table(folder / t.file, t) for t in tables if (folder / t.file).is_file()]
    shared = [t for t in read if not t.personal]
    private = [t for t in read if t.personal]
    summary = summary_of(folder)
    if "xlsx" in wanted:
        by_state = [(run.name, read_table(run / ALLOCATION.file, ALLOCATION)) for run in runs]
        if shared or summary is not None:
            write_file(folder / "tables.xlsx", xlsx_bytes(shared, summary, by_state), False)
        if private:
            write_file(folder / "persons.xlsx", xlsx_bytes(private, None), True)
    if "json" in wanted:
        if shared:
            write_file(folder / "tables.json", json_bytes(shared), False)
        if private:
            write_file(folder / "persons.json", json_bytes(private), True)
    if "parquet" in wanted:
        (folder / "parquet").mkdir(exist_ok=True)
        for table in read:
            write_file(folder / "parquet" / f"{table.name}.parquet", parquet_bytes(table),
                       table.personal)
