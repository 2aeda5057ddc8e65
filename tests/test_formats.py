"""`planner run --format`: every export holds exactly the CSV's values, typed; reruns are
byte-identical; candidate-level files are 0600 in every format; bad formats are exit 2."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal
from zipfile import ZipFile

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import HANG_S
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from models.instance import Bool, Measure, TextList
from models.results import Finite, OptFloat
from planner.cli import app
from planner.outputs.fileio import TableError, fmt
from planner.outputs.formats import PARQUET_HINT, FormatError, write_formats
from planner.outputs.registry import ASSIGNMENTS, RUN_TABLES, UNASSIGNED, OutputFile

pytestmark = [pytest.mark.solver, pytest.mark.cli]

REPO = Path(__file__).resolve().parents[1]
EU_2026 = REPO / "instances" / "eu-2026"
PLANNER = Path(sys.executable).parent / "planner"
SHARED = [t.name for t in RUN_TABLES if not t.personal]
PERSONAL = [t.name for t in RUN_TABLES if t.personal]
EXPORTS = ["tables.xlsx", "persons.xlsx", "tables.json", "persons.json",
           *(f"parquet/{t.name}.parquet" for t in RUN_TABLES)]
PRIVATE = ["persons.xlsx", "persons.json", "parquet/assignments.parquet",
           "parquet/unassigned.parquet"]


def planner(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PLANNER), *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=HANG_S, check=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    """Two runs of the bundled instance (1,200 candidates) with every format."""
    base = tmp_path_factory.mktemp("formats")
    for name in ("a", "b"):
        done = planner("run", EU_2026, "--out", base / name, "-q", "--format", "xlsx",
                       "--format", "json", "--format", "parquet")
        assert done.returncode == 0, done.stderr
    return base / "a", base / "b"


def parse(text: str, value: object) -> object:
    """The CSV's text parsed by the type of the value its row model gives it."""
    if value is None:
        assert text == ""
        return None
    if isinstance(value, bool):
        return {"true": True, "false": False}[text]
    if isinstance(value, float):
        return float(text)
    if isinstance(value, int):
        return int(text)
    if isinstance(value, tuple):
        return text.split(";") if text else []
    return text


def csv_table(folder: Path, table: OutputFile) -> tuple[list[str], list[list[object]]]:
    model = table.model
    with (folder / table.file).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = [[parse(row[c], getattr(model.model_validate(row), c)) for c in header]
                for row in reader]
    return header, rows


def same(got: object, want: object) -> bool:
    """Equal and of the same type (1 and 1.0 and True are three different cells)."""
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            same(g, w) for g, w in zip(got, want, strict=True))
    return type(got) is type(want) and got == want


def in_excel(value: object) -> object:
    """A cell holds one value: a list as its CSV `;` text; empty text is an empty cell."""
    if isinstance(value, list):
        value = ";".join(value)
    return None if value == "" else value


def assert_rows(got: list[list[object]], want: list[list[object]], where: str) -> None:
    assert len(got) == len(want), where
    for line, (g, w) in enumerate(zip(got, want, strict=True), start=2):
        assert same(g, w), f"{where}, CSV line {line}: {g!r} != {w!r}"


def test_every_format_holds_the_csv_values(runs) -> None:
    out, _ = runs
    tables = openpyxl.load_workbook(out / "tables.xlsx")
    persons = openpyxl.load_workbook(out / "persons.xlsx")
    assert tables.sheetnames == ["summary", *SHARED]
    assert persons.sheetnames == PERSONAL
    records = {**json.loads((out / "tables.json").read_text(encoding="utf-8")),
               **json.loads((out / "persons.json").read_text(encoding="utf-8"))}
    assert list(json.loads((out / "tables.json").read_text())) == SHARED
    assert sorted(p.name for p in (out / "parquet").iterdir()) == sorted(
        f"{t.name}.parquet" for t in RUN_TABLES)
    for entry in RUN_TABLES:
        name = entry.name
        header, want = csv_table(out, entry)
        assert want or name == "matchability", f"{name}.csv is empty: the test would prove little"
        sheet = (persons if name in PERSONAL else tables)[name]
        cells = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert cells[0] == header
        assert_rows(cells[1:], [[in_excel(v) for v in row] for row in want], f"{name} xlsx")
        assert all(list(r) == header for r in records[name]), f"{name} json key order"
        assert_rows([list(r.values()) for r in records[name]], want, f"{name} json")
        table = pq.read_table(out / "parquet" / f"{name}.parquet")
        assert table.column_names == header
        assert_rows([list(r.values()) for r in table.to_pylist()], want, f"{name} parquet")


def test_parquet_columns_carry_the_model_types(runs) -> None:
    out, _ = runs
    plan = pq.read_schema(out / "parquet" / "plan.parquet")
    assert (plan.field("amount").type, plan.field("amount").nullable) == (pa.float64(), False)
    assert (plan.field("max").type, plan.field("max").nullable) == (pa.float64(), True)
    assert plan.field("preference").type == pa.int64()
    assert plan.field("measure").type == pa.string()
    assert plan.field("beneficiary").type == pa.list_(pa.string())
    assert pq.read_schema(out / "parquet" / "coverage.parquet").field(
        "need_stated").type == pa.bool_()


def test_reruns_are_byte_identical(runs) -> None:
    a, b = runs
    for name in EXPORTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in ("tables.xlsx", "persons.xlsx"):
        with ZipFile(a / name) as archive:
            assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
            core = archive.read("docProps/core.xml").decode()
        assert re.findall(r"<dcterms:(\w+)[^>]*>([^<]*)<", core) == [
            ("created", "1980-01-01T00:00:00Z"), ("modified", "1980-01-01T00:00:00Z")]


def test_personal_data_is_private_in_every_format(runs) -> None:
    out, _ = runs
    for name in PRIVATE:
        assert (out / name).stat().st_mode & 0o777 == 0o600, name
    shared_mode = (out / "plan.csv").stat().st_mode & 0o777
    for name in ("tables.xlsx", "tables.json", *(f"parquet/{n}.parquet" for n in SHARED)):
        assert (out / name).stat().st_mode & 0o777 == shared_mode, name
    # No candidate id in any shared file.
    _, assigned = csv_table(out, ASSIGNMENTS)
    _, waiting = csv_table(out, UNASSIGNED)
    ids = {str(row[0]) for row in assigned + waiting}
    text = (out / "tables.json").read_text(encoding="utf-8")
    assert not {i for i in ids if f'"{i}"' in text}
    workbook = openpyxl.load_workbook(out / "tables.xlsx")
    cells = {c for ws in workbook for row in ws.iter_rows(values_only=True) for c in row}
    assert not ids & cells


def test_xlsx_header_styling_frozen_and_widths(runs) -> None:
    out, _ = runs
    for book in ("tables.xlsx", "persons.xlsx"):
        for sheet in openpyxl.load_workbook(out / book):
            assert sheet.freeze_panes == "A2", sheet.title
            assert sheet.auto_filter.ref == sheet.dimensions
            for cell in sheet[1]:
                assert cell.font.b and cell.fill.fill_type == "solid"
                assert cell.fill.fgColor.rgb == "00DDEBF7"
            for column in sheet.iter_cols():
                longest = max(len(fmt(c.value)) for c in column)  # the CSV's text
                width = sheet.column_dimensions[column[0].column_letter].width
                assert min(longest + 2, 60) <= width <= 60, (sheet.title, column[0].value)
            bold = [(c.column, sheet.cell(c.row, 2).value)
                    for row in sheet.iter_rows(min_row=2) for c in row if c.font.b]
            # Only the summary's section headings: first column, nothing beside them.
            assert bool(bold) == (sheet.title == "summary"), sheet.title
            assert all(where == (1, None) for where in bold), sheet.title


def test_summary_sheet_is_readable_sections_with_units(runs) -> None:
    """summary.json as labelled sections (no key/value dump, no timings), each figure a number
    with its unit and the unit's number format, equal to summary.json's."""
    out, _ = runs
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    sheet = openpyxl.load_workbook(out / "tables.xlsx")["summary"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("item", "value", "unit")
    headings = [r[0] for r in rows[1:] if r[1] is None and r[2] is None
                and sheet.cell(rows.index(r) + 1, 1).font.b]
    assert headings == ["Run", "Pool and key", "Totals", "Responsibility offsets (Art. 63)",
                        "Distribution (Art. 60(2))", "Matching", "Warnings", "Information"]
    values = {r[0]: (r[1], r[2]) for r in rows[1:]}
    totals = data["totals"]
    assert values["Obligations"] == (totals["obligation"], "relocation-equivalents")
    assert values["Shortfall (owed, not planned)"] == (totals["shortfall"],
                                                      "relocation-equivalents")
    assert values["Financial contributions"] == (totals["financial_eur"], "EUR")
    assert values["Council's pool (Art. 57): relocations"] == (21_000, "persons")
    assert values["Placed"] == (data["matching"]["persons_assigned"], "persons")
    assert values["Status"] == ("optimal", None)
    assert [r[0] for r in rows if r[0] in data["warnings"]] == data["warnings"]
    assert not any("timings" in str(r[0]).lower() for r in rows)
    formats = {sheet.cell(i, 3).value: sheet.cell(i, 2).number_format
               for i in range(2, sheet.max_row + 1) if sheet.cell(i, 3).value}
    assert formats == {"persons": "#,##0", "EUR": '#,##0" EUR"', "share": "0.0000%",
                       "relocation-equivalents": "#,##0.00", "ratio": "0.0%",
                       "cases": "General"}


def test_unknown_format_is_exit_2_before_planning(tmp_path) -> None:
    done = planner("run", EU_2026, "--out", tmp_path / "x", "--format", "json",
                   "--format", "xls")
    assert done.returncode == 2
    assert done.stderr == "--format: 'xls' is not one of: csv, xlsx, json, parquet\n"
    assert done.stdout == ""
    assert not (tmp_path / "x").exists()


def test_parquet_without_pyarrow_is_exit_2_naming_the_extra(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    result = CliRunner().invoke(app, ["run", str(EU_2026), "--out", str(tmp_path / "x"),
                                      "--format", "parquet"])
    assert result.exit_code == 2
    assert result.stderr == ("--format parquet needs pyarrow, which is not installed: "
                             f"{PARQUET_HINT}\n")
    assert PARQUET_HINT == "pip install 'solidarity-pool-planner[parquet]'"
    assert not (tmp_path / "x").exists()


class Thing(BaseModel):
    """A table of another folder (such as the comparison's), with every kind of cell."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    kind: Literal["a", "b"]
    measure: Measure
    amount: Finite
    ratio: OptFloat = None
    count: int
    flag: Bool
    tags: TextList = ()


THINGS = ("name,kind,measure,amount,ratio,count,flag,tags\n"
          "=1+1,a,relocation,123456789.12345679,0.5,12345678901234567,true,x;y\n"
          "#N/A,b,financial,-0.1,,0,false,\n"
          "ctl\x01x,a,offset,1e+16,0,-3,true,z\n"
          ",b,alternative,2,,7,false,\n")
# The rows by hand: 17 significant digits (openpyxl alone writes 16), text that Excel would take
# for a formula or an error code, a control character, empty text and empty numbers.
RECORDS = [
    {"name": "=1+1", "kind": "a", "measure": "relocation", "amount": 123456789.12345679,
     "ratio": 0.5, "count": 12345678901234567, "flag": True, "tags": ["x", "y"]},
    {"name": "#N/A", "kind": "b", "measure": "financial", "amount": -0.1, "ratio": None,
     "count": 0, "flag": False, "tags": []},
    {"name": "ctl\x01x", "kind": "a", "measure": "offset", "amount": 1e16, "ratio": 0.0,
     "count": -3, "flag": True, "tags": ["z"]},
    {"name": "", "kind": "b", "measure": "alternative", "amount": 2.0, "ratio": None,
     "count": 7, "flag": False, "tags": []},
]
THING = OutputFile("things.csv", Thing, "pool")
PRIVATE_THING = OutputFile("things.csv", Thing, "pool", personal=True)


def test_any_folder_of_csvs_with_its_row_models(tmp_path) -> None:
    (tmp_path / "things.csv").write_text(THINGS, encoding="utf-8")
    write_formats(tmp_path, ("csv", "xlsx", "json", "parquet"), (THING,))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "parquet", "tables.json", "tables.xlsx", "things.csv"]
    want = [list(r.values()) for r in RECORDS]
    assert json.loads((tmp_path / "tables.json").read_text(encoding="utf-8")) == {
        "things": RECORDS}
    assert_rows([list(r.values()) for r in json.loads(
        (tmp_path / "tables.json").read_text())["things"]], want, "json")
    assert_rows([list(r.values()) for r in pq.read_table(
        tmp_path / "parquet" / "things.parquet").to_pylist()], want, "parquet")
    sheet = openpyxl.load_workbook(tmp_path / "tables.xlsx")["things"]
    assert [c.value for c in sheet[1]] == list(RECORDS[0])
    excel = [[in_excel(v) for v in row] for row in want]
    excel[2][0] = "ctl\ufffdx"  # XML cannot hold a control character: the one change
    assert_rows([list(r) for r in sheet.iter_rows(min_row=2, values_only=True)], excel, "xlsx")
    assert {sheet["A2"].data_type, sheet["A3"].data_type} == {"s"}  # text, not formula or error


def test_personal_tables_of_any_folder_go_to_private_files(tmp_path) -> None:
    (tmp_path / "things.csv").write_text(THINGS, encoding="utf-8")
    write_formats(tmp_path, ("xlsx", "json", "parquet"), (PRIVATE_THING,))
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "parquet/things.parquet", "persons.json", "persons.xlsx", "things.csv"]
    for name in ("parquet/things.parquet", "persons.json", "persons.xlsx"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    assert json.loads((tmp_path / "persons.json").read_text()) == {"things": RECORDS}


def test_csv_alone_adds_nothing(tmp_path) -> None:
    (tmp_path / "things.csv").write_text(THINGS, encoding="utf-8")
    write_formats(tmp_path, ("csv",), (THING,))
    assert [p.name for p in tmp_path.iterdir()] == ["things.csv"]


def test_a_csv_off_its_schema_is_a_table_error(tmp_path) -> None:
    (tmp_path / "things.csv").write_text("name,kind\nx,a\n", encoding="utf-8")
    with pytest.raises(TableError, match="things.csv: columns differ from Thing"):
        write_formats(tmp_path, ("json",), (THING,))
    (tmp_path / "things.csv").write_text(THINGS.replace("-0.1", "lots"), encoding="utf-8")
    with pytest.raises(TableError, match=r"^things.csv:3: amount: Input should be a valid num"):
        write_formats(tmp_path, ("json",), (THING,))
    (tmp_path / "things.csv").write_text(THINGS + "x,a\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"^things.csv:6: 2 fields, 8 columns$"):
        write_formats(tmp_path, ("json",), (THING,))
    with pytest.raises(FormatError, match="'xls' is not one of"):
        write_formats(tmp_path, ("xls",), (THING,))
    assert [p.name for p in tmp_path.iterdir()] == ["things.csv"]
