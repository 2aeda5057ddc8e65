"""Variants (`variants/NAME.toml`): overrides merged and validated like any input, every
problem reported in the file and on the line it comes from; the variants eu-2026 ships."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from conftest import MakeInstance, pledge, state, write_csv

from planner.errors import InputError
from planner.inputs.load import input_sha256, load_instance
from planner.inputs.variants import variant_names
from planner.optimise.key import compute_key

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
EU_2026 = REPO / "instances" / "eu-2026"

STATES = [state("AT", 1_000_000, 10_000), state("BE", 3_000_000, 30_000),
          state("IT", 1_000_000, 10_000, benefitting="true", status="pressure")]
PLEDGES = [pledge("AT-1", "AT", "relocation", 15, 15), pledge("BE-1", "BE", "financial", 0)]


def variant(folder: Path, name: str, text: str) -> Path:
    (folder / "variants").mkdir(exist_ok=True)
    path = folder / "variants" / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path, name: str | None) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_instance(folder, name)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def folder(make_instance: MakeInstance) -> Path:
    return make_instance(STATES, PLEDGES)


def test_config_override_is_merged_key_by_key(folder: Path) -> None:
    variant(folder, "big", "[pool]\nrelocations = 200\n\n[key]\nredistribute = true\n")
    base, big = load_instance(folder), load_instance(folder, "big")
    assert big.config.pool.relocations == 200
    assert big.config.pool.financial_eur == base.config.pool.financial_eur == 2_000_000
    assert big.config.pool.rounding == base.config.pool.rounding
    assert big.config.key.redistribute and not base.config.key.redistribute
    # shares 0.2 and 0.6 renormalised over the two contributors: 0.25 and 0.75 of 200
    key = compute_key(big)
    assert (key["AT"].obligation, key["BE"].obligation) == (50.0, 150.0)


def test_weights_are_replaced_whole(folder: Path) -> None:
    variant(folder, "pop", "[key]\nweights = { population = 1.0 }\n")
    loaded = load_instance(folder, "pop")
    assert loaded.config.key.weights == {"population": 1.0}


def test_member_state_override_and_table_replacement(folder: Path) -> None:
    write_csv(folder / "pledges-alt.csv", [pledge("BE-9", "BE", "offset", 5, 5)])
    variant(folder, "alt", '[member_states.be]\ndeduction = 0.5\nstatus = "significant"\n\n'
            '[tables]\npledges = "pledges-alt.csv"\n')
    loaded = load_instance(folder, "alt")
    be = next(s for s in loaded.states if s.code == "BE")
    assert (be.deduction, be.status.value) == (0.5, "significant")
    assert [p.pledge_id for p in loaded.pledges] == ["BE-9"]
    assert compute_key(loaded)["BE"].obligation == 30.0  # 0.6 x 100 x (1 - 0.5)
    # the digest covers the replacement table and the variant file, the base's is unchanged
    assert load_instance(folder).input_sha256 == input_sha256(folder)
    assert loaded.input_sha256 not in (input_sha256(folder), "")


def test_unknown_key_is_reported_in_the_variant_on_its_line(folder: Path) -> None:
    variant(folder, "v", "# a comment\n[pool]\nrelocations = 120\n\n[offsets]\n"
            "voluntary_shares = 0.4\n")
    assert problems(folder, "v") == [f"{folder}/variants/v.toml:6: offsets.voluntary_shares: "
                                     "unknown key"]


def test_bad_values_and_cross_checks_point_at_the_variant(folder: Path) -> None:
    variant(folder, "v", "pool.relocations = -5\n\n[distribution]\nsar_share = 0.4\n"
            'sar_states = ["AT"]\n\n[key]\nweights = { population = 0.5, jobs = 0.5 }\n')
    assert problems(folder, "v") == [
        f"{folder}/variants/v.toml:1: pool.relocations: must be greater than 0, got -5",
    ]
    variant(folder, "v", '[distribution]\nsar_share = 0.4\nsar_states = ["AT"]\n\n'
            "[key]\nweights = { population = 0.5, jobs = 0.5 }\n")
    assert problems(folder, "v") == [
        f"{folder}/variants/v.toml:3: distribution.sar_states: AT is not benefitting",
        f"{folder}/variants/v.toml:6: key.weights.jobs: names column 'jobs', which "
        "member_states.csv does not have",
    ]


def test_problems_of_the_instance_itself_stay_in_its_files(folder: Path) -> None:
    toml = folder / "instance.toml"
    toml.write_text(toml.read_text() + "\n[offsets]\nmandatory_share = 2\n")
    variant(folder, "v", "[offsets]\nvoluntary_share = 0.3\n")
    assert problems(folder, "v") == [f"{folder}/instance.toml:11: offsets.mandatory_share: "
                                     "must be at most 1, got 2"]


def test_member_state_override_problems(folder: Path) -> None:
    variant(folder, "v", "[member_states.AT]\ndeduction = 2\npopulaton = 5\ncode = \"XX\"\n"
            "langs = [1]\n\n[member_states.SE]\ndeduction = 0.5\n\n[member_states.BEL]\n"
            "deduction = 0\n\n[member_states.IT]\nbenefitting = \"perhaps\"\n")
    assert problems(folder, "v") == [
        f"{folder}/variants/v.toml:2: member_states.AT.deduction: must be at most 1, got 2",
        f"{folder}/variants/v.toml:3: member_states.AT.populaton: unknown column: did you "
        "mean 'population'?",
        f"{folder}/variants/v.toml:4: member_states.AT.code: a variant cannot change a "
        "state's code",
        f"{folder}/variants/v.toml:5: member_states.AT.langs: unknown column (member_states.csv"
        " has: code, name, population, gdp_eur_million, participates, benefitting, status, "
        "deduction, share)",
        f"{folder}/variants/v.toml:7: member_states.SE: unknown state SE (not in "
        f"{folder}/member_states.csv)",
        f"{folder}/variants/v.toml:10: member_states.BEL: 'BEL' is not a two-letter state code",
        f"{folder}/variants/v.toml:14: member_states.IT.benefitting: not a boolean "
        "(true/false, yes/no, 1/0): 'perhaps'",
    ]


def test_tables_problems(folder: Path) -> None:
    variant(folder, "v", '[tables]\npledges = "nope.csv"\ncandidates = "c.csv"\nplan = "p.csv"'
            "\nneeds = 3\n")
    assert problems(folder, "v") == [
        f"{folder}/variants/v.toml:2: tables.pledges: file not found: {folder}/nope.csv",
        f"{folder}/variants/v.toml:3: tables.candidates: candidates.csv cannot be replaced by "
        "a variant (only member_states, pledges, needs, responsibility)",
        f"{folder}/variants/v.toml:4: tables.plan: unknown table (one of: member_states, "
        "pledges, needs, responsibility)",
        f"{folder}/variants/v.toml:5: tables.needs: must be a file name in quotes, relative to "
        "the instance folder",
    ]


def test_a_bad_row_of_a_replacement_table_names_that_file(folder: Path) -> None:
    (folder / "alt").mkdir()
    write_csv(folder / "alt" / "pledges.csv", [pledge("AT-1", "AT", "relocation", 5, 5),
                                               pledge("BE-1", "BE", "financial", 9, 2)])
    variant(folder, "v", '[tables]\npledges = "alt/pledges.csv"\n')
    assert problems(folder, "v") == [f"{folder}/alt/pledges.csv:3: min: min 9 is above max 2"]


def test_missing_or_broken_variant_file(folder: Path) -> None:
    variant(folder, "ok", "")
    assert load_instance(folder, "ok").config == load_instance(folder).config
    assert problems(folder, "nope") == [f"{folder}/variants/nope.toml:0: -: variant 'nope' "
                                        "not found (the instance has: ok)"]
    variant(folder, "bad", "[pool]\nrelocations = 100 persons\n")
    assert problems(folder, "bad") == [f"{folder}/variants/bad.toml:2: -: not valid TOML: "
                                       "Expected newline or end of document after a statement"]
    assert problems(folder, "base") == [f"{folder}/variants/base.toml:0: -: 'base' cannot name"
                                        " a variant (letters, digits, '-', '_', '.'; not base "
                                        "or comparison)"]


# --- the variants eu-2026 ships -------------------------------------------------------------

SHIPPED = ("all-relocation", "beneficiary-agreements", "commission-proposal",
           "estonia-deduction", "key-2015", "no-deductions", "population-2024",
           "redistribute-key")


def test_eu_2026_ships_the_variants_of_the_issue() -> None:
    assert tuple(variant_names(EU_2026)) == SHIPPED
    for name in SHIPPED:
        load_instance(EU_2026, name)  # valid


def test_commission_proposal_and_no_deductions() -> None:
    base = compute_key(load_instance(EU_2026))
    proposal = load_instance(EU_2026, "commission-proposal")
    assert (proposal.config.pool.relocations, proposal.config.pool.financial_eur,
            proposal.config.pool.rate) == (30_000, 600_000_000, 20_000)
    assert compute_key(proposal)["DE"].obligation == math.ceil(0.216890 * 30_000)  # 6507
    free = compute_key(load_instance(EU_2026, "no-deductions"))
    for code in ("AT", "CZ", "HR", "PL"):
        assert base[code].obligation == 0
        assert free[code].obligation == math.ceil(round(free[code].share * 21_000, 9))
        assert free[code].obligation > 0


def test_estonia_deduction_and_population_2024() -> None:
    """estonia-deduction: EE owes half its share (its request, Arts 61-62), rounded up;
    population-2024: member_states.csv with the 1 January 2024 rows of the shared data, so
    the computed shares move and the official DE and FR shares do not."""
    base = compute_key(load_instance(EU_2026))
    halved = compute_key(load_instance(EU_2026, "estonia-deduction"))
    assert halved["EE"].deduction == 0.5
    assert halved["EE"].obligation == math.ceil(round(base["EE"].share * 21_000 * 0.5, 9))
    assert {c: k.obligation for c, k in halved.items() if c != "EE"} == {
        c: k.obligation for c, k in base.items() if c != "EE"}
    older = load_instance(EU_2026, "population-2024")
    # Eurostat's 27 values on 1 January 2024 sum to 449,206,579 (the published EU total,
    # 449,206,600 rounded); each row says which vintage it is.
    assert math.fsum(s.population for s in older.states) == 449_206_579
    for name, date in (("variants/member_states-population-2024.csv", "1 Jan 2024"),
                       ("member_states.csv", "1 Jan 2025")):
        with (EU_2026 / name).open(encoding="utf-8", newline="") as handle:
            assert all(date in r["population_source"] for r in csv.DictReader(handle)), name
    key = compute_key(older)
    assert (key["DE"].obligation, key["FR"].obligation) == (4555, 3361)  # official shares
    assert key["IE"].share != base["IE"].share


def test_eu_2026_pledges_as_announced() -> None:
    """Rules section 8: IE pays EUR 9.26 million and relocates no one; BE pays money only,
    EUR 12.9 million; NL pays money, no alternative measures; every row cites a source."""
    loaded = load_instance(EU_2026)
    rows = {(p.state, p.measure.value): (p.min, p.max) for p in loaded.pledges
            if p.state in ("IE", "BE", "NL")}
    assert rows == {("IE", "financial"): (9_260_000, 9_260_000),
                    ("BE", "financial"): (12_900_000, 12_900_000),
                    ("NL", "financial"): (0, rows[("NL", "financial")][1])}
    # Ireland's EUR 9.26 million is its whole obligation with the 2025 population: 463 persons.
    assert compute_key(loaded)["IE"].obligation * 20_000 == 9_260_000
    with (EU_2026 / "pledges.csv").open(encoding="utf-8", newline="") as handle:
        sources = [r["source"] for r in csv.DictReader(handle)]
    assert len(sources) == len(loaded.pledges) and all(sources)


def test_redistribute_key_shares_sum_to_one_over_contributors() -> None:
    key = compute_key(load_instance(EU_2026, "redistribute-key"))
    shares = [k.share for k in key.values() if k.role == "contributor"]
    assert math.isclose(math.fsum(shares), 1.0, abs_tol=1e-12)


def test_all_relocation_pledges_each_contributor_its_whole_obligation() -> None:
    base = compute_key(load_instance(EU_2026))
    loaded = load_instance(EU_2026, "all-relocation")
    owed = {c: k.obligation for c, k in base.items() if k.role == "contributor" and k.obligation}
    assert {p.state: (p.measure.value, p.min, p.max) for p in loaded.pledges} == {
        c: ("relocation", o, o) for c, o in owed.items()}


def test_key_2015_columns_follow_their_documented_formula() -> None:
    """asylum_component and unemployment_component, recomputed from the raw columns of the
    same file (README "Variants"): pg_i x clamp(mean / rate_i, 0.7, 1.3), pg = the 50/50
    population-GDP share over the participants, mean = the participants' rate over their
    population (applicants per million; population-weighted unemployment rate)."""
    path = EU_2026 / "variants" / "member_states-key-2015.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    part = [r for r in rows if r["participates"] == "true"]
    pop = math.fsum(float(r["population"]) for r in part)
    gdp = math.fsum(float(r["gdp_eur_million"]) for r in part)
    asylum_mean = math.fsum(float(r["applicants_2024"]) for r in part) / pop * 1e6
    jobless_mean = math.fsum(float(r["unemployment_rate_2024"]) * float(r["population"])
                             for r in part) / pop
    for r in rows:
        pg = 0.5 * float(r["population"]) / pop + 0.5 * float(r["gdp_eur_million"]) / gdp
        rate = float(r["applicants_2024"]) / float(r["population"]) * 1e6
        asylum = pg * min(1.3, max(0.7, asylum_mean / rate))
        jobless = pg * min(1.3, max(0.7, jobless_mean / float(r["unemployment_rate_2024"])))
        assert float(r["asylum_component"]) == pytest.approx(asylum, abs=1e-9), r["code"]
        assert float(r["unemployment_component"]) == pytest.approx(jobless, abs=1e-9), r["code"]
        assert r["share"] == ""  # the 2026 annex shares belong to the 2026 key
    loaded = load_instance(EU_2026, "key-2015")
    key = compute_key(loaded)
    assert math.isclose(math.fsum(k.share for k in key.values()), 1.0, abs_tol=1e-12)
    # Germany: many applicants (factor 0.75) and low unemployment (capped at 1.3)
    de = next(r for r in rows if r["code"] == "DE")
    assert float(de["asylum_component"]) < float(de["unemployment_component"])
