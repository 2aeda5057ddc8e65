"""The input workbook (issue 17, item 1): `planner template` writes it from the models' schemas,
`planner.inputs.workbook` reads it back into the same instance, and every problem names the
workbook's cell. (The plans of a round trip: tests/test_workbook_plans.py.)"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from models.instance import MemberState, Pledge
from models.uncertainty import UncertaintyConfig
from planner.errors import InputError
from planner.inputs import workbook_help
from planner.inputs.load import load_instance
from planner.inputs.template import write_template
from planner.inputs.workbook import (
    FILES,
    SHEETS,
    TABLES,
    cell_text,
    column_letter,
    instance_folder,
    setting_keys,
    table_columns,
)

pytestmark = pytest.mark.unit

EU = Path(__file__).resolve().parents[1] / "instances" / "eu-2026"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("book") / "eu-2026.xlsx"
    skipped = write_template(path, EU)
    assert skipped == [
        "[uncertainty] is not in the workbook: a plan does not read it, and `planner sweep` "
        "reads the instance folder",
        "variant all-relocation is not in the workbook: it replaces pledges.csv (a workbook "
        "variant is KEY=VALUE rows)",
        "variant key-2015 is not in the workbook: it replaces member_states.csv (a workbook "
        "variant is KEY=VALUE rows)",
        "variant population-2024 is not in the workbook: it replaces member_states.csv (a "
        "workbook variant is KEY=VALUE rows)"]
    return path


def loaded(path: Path, variant: str | None = None):
    with instance_folder(path, variant) as folder:
        return load_instance(folder, variant)


def problems(path: Path, variant: str | None = None) -> list[str]:
    with pytest.raises(InputError) as caught:
        loaded(path, variant)
    return [str(p) for p in caught.value.problems]


def edit(book: Path, out: Path, cells: dict[tuple[str, str], object],
         settings: dict[str, object] | None = None,
         variants: list[list[object]] | None = None) -> Path:
    """A copy of `book` with cells changed, settings values set by key, variant rows added."""
    workbook = load_workbook(book)
    for (sheet, ref), value in cells.items():
        workbook[sheet][ref] = value
    for row in workbook["settings"].iter_rows(min_row=2):
        if settings and row[0].value in settings:
            row[1].value = settings[str(row[0].value)]
    for row in variants or []:
        workbook["variants"].append(row)
    workbook.save(out)
    return out


def test_every_setting_and_column_is_explained_and_nothing_else() -> None:
    keys = {key for key, _ in setting_keys()} | set(FILES)
    assert set(workbook_help.SETTINGS) == keys
    for sheet in TABLES:
        assert set(workbook_help.COLUMNS[sheet]) == set(table_columns(sheet))
    assert set(workbook_help.SHEETS) == set(SHEETS)


def test_the_sheets_come_from_the_models(book: Path) -> None:
    workbook = load_workbook(book)
    assert workbook.sheetnames == ["README", "settings", "member_states", "pledges", "needs",
                                   "responsibility", "variants"]
    pledges = workbook["pledges"]
    header = [c.value for c in pledges[1]]
    # The model's columns first, in its order, then the file's own (source, note).
    assert header == [*(c for c in Pledge.model_fields), "source", "note"]
    states = workbook["member_states"]
    assert [c.value for c in states[1]][:9] == [c for c in MemberState.model_fields
                                                if c != "indicators"]
    for sheet in ("settings", "member_states", "pledges", "needs", "variants"):
        assert workbook[sheet].freeze_panes == "A2"
    rules = {str(v.sqref): (v.type, v.formula1, v.formula2)
             for v in pledges.data_validations.dataValidation}
    assert rules["B2:B1000"] == ("list", "member_states!$A$2:$A$1000", None)  # state
    assert rules["C2:C1000"] == ("list", '"relocation,offset,financial,alternative"', None)
    assert rules["L2:L1000"] == ("list", '"true,false"', None)  # vulnerable
    assert rules["G2:G1000"] == ("whole", "1", "1000")  # preference, 1 to MAX_PREFERENCE
    assert rules["D2:D1000"] == ("decimal", "0", "1000000000000")  # min, 0 to MAX_EUR
    state_rules = {str(v.sqref): (v.type, v.formula1)
                   for v in states.data_validations.dataValidation}
    assert state_rules["G2:G1000"] == ("list", '"none,at_risk,significant,pressure"')
    # Number formats: thousands separators, shares and fractions in %.
    by_name = {c.value: c.column_letter for c in states[1]}
    assert states[f"{by_name['population']}2"].number_format == "#,##0"
    assert states[f"{by_name['share']}2"].number_format == "0.00##%"
    assert pledges["E5"].number_format == "#,##0"
    # The README explains every column of every table sheet.
    readme = {(r[0], r[1]) for r in workbook["README"].iter_rows(min_row=2, values_only=True)}
    for sheet in TABLES:
        assert {(sheet, c) for c in table_columns(sheet)} <= readme


def test_the_settings_are_key_value_rows(book: Path) -> None:
    settings = load_workbook(book)["settings"]
    formats = {r[0].value: r[1].number_format for r in settings.iter_rows(min_row=2)}
    assert (formats["pool.financial_eur"], formats["offsets.voluntary_share"],
            formats["name"]) == ("#,##0", "0.00##%", "General")
    rules = {str(v.sqref): (v.type, v.formula1)
             for v in settings.data_validations.dataValidation}
    where = {r[0].value: r[1].coordinate for r in settings.iter_rows(min_row=2)}
    assert rules[where["pool.rounding"]] == ("list", '"ceil,largest_remainder,none"')
    assert rules[where["key.redistribute"]] == ("list", '"true,false"')
    rows = {r[0]: r[1:] for r in settings.iter_rows(min_row=2, values_only=True)}
    assert rows["pool.relocations"][:2] == (21000, "(required)")
    assert rows["pool.rounding"][:2] == ("ceil", "ceil")
    assert rows["key.weights.population"][0] == 0.5
    assert rows["distribution.sar_states"][0] == "IT;ES"
    assert rows["pool.adopted"][0] == "2025-12-19"
    assert rows["pool.eur_per_relocation"][:2] == (None, None)  # not given: its default
    assert rows["offsets.refused_by"][0] is None
    # The candidates stay a CSV file beside the instance, named by path, never copied in.
    candidates = rows["files.candidates"][0]
    assert isinstance(candidates, str)
    assert (book.parent / candidates).resolve() == (EU / "candidates.csv").resolve()
    cells = {str(c) for sheet in load_workbook(book) for row in sheet.iter_rows(
        values_only=True) for c in row if c is not None}
    with (EU / "candidates.csv").open(encoding="utf-8") as handle:
        ids = {value for row in csv.DictReader(handle)
               for value in (row["person_id"], row["case_id"])}
    assert len(ids) > 1000
    assert not cells & ids  # no person's or case's id anywhere in the workbook


def test_the_workbook_reads_back_as_the_instance(book: Path) -> None:
    folder, from_book = load_instance(EU), loaded(book)
    assert from_book.name == "eu-2026"
    # All of instance.toml but [uncertainty], which the workbook leaves out (`planner
    # template` says so), a plan does not read, and `planner sweep` reads from the folder.
    assert folder.config.uncertainty != UncertaintyConfig()
    assert from_book.config == folder.config.model_copy(update={
        "uncertainty": UncertaintyConfig()})
    assert from_book.states == folder.states
    assert from_book.pledges == folder.pledges
    assert from_book.needs == folder.needs
    assert from_book.responsibility == folder.responsibility
    assert from_book.cases == folder.cases
    for variant in ("commission-proposal", "estonia-deduction", "beneficiary-agreements",
                    "no-deductions", "redistribute-key"):
        one, other = load_instance(EU, variant), loaded(book, variant)
        assert (other.config, other.states, other.pledges) == (one.config.model_copy(
            update={"uncertainty": UncertaintyConfig()}), one.states, one.pledges), variant


def test_problems_name_the_cell(book: Path, tmp_path: Path) -> None:
    bad = edit(book, tmp_path / "bad.xlsx",
               {("pledges", "E7"): -5, ("pledges", "B9"): "XX",
                ("member_states", "D3"): None},
               settings={"pool.relocations": "abc", "offsets.voluntary_share": 2},
               variants=[["big", "pool.relocations", -1], ["big", "pledges.FR-2.maxx", 5],
                         ["no good", "pool.relocations", 1]])
    found = problems(bad)
    shown = str(bad)
    assert found == [
        f"{shown}:variants!A13: variant: 'no good' cannot name a variant (letters, digits, "
        "'-', '_', '.'; not base or comparison)",
        f"{shown}:settings!B5: pool.relocations: not a whole number: 'abc'",
        f"{shown}:settings!B16: offsets.voluntary_share: must be at most 1, got 2",
        f"{shown}:member_states!D3: gdp_eur_million: required value is empty",
        f"{shown}:pledges!E7: max: must be at least 0, got -5",
        f"{shown}:pledges!B9: state: unknown state XX",
    ]
    # The workbook's own problems (the bad variant name) come with the variant's.
    assert problems(bad, "big") == [
        f"{shown}:variants!A13: variant: 'no good' cannot name a variant (letters, digits, "
        "'-', '_', '.'; not base or comparison)",
        f"{shown}:settings!B16: offsets.voluntary_share: must be at most 1, got 2",
        f"{shown}:variants!C11: pool.relocations: must be greater than 0, got -1",
        f"{shown}:variants!C12: pledges.FR-2.maxx: unknown column: did you mean 'max'?",
        f"{shown}:member_states!D3: gdp_eur_million: required value is empty",
        f"{shown}:pledges!E7: max: must be at least 0, got -5",
        f"{shown}:pledges!B9: state: unknown state XX",
    ]
    good = edit(book, tmp_path / "variant.xlsx", {},
                variants=[["big", "pool.relocations", -1], ["big", "pledges.FR-2.maxx", 5]])
    assert problems(good, "big") == [
        f"{good}:variants!C11: pool.relocations: must be greater than 0, got -1",
        f"{good}:variants!C12: pledges.FR-2.maxx: unknown column: did you mean 'max'?"]


def test_missing_sheets_and_files(book: Path, tmp_path: Path) -> None:
    workbook = load_workbook(book)
    workbook["pledges"].title = "pledge"
    for row in workbook["settings"].iter_rows(min_row=2):
        if row[0].value == "files.candidates":
            row[1].value = "nowhere/candidates.csv"
            where = f"B{row[0].row}"
    out = tmp_path / "missing.xlsx"
    workbook.save(out)
    assert problems(out) == [
        f"{out}:pledge: -: unknown sheet: did you mean 'pledges'?",
        f"{out}:settings!{where}: files.candidates: file not found: "
        f"{tmp_path}/nowhere/candidates.csv",
        f"{out}:pledges: -: required sheet is missing",
    ]
    (tmp_path / "not.xlsx").write_text("a,b\n")
    with pytest.raises(InputError) as caught:
        loaded(tmp_path / "not.xlsx")
    assert str(caught.value.problems[0]).startswith(
        f"{tmp_path}/not.xlsx: -: cannot be read as a workbook (.xlsx): ")


def test_an_empty_template_names_what_is_required(tmp_path: Path) -> None:
    out = tmp_path / "empty.xlsx"
    assert write_template(out, None) == []
    workbook = load_workbook(out)
    assert [c.value for c in workbook["pledges"][1]] == list(table_columns("pledges"))
    assert problems(out) == [
        f"{out}:settings: cycle: required key is missing",
        f"{out}:settings: name: required key is missing",
        f"{out}:settings: pool: required key is missing",
        f"{out}:member_states: -: no states (one row per state is required)",
    ]


def test_variants_are_optional(tmp_path: Path) -> None:
    out = tmp_path / "novariants.xlsx"
    assert write_template(out, EU, variants=False) == [
        "[uncertainty] is not in the workbook: a plan does not read it, and `planner sweep` "
        "reads the instance folder"]
    assert load_workbook(out)["variants"].max_row == 1  # the header alone
    assert problems(out, "commission-proposal")[0].startswith(
        f"{out}:variants: -: variant 'commission-proposal' not found")


def test_cells_as_text() -> None:
    assert [cell_text(v) for v in (21000.0, 0.21689, True, "", None, "a\nb", 1e-05)] == \
        ["21000", "0.21689", "true", "", "", "a b", "1e-05"]
    assert [column_letter(i) for i in (0, 4, 25, 26, 27, 701, 702)] == \
        ["A", "E", "Z", "AA", "AB", "ZZ", "AAA"]
