"""Numbers are read by one rule (issue #12, item 2): `.` is the decimal point and there is no
thousands separator, unless instance.toml declares the format (`[input] decimal`,
`thousands`); a cell that could be read two ways is an input error naming the cell and the fix.

An Excel-saved copy of eu-2026 (`;`-separated, BOM, CRLF, comma decimals and `.` thousands,
the format declared) plans byte-identical plan.csv and allocation.csv to the original.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import pledge, state

from models.instance import MemberState, Need, Pledge
from planner.errors import InputError
from planner.inputs.load import load_instance
from planner.inputs.numbers import NumberError, NumberFormat
from planner.optimise.solve import SolverOptions
from planner.pipeline import run

pytestmark = pytest.mark.solver

REPO = Path(__file__).resolve().parents[1]
EU = REPO / "instances" / "eu-2026"
NUMERIC = {  # the number columns of each file eu-2026 has
    "member_states.csv": [c for c in MemberState.model_fields
                          if c in ("population", "gdp_eur_million", "deduction", "share")],
    "pledges.csv": [c for c in Pledge.model_fields
                    if c in ("min", "max", "preference", "max_case_size")],
    "needs.csv": [c for c in Need.model_fields if c == "amount"],
    "candidates.csv": [],
}
EU_FORMAT = '\n[input]\ndecimal = ","\nthousands = "."\n'


def excel_number(text: str) -> str:
    """A number cell as a spreadsheet in a German or Italian locale saves it: 4.305.260 and
    0,21689 (the digits kept as written)."""
    if not text:
        return text
    whole, _, fraction = text.partition(".")
    groups = []
    while len(whole) > 3:
        whole, group = whole[:-3], whole[-3:]
        groups.insert(0, group)
    grouped = ".".join([whole, *groups])
    return f"{grouped},{fraction}" if fraction else grouped


def excel_copy(source: Path, target: Path) -> Path:
    """`source` as Excel saves it in most EU locales: `;` separators (cells holding `;`
    quoted), a UTF-8 BOM, CRLF line endings, comma decimals with `.` thousands, and the
    format declared in instance.toml."""
    target.mkdir()
    toml = (source / "instance.toml").read_text(encoding="utf-8") + EU_FORMAT
    (target / "instance.toml").write_bytes(b"\xef\xbb\xbf" + toml.replace("\n", "\r\n").encode())
    for name, numeric in NUMERIC.items():
        with (source / name).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=";",
                                lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: excel_number(v) if k in numeric else v for k, v in row.items()})
        (target / name).write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return target


def test_excel_saved_copy_of_eu_2026_plans_byte_identical(tmp_path: Path) -> None:
    copy = excel_copy(EU, tmp_path / "eu-excel")
    text = (copy / "member_states.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbfcode;name;") and b"\r\n" in text
    assert b"AT;Austria;9.197.213;494.000;" in text  # the cells the issue saw misread
    original, excel = load_instance(EU), load_instance(copy)
    assert excel.states == original.states and excel.pledges == original.pledges
    assert excel.needs == original.needs and excel.cases == original.cases
    run(EU, tmp_path / "original", SolverOptions())
    run(copy, tmp_path / "excel", SolverOptions())
    for name in ("plan.csv", "allocation.csv", "distribution.csv", "assignments.csv"):
        assert (tmp_path / "excel" / name).read_bytes() == \
            (tmp_path / "original" / name).read_bytes(), name


def test_semicolon_file_without_declared_format_refuses_dotted_thousands(tmp_path: Path
                                                                         ) -> None:
    """The issue's case: a `;` copy of eu-2026 with `.` thousands and no [input]: `494.000`
    was read as 494 and `validate` said valid. Every ambiguous cell is a problem now."""
    copy = excel_copy(EU, tmp_path / "eu-excel")
    toml = (copy / "instance.toml").read_bytes().replace(
        EU_FORMAT.replace("\n", "\r\n").encode(), b"")
    (copy / "instance.toml").write_bytes(toml)
    with pytest.raises(InputError) as caught:
        load_instance(copy)
    lines = [str(p) for p in caught.value.problems]
    states = copy / "member_states.csv"
    assert lines[1] == (
        f"{states}:2: population: '9.197.213' groups thousands with '.': write it without a "
        "thousands separator, or declare the files' format in instance.toml ([input] "
        "decimal = \",\" and thousands = \".\")")
    assert lines[0] == (
        f"{states}:2: gdp_eur_million: ambiguous number '494.000' in a ';'-separated file: "
        "494 or 494000? Declare the files' number format in instance.toml ([input] decimal "
        "= \",\" and thousands = \".\", as spreadsheets in most EU locales write), or write "
        "the number without a thousands separator")
    # Every member_states row (27 states with populations over 1,000) and every pledge
    # amount over 999 is named, with no row read silently.
    assert sum(1 for p in caught.value.problems
               if p.file == str(states) and p.column == "population") == 27


STATES = [state("DE", 83_000_000, 4_000_000), state("FR", 68_000_000, 2_800_000),
          state("IT", 59_000_000, 2_100_000, benefitting="true", status="pressure")]


def semicolon_instance(make_instance, states_cells: dict[str, object], pledge_max: object,
                       toml: str = "") -> Path:
    states = [dict(s, **states_cells) if s["code"] == "FR" else s for s in STATES]
    folder = make_instance(states, [pledge("DE-1", "DE", "financial", 0, pledge_max)],
                           extra_toml=toml)
    for name in ("member_states.csv", "pledges.csv"):
        path = folder / name
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=";", lineterminator="\n").writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    return folder


def problem_lines(folder: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    return [str(p).replace(f"{folder}/", "") for p in caught.value.problems]


def test_pledge_max_300_000_in_a_semicolon_file_is_ambiguous(make_instance) -> None:
    folder = semicolon_instance(make_instance, {"gdp_eur_million": "494.000"}, "300.000")
    assert problem_lines(folder) == [
        "member_states.csv:3: gdp_eur_million: ambiguous number '494.000' in a ';'-separated "
        "file: 494 or 494000? Declare the files' number format in instance.toml ([input] "
        "decimal = \",\" and thousands = \".\", as spreadsheets in most EU locales write), or "
        "write the number without a thousands separator",
        "pledges.csv:2: max: ambiguous number '300.000' in a ';'-separated file: 300 or "
        "300000? Declare the files' number format in instance.toml ([input] decimal = \",\" "
        "and thousands = \".\", as spreadsheets in most EU locales write), or write the number "
        "without a thousands separator"]


def test_declared_format_reads_them_as_thousands(make_instance) -> None:
    folder = semicolon_instance(make_instance, {"gdp_eur_million": "494.000,5"}, "300.000",
                                toml='[input]\ndecimal = ","\nthousands = "."\n')
    loaded = load_instance(folder)
    assert {s.code: s.gdp_eur_million for s in loaded.states}["FR"] == 494_000.5
    assert loaded.pledges[0].max == 300_000


def test_declared_decimal_point_reads_dots_as_decimals(make_instance) -> None:
    """Declaring the default format explicitly is the user's word: 494.000 is 494."""
    folder = semicolon_instance(make_instance, {"gdp_eur_million": "494.000"}, "300.5",
                                toml='[input]\ndecimal = "."\n')
    loaded = load_instance(folder)
    assert {s.code: s.gdp_eur_million for s in loaded.states}["FR"] == 494
    assert loaded.pledges[0].max == 300.5


def test_comma_in_a_number_of_a_comma_file(make_instance) -> None:
    folder = make_instance(STATES, [pledge("DE-1", "DE", "financial", 0, "1,5")])
    assert problem_lines(folder) == [
        "pledges.csv:2: max: ',' in the number '1,5': numbers are read with '.' as the decimal "
        "point and no thousands separator; write it so, or declare the files' format in "
        "instance.toml ([input] decimal = \",\" or thousands = \",\")"]


def test_a_cell_not_in_the_declared_format(make_instance) -> None:
    folder = make_instance([dict(s, deduction="0.5") if s["code"] == "FR" else s
                            for s in STATES],
                           [pledge("DE-1", "DE", "financial", 0, "1.000,5")],
                           extra_toml='[input]\ndecimal = ","\nthousands = "."\n')
    assert problem_lines(folder) == [
        "member_states.csv:3: deduction: '0.5' is not a number in the format instance.toml "
        "declares ([input]: decimal ',', thousands '.')"]


def test_input_section_is_validated(make_instance) -> None:
    folder = make_instance(STATES, [pledge("DE-1", "DE", "financial", 0, 10)],
                           extra_toml='[input]\ndecimal = ","\nthousands = ","\n')
    assert problem_lines(folder) == [
        "instance.toml:8: input: decimal and thousands must differ, both are ','"]


@pytest.mark.parametrize(("fmt", "delimiter", "text", "value"), [
    (NumberFormat(), ",", "494.000", 494.0),  # a `,` file: the decimal point
    (NumberFormat(), ";", "0.125", 0.125),  # no thousands group starts with 0
    (NumberFormat(), ";", "12.5", 12.5),
    (NumberFormat(), ";", "1234.567", 1234.567),  # a group has at most three digits
    (NumberFormat(), ",", "-1e6", -1e6),
    (NumberFormat(), ",", "+.5", 0.5),
    (NumberFormat(",", ".", True), ";", "4.305.260", 4_305_260.0),
    (NumberFormat(",", ".", True), ";", "4305260", 4_305_260.0),  # grouping is optional
    (NumberFormat(",", ".", True), ";", "0,21689", 0.21689),
    (NumberFormat(",", "", True), ";", "1234,5", 1234.5),
    (NumberFormat(".", ",", True), ",", "1,234.5", 1234.5),
    (NumberFormat(",", " ", True), ";", "1 234,5", 1234.5),
    (NumberFormat(",", "'", True), ";", "1'234", 1234.0),
])
def test_numbers_read(fmt: NumberFormat, delimiter: str, text: str, value: float) -> None:
    assert fmt.parse(text, delimiter) == value


@pytest.mark.parametrize(("fmt", "delimiter", "text", "start"), [
    (NumberFormat(), ";", "1.000", "ambiguous number '1.000'"),
    (NumberFormat(), ";", "-300.000", "ambiguous number '-300.000'"),
    (NumberFormat(), ",", "1.234.567", "'1.234.567' groups thousands with '.'"),
    (NumberFormat(), ",", "1,000", "',' in the number '1,000'"),
    (NumberFormat(), ",", "nan", "must be a finite number, got 'nan'"),
    (NumberFormat(), ",", "-Infinity", "must be a finite number, got '-Infinity'"),
    (NumberFormat(), ",", "1_000", "not a number: '1_000'"),
    (NumberFormat(), ",", "0x10", "not a number: '0x10'"),
    (NumberFormat(",", ".", True), ";", "1.23", "'1.23' is not a number in the format"),
    (NumberFormat(",", ".", True), ";", "1,2,3", "'1,2,3' is not a number in the format"),
    (NumberFormat(".", ",", True), ",", "1,5", "'1,5' is not a number in the format"),
])
def test_numbers_refused(fmt: NumberFormat, delimiter: str, text: str, start: str) -> None:
    with pytest.raises(NumberError) as caught:
        fmt.parse(text, delimiter)
    assert str(caught.value).startswith(start)


def test_variant_numbers_are_toml_numbers_whatever_the_format(make_instance) -> None:
    """A variant's `[member_states.XX]` value is a TOML number, not a spreadsheet cell: the
    declared comma format does not apply to it."""
    folder = make_instance(STATES, [pledge("DE-1", "DE", "financial", 0, "1.000,5")],
                           extra_toml='[input]\ndecimal = ","\nthousands = "."\n')
    (folder / "variants").mkdir()
    (folder / "variants" / "v.toml").write_text("[member_states.FR]\ndeduction = 0.125\n"
                                                "gdp_eur_million = 1234567\n")
    loaded = load_instance(folder, "v")
    france = {s.code: s for s in loaded.states}["FR"]
    assert (france.deduction, france.gdp_eur_million) == (0.125, 1_234_567)
    assert loaded.pledges[0].max == 1000.5

