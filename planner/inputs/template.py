"""`planner template [INSTANCE] --out BOOK.xlsx`: an instance as one input workbook (issue 17,
item 1), the layout `planner.inputs.workbook` reads.

Every sheet's columns, types, drop-downs (state codes, measures, statuses, booleans), bounds,
number formats and defaults come from the row models' JSON Schemas (`models.instance`); the
words come from `planner.inputs.workbook_help`. With an instance, its rows and settings fill
the sheets, cell by cell as the instance's files hold them (numbers as numbers, read by the
instance's number format); its variants become rows of the variants sheet, but those that
replace a table (`[tables]`), which KEY=VALUE rows cannot say (the planner names them).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel

from models.instance import InstanceConfig, KeyConfig, MemberState, parse_bool
from planner.inputs import workbook_help as help_text
from planner.inputs.numbers import PLAIN, NumberError, NumberFormat
from planner.inputs.reader import Reader, numeric_annotation
from planner.inputs.variants import variant_file, variant_names
from planner.inputs.workbook import (
    FILES,
    LEFT_OUT,
    README,
    SETTINGS,
    SETTINGS_COLUMNS,
    TABLES,
    VARIANTS,
    VARIANTS_COLUMNS,
    column_letter,
    setting_keys,
    table_columns,
)

STATE_LIST = "member_states!$A$2:$A$1000"  # the codes of the member_states sheet
ROWS = 1000  # rows of a table sheet that get its drop-downs and formats
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass
class Column:
    """One column of a sheet as its schema describes it."""

    name: str
    kind: str  # text, state, choice, boolean, integer, number, list
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    default: Any = None
    description: str = ""

    @property
    def number_format(self) -> str:
        if self.kind == "number" and self.high == 1:
            return "0.00##%"  # shares and fractions
        if self.kind == "integer" or (self.kind == "number" and (self.high or 0) >= 1000):
            return "#,##0"
        return "General"


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema property without its `| None` and `$ref`."""
    options = [o for o in prop.get("anyOf", [prop]) if o.get("type") != "null"]
    found = dict(options[0]) if options else {}
    if "$ref" in found:
        found = {**defs[found["$ref"].rsplit("/", 1)[-1]], **found}
    return {**prop, **found}


def column_of(name: str, prop: dict[str, Any], defs: dict[str, Any], description: str
              ) -> Column:
    """A column from its JSON Schema property."""
    found = _resolve(prop, defs)
    kind = {"boolean": "boolean", "integer": "integer", "number": "number",
            "array": "list"}.get(found.get("type", ""), "text")
    if "enum" in found:
        kind = "choice"
    elif found.get("pattern") == "^[A-Z]{2}$":
        kind = "state"
    low = found.get("minimum", found.get("exclusiveMinimum"))
    return Column(name, kind, tuple(found.get("enum", ())), low, found.get("maximum"),
                  prop.get("default"), description)


def schema_columns(model: type[BaseModel], sheet: str) -> list[Column]:
    schema = model.model_json_schema(mode="serialization")  # keeps the state codes' pattern
    defs = schema.get("$defs", {})
    return [column_of(name, schema["properties"][name], defs,
                      help_text.COLUMNS[sheet].get(name, ""))
            for name in schema["properties"] if name != "indicators"]


def setting_columns() -> list[Column]:
    """A Column per settings key (instance.toml's schema, `workbook.setting_keys`)."""
    found = []
    for key, info in setting_keys():
        parent = _model_at(key.split(".")[:-1])
        schema = parent.model_json_schema(mode="serialization")
        column = column_of(key, schema["properties"][key.split(".")[-1]],
                           schema.get("$defs", {}), help_text.SETTINGS.get(key, ""))
        if column.default is None and info.default_factory is None and info.is_required():
            column.default = "(required)"
        found.append(column)
    return found


def _model_at(parts: list[str]) -> type[BaseModel]:
    model: type[BaseModel] = InstanceConfig
    for part in parts:
        annotation = model.model_fields[part].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    return model


# --- the instance's content ---------------------------------------------------------------

@dataclass
class Content:
    """What an instance folder holds, as cells: settings by dotted key, table rows."""

    settings: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)
    variants: list[tuple[str, str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per variant left out


def leaves(raw: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of every value of a TOML table, tables opened (key.weights too)."""
    for key, value in raw.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def cell_value(value: Any) -> Any:
    """A TOML value as the cell the workbook shows: lists `;`-separated, dates ISO."""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def read_content(folder: Path, book: Path, variants: bool = True) -> Content:
    """The settings, rows and variants (unless not `variants`) of a valid instance folder
    (`load_instance` passed)."""
    raw = tomllib.loads((folder / "instance.toml").read_text(encoding="utf-8-sig"))
    numbers = _numbers(raw)
    content = Content(settings=dict(leaves({k: v for k, v in raw.items()
                                            if k not in LEFT_OUT})))
    if "uncertainty" in raw:
        content.skipped.append("[uncertainty] is not in the workbook: a plan does not read it, "
                               "and `planner sweep` reads the instance folder")
    for key, name in FILES.items():
        if (folder / name).is_file():
            content.settings[key] = Path(os.path.relpath((folder / name).resolve(),
                                                         book.parent.resolve())).as_posix()
    weights = tuple(raw.get("key", {}).get("weights", KeyConfig().weights))
    reader = Reader(folder, numbers=numbers)
    for sheet, model in TABLES.items():
        table = reader.read_table(f"{sheet}.csv", False, ())
        if table is None:
            continue
        known = table_columns(sheet)
        extra = [c for c in table.header if c not in known]
        header = [*known, *extra]
        numeric = {c for c in known if numeric_annotation(model.model_fields[c].annotation)}
        if model is MemberState:
            numeric |= {c for c in weights if c in table.header}
        rows = [[_cell(row.get(c, ""), c in numeric, numbers, table.delimiter,
                       _is_bool(model, c)) for c in header] for _, row in table.rows]
        content.tables[sheet] = (header, rows)
    for name in variant_names(folder) if variants else []:
        _variant(content, name, tomllib.loads((folder / variant_file(name)).read_text(
            encoding="utf-8-sig")))
    return content


def _numbers(raw: dict[str, Any]) -> NumberFormat:
    given = raw.get("input", {})
    if not isinstance(given, dict) or not given:
        return PLAIN
    return NumberFormat(given.get("decimal", "."), given.get("thousands", ""), declared=True)


def _is_bool(model: type[BaseModel], column: str) -> bool:
    info = model.model_fields.get(column)
    return info is not None and "bool" in str(info.annotation)


def _cell(text: str, numeric: bool, numbers: NumberFormat, delimiter: str, boolean: bool
          ) -> Any:
    """A CSV cell as the workbook's cell: a number, true/false, or the text."""
    if text == "":
        return None
    if numeric:
        try:
            number = numbers.parse(text, delimiter)
        except NumberError:
            return text
        return int(number) if float(number).is_integer() and "." not in text and \
            "e" not in text.lower() else number
    if boolean:
        value = parse_bool(text)
        return ("true" if value else "false") if isinstance(value, bool) else text
    return text


def _variant(content: Content, name: str, raw: dict[str, Any]) -> None:
    """A variant file as rows (variant, key, value), or a line saying why it is left out."""
    if raw.get("tables"):
        tables = ", ".join(f"{k}.csv" for k in raw["tables"])
        content.skipped.append(f"variant {name} is not in the workbook: it replaces {tables} "
                               "(a workbook variant is KEY=VALUE rows)")
        return
    for key, value in leaves(raw):
        content.variants.append((name, key, cell_value(value)))


# --- writing ------------------------------------------------------------------------------

def write_template(out: Path, folder: Path | None, variants: bool = True) -> list[str]:
    """Write the workbook (an instance's content, or an empty template) to `out`, with the
    instance's variants unless not `variants`; return the lines to tell the user (variants
    left out)."""
    content = read_content(folder, out, variants) if folder is not None else Content()
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    _readme(book.create_sheet(README))
    _settings_sheet(book.create_sheet(SETTINGS), content)
    for sheet, model in TABLES.items():
        columns = schema_columns(model, sheet)
        header, rows = content.tables.get(sheet, ([c.name for c in columns], []))
        _table_sheet(book.create_sheet(sheet), columns, header, rows)
    _variants_sheet(book.create_sheet(VARIANTS), content.variants)
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(f".{out.name}.tmp")  # whole or not at all
    try:
        book.save(staged)
        staged.replace(out)
    finally:
        staged.unlink(missing_ok=True)
    return content.skipped


def _header(sheet: Worksheet, names: list[str]) -> None:
    sheet.append(names)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    sheet.freeze_panes = "A2"


def _widths(sheet: Worksheet, limit: int = 50) -> None:
    for position, column in enumerate(sheet.columns):
        longest = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        sheet.column_dimensions[column_letter(position)].width = min(limit, longest + 2)


def _validation(column: Column) -> DataValidation | None:
    """The drop-down or bound of a column's cells, from its schema."""
    found = None
    if column.kind == "state":
        found = DataValidation(type="list", formula1=STATE_LIST)
    elif column.kind in ("choice", "boolean"):
        options = column.choices if column.kind == "choice" else ("true", "false")
        found = DataValidation(type="list", formula1='"' + ",".join(options) + '"')
    elif column.kind in ("integer", "number") and column.low is not None and \
            column.high is not None:
        found = DataValidation(type="whole" if column.kind == "integer" else "decimal",
                               operator="between", formula1=repr(column.low),
                               formula2=repr(column.high))
    if found is not None:
        found.allow_blank = True
        found.showErrorMessage = True
        found.error = column.description or column.name
    return found


def _table_sheet(sheet: Worksheet, columns: list[Column], header: list[str],
                 rows: list[list[Any]]) -> None:
    _header(sheet, header)
    for row in rows:
        sheet.append(row)
    for position, name in enumerate(header):
        column = next((c for c in columns if c.name == name), None)
        if column is None:
            continue
        letter = column_letter(position)
        validation = _validation(column)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{ROWS}")
        if column.number_format != "General":
            for cells in sheet[f"{letter}2:{letter}{max(len(rows) + 1, 2)}"]:
                for cell in cells:
                    cell.number_format = column.number_format
    sheet.auto_filter.ref = sheet.dimensions
    _widths(sheet)


def _settings_sheet(sheet: Worksheet, content: Content) -> None:
    _header(sheet, list(SETTINGS_COLUMNS))
    for column in setting_columns():
        if column.name == "key.weights":
            weights = {k.split(".", 2)[2]: v for k, v in content.settings.items()
                       if k.startswith("key.weights.")}
            for name, weight in (weights or {n: None for n in KeyConfig().weights}).items():
                sheet.append([f"key.weights.{name}", weight, KeyConfig().weights.get(name),
                              column.description])
            continue
        value = cell_value(content.settings[column.name]) \
            if column.name in content.settings else None
        default = cell_value(column.default) if column.default is not None else None
        sheet.append([column.name, value, default, column.description])
        for cell in (f"B{sheet.max_row}", f"C{sheet.max_row}"):
            sheet[cell].number_format = column.number_format
        validation = _validation(column)
        if validation is not None:
            sheet.add_data_validation(validation)
            validation.add(f"B{sheet.max_row}")
    for key, file in FILES.items():
        sheet.append([key, content.settings.get(key), None,
                      help_text.SETTINGS.get(key, file)])
    _widths(sheet, 90)


def _variants_sheet(sheet: Worksheet, rows: list[tuple[str, str, Any]]) -> None:
    _header(sheet, list(VARIANTS_COLUMNS))
    for row in rows:
        sheet.append(list(row))
    _widths(sheet)


def _readme(sheet: Worksheet) -> None:
    """What every sheet, setting and column means: the schema's type, allowed values and
    default beside the words."""
    _header(sheet, ["sheet", "column or key", "type", "allowed", "default", "meaning"])
    for name, text in help_text.SHEETS.items():
        sheet.append([name, None, None, None, None, text])
    for column in setting_columns():
        sheet.append(_readme_row(SETTINGS, column))
    for key in FILES:
        sheet.append([SETTINGS, key, "path", None, None, help_text.SETTINGS[key]])
    for name, model in TABLES.items():
        for column in schema_columns(model, name):
            sheet.append(_readme_row(name, column))
    for name in VARIANTS_COLUMNS:
        sheet.append([VARIANTS, name, "text", None, None, help_text.COLUMNS[VARIANTS][name]])
    sheet.append([None, None, None, None, None, "Columns of your own (source, note) may "
                  "follow; the planner does not read them."])
    for row in sheet.iter_rows(min_row=2):
        row[5].alignment = Alignment(wrap_text=True)
    _widths(sheet, 80)


def _readme_row(sheet: str, column: Column) -> list[Any]:
    allowed = ", ".join(column.choices) if column.choices else \
        "state code" if column.kind == "state" else "true, false" \
        if column.kind == "boolean" else _bounds(column)
    default = cell_value(column.default) if column.default is not None else None
    return [sheet, column.name, column.kind, allowed, default, column.description]


def _bounds(column: Column) -> str | None:
    if column.low is None and column.high is None:
        return None
    low = "" if column.low is None else f"{column.low:g}"
    high = "" if column.high is None else f"{column.high:g}"
    return f"{low} to {high}" if low and high else f"at least {low}" if low else \
        f"at most {high}"
