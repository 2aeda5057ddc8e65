"""Bad inputs: every class of problem is reported as the exact `FILE:LINE: COLUMN: message` line.

Each case builds a small valid instance, breaks one thing and compares the full list of problems
(not a substring), so an extra, missing or reworded line fails the test. LINE counts file lines
with the header as line 1; 0 means the file as a whole (contract, exit codes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import pledge, state, write_csv

from models.instance import Instance
from planner.errors import InputError
from planner.inputs.load import load_instance

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]

# DE, FR and SE contribute (SE pledges nothing, so breaking its row touches no other file);
# IT is benefitting.
STATES = [state("DE", 83_000_000, 4_000_000), state("FR", 68_000_000, 2_800_000),
          state("SE", 10_000_000, 540_000),
          state("IT", 59_000_000, 2_100_000, benefitting="true", status="pressure")]
PLEDGES = [pledge("DE-1", "DE", "relocation", 0, 10, beneficiary="IT"),
           pledge("FR-1", "FR", "financial", 0, 100_000)]
NEEDS = [{"state": "IT", "measure": "relocation", "amount": 50}]

# Lines of instance.toml as conftest writes it: 1 name, 2 cycle, 4 [pool], 5 relocations,
# 6 financial_eur, 7 rounding; `extra_toml` starts on line 8.
EXTRA = 8

Edit = Callable[[Path], None]


def problems(folder: Path) -> list[str]:
    """The problem lines of an instance that must not load."""
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    return [str(p) for p in caught.value.problems]


def at(folder: Path, name: str, line: int, column: str, message: str) -> str:
    return f"{folder / name}:{line}: {column}: {message}"


def states_with(code: str, **cells: object) -> list[dict[str, object]]:
    return [dict(s, **cells) if s["code"] == code else dict(s) for s in STATES]


def build(make_instance, states=None, pledges=None, needs=None, extra_toml: str = "",
          edit: Edit | None = None) -> Path:
    folder = make_instance(STATES if states is None else states,
                           PLEDGES if pledges is None else pledges,
                           NEEDS if needs is None else needs, extra_toml=extra_toml)
    if edit is not None:
        edit(folder)
    return folder


def remove(name: str) -> Edit:
    return lambda folder: (folder / name).unlink()


def write_bytes(name: str, data: bytes) -> Edit:
    return lambda folder: (folder / name).write_bytes(data)


def drop_column(name: str, rows: list[dict[str, object]], column: str) -> Edit:
    return lambda folder: write_csv(folder / name, [{k: v for k, v in r.items() if k != column}
                                                    for r in rows])


# (id, build arguments, expected problems as (file, line, column, message))
CASES: list[tuple[str, dict[str, object], list[tuple[str, int, str, str]]]] = [
    # --- files ---------------------------------------------------------------------------
    ("missing instance.toml", {"edit": remove("instance.toml")},
     [("instance.toml", 0, "-", "required file is missing")]),
    ("missing member_states.csv", {"edit": remove("member_states.csv")},
     # Only the missing file: pledges and needs must not also report DE, FR, IT as unknown.
     [("member_states.csv", 0, "-", "required file is missing")]),
    ("missing pledges.csv", {"edit": remove("pledges.csv")},
     [("pledges.csv", 0, "-", "required file is missing")]),
    ("missing column in member_states.csv",
     {"edit": drop_column("member_states.csv", STATES, "gdp_eur_million")},
     # Only the column: the rows' codes are there, so pledges must not name unknown states.
     [("member_states.csv", 1, "gdp_eur_million", "required column is missing")]),
    ("missing column in pledges.csv", {"edit": drop_column("pledges.csv", PLEDGES, "measure")},
     [("pledges.csv", 1, "measure", "required column is missing")]),
    ("missing column in needs.csv",
     {"edit": drop_column("needs.csv", NEEDS, "amount")},
     [("needs.csv", 1, "amount", "required column is missing")]),
    ("not UTF-8 (pledges.csv)",
     {"edit": write_bytes("pledges.csv", b"pledge_id,state,measure\nDE-1,DE,relocation\n"
                                         b"FR-1,FR,financi\xe9l\n")},
     [("pledges.csv", 3, "-", "not UTF-8 text (byte 58): save the file as UTF-8")]),
    ("not UTF-8 (instance.toml)",
     {"edit": write_bytes("instance.toml", b'name = "caf\xe9"\ncycle = 2026\n')},
     [("instance.toml", 1, "-", "not UTF-8 text (byte 11): save the file as UTF-8")]),
    ("empty pledges.csv", {"edit": write_bytes("pledges.csv", b"")},
     [("pledges.csv", 0, "-", "file is empty (a header row is required)")]),
    ("blank needs.csv", {"edit": write_bytes("needs.csv", b"\n  \n")},
     [("needs.csv", 0, "-", "file is empty (a header row is required)")]),
    ("row with too many fields",
     {"edit": write_bytes("pledges.csv", b"pledge_id,state,measure\nDE-1,DE,relocation,9\n")},
     [("pledges.csv", 2, "-", "row has 4 fields, the header has 3")]),
    ("cell over the csv module's size limit",
     {"edit": write_bytes("pledges.csv", b"pledge_id,state,measure\n\"" + b"x" * 140_000
                          + b"\",DE,relocation\n")},
     [("pledges.csv", 2, "-", "not a readable CSV file: field larger than field limit "
       "(131072)")]),
    ("header cell over the csv module's size limit",
     {"edit": write_bytes("pledges.csv", b"pledge_id,state," + b"x" * 140_000 + b"\n")},
     [("pledges.csv", 1, "-", "not a readable CSV file: field larger than field limit "
       "(131072)")]),
    ("first candidate row with too many fields (pandas would take them as an index)",
     {"edit": write_bytes("candidates.csv", b"person_id,case_id,location\np1,c1,IT,x,y\n"
                          b"p2,c2,IT\n")},
     [("candidates.csv", 2, "-", "row has 5 fields, the header has 3")]),
    # --- member_states.csv ------------------------------------------------------------------
    ("duplicate state code", {"states": [*STATES, state("FR")]},
     [("member_states.csv", 6, "code", "duplicate state code FR (first on line 3)")]),
    ("population not positive",
     {"states": [*STATES[:2], dict(STATES[2], population=0), STATES[3],
                 state("FI", population=-5)]},
     [("member_states.csv", 4, "population", "must be greater than 0, got 0"),
      ("member_states.csv", 6, "population", "must be greater than 0, got -5")]),
    ("population not a number", {"states": states_with("SE", population="10 million")},
     [("member_states.csv", 4, "population", "not a number: '10 million'")]),
    ("GDP not positive",
     {"states": [*STATES[:2], dict(STATES[2], gdp_eur_million=0), STATES[3],
                 state("FI", gdp=-1)]},
     [("member_states.csv", 4, "gdp_eur_million", "must be greater than 0, got 0"),
      ("member_states.csv", 6, "gdp_eur_million", "must be greater than 0, got -1")]),
    ("GDP empty", {"states": states_with("SE", gdp_eur_million="")},
     [("member_states.csv", 4, "gdp_eur_million", "required value is empty")]),
    ("deduction above 1", {"states": states_with("SE", deduction=1.5)},
     [("member_states.csv", 4, "deduction", "must be at most 1, got 1.5")]),
    ("deduction below 0", {"states": states_with("SE", deduction=-0.1)},
     [("member_states.csv", 4, "deduction", "must be at least 0, got -0.1")]),
    ("deduction as a percentage", {"states": states_with("SE", deduction="50%")},
     [("member_states.csv", 4, "deduction", "not a number: '50%'")]),
    ("official shares above 1",
     {"states": [dict(STATES[0], share=0.6), dict(STATES[1], share=0.5), *STATES[2:]]},
     [("member_states.csv", 3, "share", "official shares sum to 1.100000, above 1")]),
    ("official share of a non-participant",
     {"states": [*STATES, state("NO", participates="false", share=0.01)]},
     [("member_states.csv", 6, "share", "NO does not participate, so it has no share in the key")]),
    ("bad boolean", {"states": states_with("SE", benefitting="maybe")},
     [("member_states.csv", 4, "benefitting",
       "not a boolean (true/false, yes/no, 1/0): 'maybe'")]),
    # --- pledges.csv ---------------------------------------------------------------------------
    ("malformed state code", {"pledges": [*PLEDGES, pledge("X", "Germany", "financial", 0, 1)]},
     [("pledges.csv", 4, "state", "'GERMANY' is not a two-letter state code")]),
    ("pledge by a state that does not exist",
     {"pledges": [*PLEDGES, pledge("GR-1", "GR", "financial", 0, 1)]},
     [("pledges.csv", 4, "state", "unknown state GR")]),
    ("unknown beneficiary code",
     {"pledges": [pledge("DE-1", "DE", "relocation", 0, 10, beneficiary="IT;XX")]},
     [("pledges.csv", 2, "beneficiary", "unknown state XX")]),
    ("non-numeric amount", {"pledges": [pledge("DE-1", "DE", "relocation", "ten", 10)]},
     [("pledges.csv", 2, "min", "not a number: 'ten'")]),
    ("negative amount",
     {"pledges": [pledge("DE-1", "DE", "financial", -5, 10), pledge("FR-1", "FR", "offset",
                                                                     0, -3)]},
     [("pledges.csv", 2, "min", "must be at least 0, got -5"),
      ("pledges.csv", 3, "max", "must be at least 0, got -3")]),
    ("min above max", {"pledges": [pledge("DE-1", "DE", "relocation", 20, 10)]},
     [("pledges.csv", 2, "min", "min 20 is above max 10")]),
    ("unknown measure", {"pledges": [pledge("DE-1", "DE", "money", 0, 10)]},
     [("pledges.csv", 2, "measure",
       "'money' is not one of: 'relocation', 'offset', 'financial' or 'alternative'")]),
    ("pledge by a benefitting state to itself",
     {"pledges": [*PLEDGES, pledge("IT-1", "IT", "financial", beneficiary="IT")]},
     [("pledges.csv", 4, "beneficiary",
       "IT cannot receive its own pledge (a benefitting state's pledge goes to the others)")]),
    ("beneficiary that is not benefitting",
     {"pledges": [pledge("DE-1", "DE", "relocation", 0, 10, beneficiary="FR")]},
     [("pledges.csv", 2, "beneficiary", "FR is not benefitting")]),
    ("duplicate pledge id", {"pledges": [*PLEDGES, pledge("DE-1", "DE", "financial")]},
     [("pledges.csv", 4, "pledge_id", "duplicate pledge id 'DE-1' (first on line 2)")]),
    ("relocations not whole persons",
     {"pledges": [pledge("DE-1", "DE", "relocation", 0.5, 10.5),
                  pledge("FR-1", "FR", "offset", 1.25, "")]},
     [("pledges.csv", 2, "max", "relocation is counted in whole persons, got 10.5"),
      ("pledges.csv", 2, "min", "relocation is counted in whole persons, got 0.5"),
      ("pledges.csv", 3, "min", "offset is counted in whole persons, got 1.25")]),
    # --- needs.csv ---------------------------------------------------------------------------
    ("needs of a non-benefitting state",
     {"needs": [*NEEDS, {"state": "FR", "measure": "financial", "amount": 10}]},
     [("needs.csv", 3, "state", "FR is not benefitting")]),
    ("needs of an unknown state",
     {"needs": [*NEEDS, {"state": "XX", "measure": "financial", "amount": 10}]},
     [("needs.csv", 3, "state", "unknown state XX")]),
    ("needs in fractions of persons",
     {"needs": [{"state": "IT", "measure": "relocation", "amount": 2.5}]},
     [("needs.csv", 2, "amount", "relocation is counted in whole persons, got 2.5")]),
    ("negative need", {"needs": [{"state": "IT", "measure": "offset", "amount": -1}]},
     [("needs.csv", 2, "amount", "must be at least 0, got -1")]),
    # --- instance.toml ------------------------------------------------------------------------
    ("bad TOML syntax", {"extra_toml": "[offsets]\nvoluntary_share = 0,5\n"},
     [("instance.toml", EXTRA + 1, "-",
       "not valid TOML: Expected newline or end of document after a statement")]),
    ("bad TOML table header",
     {"edit": write_bytes("instance.toml", b'name = "x"\ncycle = 2026\n\n[pool\n')},
     [("instance.toml", 4, "-", "not valid TOML: Expected ']' at the end of a table declaration")]),
    ("unknown key in a table", {"extra_toml": "[offsets]\nvoluntary_shar = 0.5\n"},
     [("instance.toml", EXTRA + 1, "offsets.voluntary_shar", "unknown key")]),
    ("unknown table", {"extra_toml": "[pol]\nx = 1\n"},
     [("instance.toml", EXTRA, "pol", "unknown key")]),
    ("wrong type in TOML", {"extra_toml": '[offsets]\nvoluntary_share = "half"\n'},
     [("instance.toml", EXTRA + 1, "offsets.voluntary_share", "not a number: 'half'")]),
    ("key weights not summing to 1",
     {"extra_toml": "[key]\nweights = { population = 0.5, gdp_eur_million = 0.4 }\n"},
     # The line and key of `weights`, as for the other key.weights problems below.
     [("instance.toml", EXTRA + 1, "key.weights", "key weights must sum to 1, they sum to 0.9")]),
    ("key weights not summing to 1 ([key.weights] table)",
     {"extra_toml": "[key.weights]\npopulation = 0.5\ngdp_eur_million = 0.6\n"},
     [("instance.toml", EXTRA, "key.weights", "key weights must sum to 1, they sum to 1.1")]),
    ("key weight naming a missing column",
     {"extra_toml": "[key]\nweights = { population = 0.5, area_km2 = 0.5 }\n"},
     [("instance.toml", EXTRA + 1, "key.weights.area_km2",
       "names column 'area_km2', which member_states.csv does not have")]),
    ("key weight column empty",
     {"states": [dict(s, area_km2="") if s["code"] == "SE" else dict(s, area_km2=1000)
                 for s in STATES],
      "extra_toml": "[key]\nweights = { population = 0.5, area_km2 = 0.5 }\n"},
     [("member_states.csv", 4, "area_km2", "required value is empty (a key.weights column)")]),
]


@pytest.mark.parametrize(("kwargs", "expected"), [pytest.param(k, e, id=i) for i, k, e in CASES])
def test_bad_input_is_reported_exactly(make_instance, kwargs, expected) -> None:
    folder = build(make_instance, **kwargs)
    assert problems(folder) == [at(folder, *e) for e in expected]


def test_bad_state_row_does_not_make_its_pledges_unknown(make_instance) -> None:
    """A state whose row has a bad cell still exists: its pledges and needs must not be
    reported as naming an unknown state (one mistake, one line)."""
    folder = build(make_instance, states=[dict(STATES[0], deduction=1.5), *STATES[1:3],
                                          dict(STATES[3], population="n/a")])
    assert problems(folder) == [
        at(folder, "member_states.csv", 2, "deduction", "must be at most 1, got 1.5"),
        at(folder, "member_states.csv", 5, "population", "not a number: 'n/a'"),
    ]


def test_missing_instance_folder(tmp_path: Path) -> None:
    folder = tmp_path / "nowhere"
    with pytest.raises(InputError) as caught:
        load_instance(folder)
    assert [str(p) for p in caught.value.problems] == [f"{folder}:0: -: instance folder not found"]


def test_every_problem_in_every_file_is_reported_at_once(make_instance) -> None:
    folder = build(
        make_instance,
        states=[*STATES, state("FI", population=0), state("FR")],
        pledges=[pledge("DE-1", "DE", "relocation", 20, 10), PLEDGES[1],
                 pledge("SE-1", "SE", "cash", 0, 1)],
        needs=[{"state": "FR", "measure": "financial", "amount": 10}, *NEEDS],
        extra_toml="[offsets]\nbogus = 1\n")
    assert problems(folder) == [
        at(folder, "instance.toml", EXTRA + 1, "offsets.bogus", "unknown key"),
        at(folder, "member_states.csv", 6, "population", "must be greater than 0, got 0"),
        at(folder, "member_states.csv", 7, "code", "duplicate state code FR (first on line 3)"),
        at(folder, "pledges.csv", 2, "min", "min 20 is above max 10"),
        at(folder, "pledges.csv", 4, "measure",
           "'cash' is not one of: 'relocation', 'offset', 'financial' or 'alternative'"),
        at(folder, "needs.csv", 2, "state", "FR is not benefitting"),
    ]


def test_problems_in_one_file_are_sorted_by_line(make_instance) -> None:
    folder = build(make_instance, pledges=[
        pledge("DE-1", "DE", "relocation", 20, 10), pledge("FR-1", "FR", "money"),
        pledge("DE-2", "DE", "relocation", 0, 2, beneficiary="FR"),
    ])
    assert problems(folder) == [
        at(folder, "pledges.csv", 2, "min", "min 20 is above max 10"),
        at(folder, "pledges.csv", 3, "measure",
           "'money' is not one of: 'relocation', 'offset', 'financial' or 'alternative'"),
        at(folder, "pledges.csv", 4, "beneficiary", "FR is not benefitting"),
    ]


def _content(instance: Instance) -> tuple[object, ...]:
    return instance.config, instance.states, instance.pledges, instance.needs


def test_valid_instance_loads(make_instance) -> None:
    instance = load_instance(build(make_instance))
    assert [s.code for s in instance.states] == ["DE", "FR", "IT", "SE"]
    assert instance.benefitting == ("IT",)
    assert [(p.pledge_id, p.state, p.measure.value, p.min, p.max, p.beneficiary)
            for p in instance.pledges] == [("DE-1", "DE", "relocation", 0, 10, ("IT",)),
                                           ("FR-1", "FR", "financial", 0, 100_000, ())]
    assert [(n.state, n.measure.value, n.amount) for n in instance.needs] == [
        ("IT", "relocation", 50)]
    assert instance.config.pool.relocations == 100
    assert len(instance.input_sha256) == 64


def test_spreadsheet_export_loads_the_same(make_instance, tmp_path: Path) -> None:
    """UTF-8 BOM, Windows line endings and `;` separators: the same instance as the plain one."""
    plain = load_instance(build(make_instance))
    folder = make_instance(STATES, PLEDGES, NEEDS, name="excel")
    for name in ("member_states.csv", "pledges.csv", "needs.csv"):
        text = (folder / name).read_text(encoding="utf-8").replace(",", ";")
        (folder / name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    toml = (folder / "instance.toml").read_text(encoding="utf-8")
    (folder / "instance.toml").write_bytes(b"\xef\xbb\xbf" + toml.replace("\n", "\r\n").encode())
    assert _content(load_instance(folder)) == _content(plain)


def test_pledges_without_pledge_id_use_the_line_number(make_instance) -> None:
    folder = build(make_instance, edit=lambda f: write_csv(
        f / "pledges.csv", [{k: v for k, v in p.items() if k != "pledge_id"} for p in PLEDGES]))
    assert [p.pledge_id for p in load_instance(folder).pledges] == ["2", "3"]


def test_bundled_instance_validates() -> None:
    instance = load_instance(REPO / "instances" / "eu-2026")
    assert (len(instance.states), len(instance.pledges), len(instance.needs)) == (27, 24, 12)
    assert set(instance.benefitting) == {"CY", "EL", "ES", "IT"}
