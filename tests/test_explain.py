"""`planner explain` and report.html's per-state section (issue 17, item 3) on eu-2026: every
figure is computed here by hand from the instance's CSV files and instance.toml (or, for what
the plan decided, from the plan's own CSV files), never by the code under test."""

from __future__ import annotations

import csv
import io
import math
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.inputs.load import load_instance
from planner.pipeline import Plan, plan, render, write
from planner.report.explain import Explanation, explain, explain_text, facts_of_tables

pytestmark = pytest.mark.solver

EU_2026 = Path(__file__).resolve().parents[1] / "instances" / "eu-2026"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def rendered(planned: Plan, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render(planned)[name].decode())))


STATES = {r["code"]: r for r in rows(EU_2026 / "member_states.csv")}
PLEDGES = rows(EU_2026 / "pledges.csv")
TOML = tomllib.loads((EU_2026 / "instance.toml").read_text(encoding="utf-8"))
RELOCATIONS = TOML["pool"]["relocations"]  # 21,000
RATE = TOML["pool"]["financial_eur"] / RELOCATIONS  # EUR 20,000
PARTICIPANTS = [c for c, r in STATES.items() if r["participates"] == "true"]
POPULATION = sum(float(STATES[c]["population"]) for c in PARTICIPANTS)
GDP = sum(float(STATES[c]["gdp_eur_million"]) for c in PARTICIPANTS)


def by_hand(code: str) -> dict[str, float]:
    """Annex I with 50/50 weights over the participants; official share where given;
    obligation = share x 21,000 x (1 - deduction), rounded up (instance.toml: ceil)."""
    row = STATES[code]
    population = 0.5 * float(row["population"]) / POPULATION
    gdp = 0.5 * float(row["gdp_eur_million"]) / GDP
    share = float(row["share"]) if row["share"] else population + gdp
    deduction = float(row["deduction"] or 0)
    exact = share * RELOCATIONS * (1 - deduction)
    return {"population": population, "gdp": gdp, "share": share, "exact": exact,
            "obligation": math.ceil(round(exact, 9)), "deduction": deduction}


@pytest.fixture(scope="module")
def planned() -> Plan:
    return plan(load_instance(EU_2026))


def explained(planned: Plan, code: str) -> Explanation:
    return explain(facts_of_tables(planned.instance, planned.tables, planned.summary), code)


def test_the_hand_computed_key_of_eu_2026() -> None:
    """The figures the tests below expect, as the 2026 annex has them (rules.md section 8)."""
    assert len(PARTICIPANTS) == 26 and "DK" not in PARTICIPANTS
    assert (by_hand("DE")["obligation"], by_hand("FR")["obligation"]) == (4555, 3361)
    assert by_hand("AT")["obligation"] == 0 and by_hand("AT")["deduction"] == 1


@pytest.mark.parametrize("code", ["AT", "DE", "FR"])
def test_share_parts_totals_and_states_summed_over(planned: Plan, code: str) -> None:
    hand = by_hand(code)
    e = explained(planned, code)
    population, gdp = e.parts
    assert (population.column, gdp.column) == ("population", "gdp_eur_million")
    assert (population.weight, gdp.weight) == (0.5, 0.5)
    assert population.total == POPULATION and gdp.total == GDP
    assert population.part == pytest.approx(hand["population"], rel=1e-12)
    assert gdp.part == pytest.approx(hand["gdp"], rel=1e-12)
    assert sorted(e.over) == sorted(PARTICIPANTS)
    text = explain_text(e)
    assert f"{float(STATES[code]['population']):,.0f} / {POPULATION:,.0f}" in text
    assert f"/ {GDP:,.0f} = {hand['gdp']:.6%}" in text
    assert "over the 26 participating states" in text


@pytest.mark.parametrize("code", ["DE", "FR"])
def test_official_share_and_its_difference(planned: Plan, code: str) -> None:
    hand = by_hand(code)
    computed = hand["population"] + hand["gdp"]
    difference = (hand["share"] - computed) * 100
    text = explain_text(explained(planned, code))
    assert f"official share {hand['share']:.6%} used as given" in text
    assert f"difference {difference:+.6f} points" in text
    # DE: 21.6890 % official against 21.6403 % computed (+0.0487 points); FR below its own.
    assert (difference > 0) == (code == "DE")


@pytest.mark.parametrize("code", ["AT", "DE", "FR"])
def test_deduction_rounding_and_obligation_in_persons_and_eur(planned: Plan, code: str) -> None:
    hand = by_hand(code)
    e = explained(planned, code)
    assert e.obligation_exact == pytest.approx(hand["exact"], abs=1e-9)
    assert e.allocation.obligation == hand["obligation"]
    assert e.allocation.obligation_eur == hand["obligation"] * RATE
    text = explain_text(e)
    assert f"= {hand['exact']:,.4f}" in text
    assert f"obligation {hand['obligation']:,} persons" in text
    assert f"EUR {hand['obligation'] * RATE:,.0f} at EUR 20,000 each" in text


def test_austria_owes_nothing_because_of_its_full_deduction(planned: Plan) -> None:
    text = explain_text(explained(planned, "AT"))
    assert "deduction 100% (Arts 61-62; status significant)" in text
    assert "x 21,000 x (1 - 1) = 0.0000" in text
    assert "no pledge rows" in text
    assert "AT's mandatory share: 0 persons" in text


def test_pledge_rows_used_fully_and_where_they_go(planned: Plan) -> None:
    """DE offsets its whole obligation (4,555 persons, assigned to no benefitting state: no
    responsibility.csv); FR's two rows are taken whole: 400 persons to IT (directed) and
    EUR 59,220,000, whose flows sum to the row."""
    de, fr = explained(planned, "DE"), explained(planned, "FR")
    assert [(u.row.pledge_id, u.full, u.reasons) for u in de.rows] == [("DE-1", True, ())]
    assert [(u.row.pledge_id, u.full) for u in fr.rows] == [("FR-1", True), ("FR-2", True)]
    assert de.flows == (("", "offset", 4555.0, 4555.0),)
    flows = rendered(planned, "distribution.csv")
    fr_money = sum(float(f["amount"]) for f in flows
                   if f["contributor"] == "FR" and f["measure"] == "financial")
    assert fr_money == pytest.approx(59_220_000)
    assert [f for f in fr.flows if f[1] == "relocation"] == [("IT", "relocation", 400.0, 400.0)]
    assert math.fsum(f[2] for f in fr.flows if f[1] == "financial") == pytest.approx(59_220_000)
    text = explain_text(fr)
    assert "FR-1 relocation (preference 1, min 400 persons, max 400 persons): the plan takes " \
           "400 persons = 400 relocation-equivalents; used fully" in text
    assert "to IT: 400 persons relocation" in text
    assert "to no benefitting state (offsets not assigned" in explain_text(de)


def test_a_row_not_used_fully_says_why(planned: Plan) -> None:
    """PT owes ceil(share x 21,000) = 427; its rank-1 row PT-1 gives 250 persons, so its
    rank-2 money row gives the remaining 177 relocation-equivalents (EUR 3,540,000 of 8,540,000):
    capped at the obligation, after the row it ranked higher."""
    obligation = by_hand("PT")["obligation"]
    pt1 = next(float(p["max"]) for p in PLEDGES if p["pledge_id"] == "PT-1")
    assert (obligation, pt1) == (427, 250)
    e = explained(planned, "PT")
    use = {u.row.pledge_id: u for u in e.rows}
    assert use["PT-1"].full and not use["PT-2"].full
    assert use["PT-2"].row.amount == (obligation - pt1) * RATE
    assert use["PT-2"].reasons == ("cap", "preference")
    assert use["PT-2"].ranked_higher == ("PT-1",)
    assert "EUR 3,540,000 = 177 relocation-equivalents; not used fully: cap at the obligation" \
        in explain_text(e)


def test_offsets_status(planned: Plan) -> None:
    """Pledged relocations: each state's relocation maxima, capped at its obligation (FR 400,
    RO 220, PT 250, FI 50, LT 15, SI 15, LU 12 = 962), below half the proposal's 30,000. FR's
    mandatory part is its cap, obligation minus pledged relocations (3,361 - 400), smaller than
    its key share of the gap; DE's voluntary offsets count instead of a mandatory part."""
    pledged = sum(min(float(p["max"]), by_hand(p["state"])["obligation"]) for p in PLEDGES
                  if p["measure"] == "relocation")
    threshold = 0.5 * TOML["proposal"]["relocations"]
    assert (pledged, threshold) == (962, 15_000)
    fr = explain_text(explained(planned, "FR"))
    assert f"pledged relocations {pledged:,.0f} do not reach the threshold {threshold:,.0f}" in fr
    assert "voluntary offsets not allowed" in fr
    assert f"FR's mandatory share: {3361 - 400:,} persons, of which planned 0" in fr
    de = explain_text(explained(planned, "DE"))
    assert "its 4,555 offsets are counted as voluntary" in de
    assert "DE's mandatory share: 0 persons (its voluntary offsets count instead)" in de


def test_candidates_places_and_filled(planned: Plan) -> None:
    placed = sum(1 for a in rendered(planned, "assignments.csv") if a["to_state"] == "FR")
    costs = [r for r in rendered(planned, "matchability.csv")
             if r["kind"] == "restriction" and r["subject"] == "FR-1"]
    e = explained(planned, "FR")
    assert e.candidates is not None
    assert (e.candidates.places, e.candidates.placed) == (400, placed)
    assert [(p, c) for p, c, _ in e.candidates.restrictions] == [
        (r["subject"], r["criterion"]) for r in costs]
    assert f"400 relocation places, {placed:,} persons placed in them" in explain_text(e)


def test_the_command(planned: Plan) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["explain", str(EU_2026), "DE", "-q"])
    assert done.exit_code == 0, done.output
    assert done.stdout == explain_text(explained(planned, "DE"))
    unknown = runner.invoke(app, ["explain", str(EU_2026), "XX", "-q"])
    assert unknown.exit_code == 2 and "STATE: 'XX' is not a state of the plan" in unknown.stderr
    assert runner.invoke(app, ["explain", "a", "b", "c"]).exit_code == 2


def test_report_html_has_a_section_per_state(planned: Plan, tmp_path: Path) -> None:
    folder = write(planned, tmp_path / "out")
    page = (folder / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="explain">'):]
    section = section[:section.index("</section>")]
    codes = [r["state"] for r in rendered(planned, "allocation.csv")]
    assert all(f'<details id="explain-{c}"' in section for c in codes)
    at = section[section.index('id="explain-AT"'):section.index('id="explain-BE"')]
    assert "deduction 100% (Arts 61-62; status significant)" in at
    fr = section[section.index('id="explain-FR"'):section.index('id="explain-HR"')]
    assert "official share 16.002100% used as given" in fr


def test_terminal_table_shows_the_pool_deductions_and_shortfall_apart(planned: Plan) -> None:
    """After `run`: a deduction column, then the pool's numbers down to the obligations
    (contributors' fair shares, the benefitting states' shares kept, deductions by state),
    then shortfall and surplus each on its own."""
    from planner.report.terminal import terminal_text

    contributors = [c for c in PARTICIPANTS if STATES[c]["benefitting"] != "true"]
    benefitting = [c for c in PARTICIPANTS if STATES[c]["benefitting"] == "true"]
    fair = math.fsum(by_hand(c)["share"] * RELOCATIONS for c in contributors)
    kept = math.fsum(by_hand(c)["share"] * RELOCATIONS for c in benefitting)
    deducted = math.fsum(by_hand(c)["share"] * RELOCATIONS * by_hand(c)["deduction"]
                         for c in contributors)
    owed = sum(by_hand(c)["obligation"] for c in contributors)
    given = sum(float(r["value"]) for r in rendered(planned, "plan.csv"))
    short = sum(max(0.0, by_hand(c)["obligation"]
                    - sum(float(r["value"]) for r in rendered(planned, "plan.csv")
                          if r["state"] == c)) for c in contributors)
    text = " ".join(terminal_text(planned.tables, planned.summary, "out", False,
                                  "utf-8").split())
    assert "state ┃ share % ┃ deduct. ┃ obligation" in text
    assert "│ AT │ 2.4389 │ 100% │ 0 │" in text and "│ CY* │" in text
    assert (f"pool (Council, Art. 57): 21,000 relocations or EUR 420,000,000; contributors' "
            f"fair shares {fair:,.2f} (benefitting states' shares {kept:,.2f} not passed on); "
            f"deductions (Arts 61-62) {deducted:,.2f} (AT 100%, CZ 100%, HR 100%, PL 100%); "
            f"obligations after rounding (ceil) {owed:,.2f}; planned value {given:,.2f}") in text
    assert f"shortfall {short:,.2f} and surplus 0.00 relocation-equivalents" in text
    assert (owed, short) == (13_294, 685)


def test_a_row_the_covered_need_leaves_unused(make_instance) -> None:
    """Three equal states (shares 1/3): AA owes ceil(100 / 3) = 34. BB's fixed 5 relocations
    cover IT's relocation need of 5, so AA's relocation row, ranked as its money row, is left
    unused (no need left), and its money row gives all 34 (EUR 680,000 of 2,000,000)."""
    from conftest import pledge, state

    folder = make_instance(
        [state("AA"), state("BB"), state("IT", benefitting="true")],
        [pledge("AA-1", "AA", "relocation", 0, 40), pledge("AA-2", "AA", "financial", 0,
                                                             2_000_000),
         pledge("BB-1", "BB", "relocation", 5, 5)],
        needs=[{"state": "IT", "measure": "relocation", "amount": 5},
               {"state": "IT", "measure": "financial", "amount": 2_000_000}])
    planned = plan(load_instance(folder))
    e = explained(planned, "AA")
    use = {u.row.pledge_id: u for u in e.rows}
    assert (e.allocation.obligation, use["AA-2"].row.amount) == (34, 680_000)
    assert (use["AA-1"].row.amount, use["AA-1"].reasons) == (0, ("cap", "no_need"))
    assert use["AA-2"].reasons == ("cap",)
    assert "no need left: the benefitting states this row may serve have their need for this " \
           "measure covered" in explain_text(e)


@pytest.mark.parametrize("implement", [False, True])
def test_a_benefitting_states_rows(make_instance, implement: bool) -> None:
    """AA (population 2 m, GDP 20,000), IT and EL (1 m, 10,000): IT's share 0.25 of 100.
    By default IT's rows are not implemented (amount 0). With benefitting.implement_pledges
    they count up to its fair share, 25: it2 (rank 1) gives its 10 persons, it1 (rank 2) the
    remaining 15 relocation-equivalents, EUR 300,000 of 600,000."""
    from conftest import pledge, state

    folder = make_instance(
        [state("AA", 2_000_000, 20_000), state("IT", benefitting="true", status="pressure"),
         state("EL", benefitting="true", status="pressure")],
        [pledge("a1", "AA", "relocation", 0, 50),
         pledge("it1", "IT", "financial", 0, 600_000, preference=2),
         pledge("it2", "IT", "relocation", 5, 10, preference=1)],
        extra_toml="[benefitting]\nimplement_pledges = true\n" if implement else "")
    e = explained(plan(load_instance(folder)), "IT")
    use = {u.row.pledge_id: (u.row.amount, u.full, u.reasons) for u in e.rows}
    if implement:
        assert use == {"it1": (300_000, False, ("fair_share", "preference")),
                       "it2": (10, True, ())}
        assert "count up to its fair share, 25.000000% x 100" in explain_text(e)
    else:
        assert use == {"it1": (0, False, ("not_implemented",)),
                       "it2": (0, False, ("not_implemented",))}
