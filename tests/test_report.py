"""report.html without a browser: self-contained, deterministic, the CSVs' numbers, no person."""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
import sys
import warnings
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import HANG_S, csv_dicts, write_csv
from pydantic import BaseModel

from models.results import (
    AllocationRow,
    AssignmentRow,
    CoverageRow,
    DistributionRow,
    KeySummary,
    MatchabilityRow,
    Matching,
    PlanRow,
    SolverInfo,
    Summary,
    Totals,
    UnassignedRow,
)
from planner import comparison as compare
from planner.optimise.solve import SolverOptions
from planner.outputs import registry
from planner.outputs.export import write_tables
from planner.outputs.fileio import TableError, fmt
from planner.outputs.registry import OutputFile
from planner.pipeline import run
from planner.report.html import write_report
from planner.report.html_compare import write_comparison_report

pytestmark = [pytest.mark.solver, pytest.mark.cli]

REPO = Path(__file__).resolve().parents[1]
# The key section of a hand-made summary: only the rate matters to the report (EUR amounts
# shown as relocation-equivalents).
RATE_ONLY = KeySummary(weights={}, redistribute=False, rounding="ceil",
                       eur_per_relocation=20_000.0, official_shares={})
EU_2026 = REPO / "instances" / "eu-2026"


class Cells(HTMLParser):
    """Every element with data-value: (table, row, col) -> (exact value, shown text)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str, str], tuple[str, str]] = {}
        self.ids: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._open: tuple[str, str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.append(a["id"])
        if "data-value" in a:
            self._open = (a["data-table"], a["data-row"], a["data-col"])
            self.cells[self._open] = (a["data-value"], "")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag in ("td", "div"):
            self.cells[self._open] = (self.cells[self._open][0], "".join(self._text))
            self._open = None


def parse(path: Path) -> Cells:
    cells = Cells()
    cells.feed(path.read_text(encoding="utf-8"))
    return cells


def shown(text: str) -> float:
    """The number a person reads: separators dropped, a percent made a fraction."""
    clean = text.replace(",", "").replace("\u00a0", "").strip()
    return float(clean[:-1]) / 100 if clean.endswith("%") else float(clean)


@pytest.fixture(scope="module")
def eu_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """instances/eu-2026 (with its 1,200 candidates) planned, verified and reported."""
    out = tmp_path_factory.mktemp("eu") / "base"
    run(EU_2026, out, SolverOptions())
    return out


# --- a hand-made run folder: every number below is known -------------------------------------

def allocation(state: str, role: str, obligation: float, relocation: float = 0,
               offset: float = 0, financial: float = 0) -> AllocationRow:
    value = relocation + offset + financial / 20_000
    return AllocationRow(state=state, name=f"State {state}", role=role, share=0.5,
                         share_computed=0.5, deduction=0, obligation=obligation,
                         obligation_eur=obligation * 20_000, relocation=relocation,
                         offset=offset, financial_eur=financial, alternative_eur=0, value=value,
                         balance=value - obligation, shortfall=max(obligation - value, 0),
                         mandatory_offset=0)


def hand_made(folder: Path) -> Path:
    """A contributes 20 relocations and EUR 600,000 (= 30) against 60; B 40 offsets against
    40; both go to C. Five candidates in C: three placed in A (two cases), one not for lack of
    places, one for security."""
    folder.mkdir(parents=True)
    tables: list[tuple[OutputFile[Any], list[BaseModel]]] = [
        (registry.PLAN, [
            PlanRow(pledge_id="A-1", state="A", measure="relocation", amount=20, value=20, min=0,
                    max=20, preference=1),
            PlanRow(pledge_id="A-2", state="A", measure="financial", amount=600_000, value=30,
                    min=0, preference=2),
            PlanRow(pledge_id="B-1", state="B", measure="offset", amount=40, value=40, min=40,
                    max=40, preference=1)]),
        (registry.ALLOCATION, [
            allocation("A", "contributor", 60, relocation=20, financial=600_000),
            allocation("B", "contributor", 40, offset=40), allocation("C", "benefitting", 0)]),
        (registry.DISTRIBUTION, [
            DistributionRow(contributor="A", beneficiary="C", measure="relocation", amount=20,
                            pledge_id="A-1", value=20),
            DistributionRow(contributor="A", beneficiary="C", measure="financial",
                            amount=600_000, pledge_id="A-2", value=30),
            DistributionRow(contributor="B", beneficiary="C", measure="offset", amount=40,
                            pledge_id="B-1", value=40)]),
        (registry.COVERAGE, [
            CoverageRow(beneficiary="C", measure="financial", need=1_000_000, need_stated=True,
                        received=600_000, ratio=0.6),
            CoverageRow(beneficiary="C", measure="relocation", need=40, need_stated=True,
                        received=20, ratio=0.5)]),
        (registry.ASSIGNMENTS, [
            AssignmentRow(person_id=p, case_id=c, from_state="C", to_state="A", pledge_id="A-1",
                          score=1) for p, c in (("P-1", "K-1"), ("P-2", "K-1"), ("P-3", "K-2"))]),
        (registry.UNASSIGNED, [
            UnassignedRow(person_id="P-4", case_id="K-3", location="C", reason="capacity"),
            UnassignedRow(person_id="P-5", case_id="K-4", location="C", reason="security")]),
        (registry.MATCHABILITY, [
            MatchabilityRow(kind="bound", subject="persons_relocated", criterion="", value=3,
                            text="at most 3 of 4 persons can be relocated to 20 places"),
            MatchabilityRow(kind="bottleneck", subject="C", criterion="", value=1,
                            text="C: 1 person with no eligible place")])]
    summary = Summary(
        instance="hand", variant="base", status="optimal",
        totals=Totals(obligation=100, relocation=20, offset=40, financial_eur=600_000,
                      alternative_eur=0, value=90, shortfall=10),
        matching=Matching(ran=True, persons_total=5, persons_eligible=4, persons_assigned=3,
                          cases_assigned=2, places=20, bound=3,
                          unassigned_by_reason={"capacity": 1, "security": 1}),
        key=RATE_ONLY, input_sha256="0" * 64, version="test",
        solver=SolverInfo(requested="highs", name="highs", version="x"))
    write_tables(folder, tables, summary)
    return folder


def test_hand_made_run_shows_its_known_numbers(tmp_path: Path) -> None:
    folder = hand_made(tmp_path / "run")
    write_report(folder)
    text = (folder / "report.html").read_text(encoding="utf-8")
    cells = parse(folder / "report.html").cells
    assert "The plan meets 90 of 100 relocation-equivalents of obligations (90.0%); " \
           "shortfall 10." in text
    assert cells["summary", "totals", "shortfall"] == ("10", "10")
    assert cells["summary", "totals", "financial_eur"] == ("600000", "600,000")
    assert cells["allocation", "A", "balance"] == ("-10", "-10")
    assert cells["coverage", "C/financial", "ratio"] == ("0.6", "60.0\u00a0%")
    # Matching only as counts: C holds five candidates, three placed, one short of places,
    # one refused on security; A received three persons in two family units of its 20 places.
    origin = {col: cells["matching-origin", "C", col][0] for col in (
        "persons", "assigned", "capacity", "no_eligible_place", "consent", "security")}
    assert origin == {"persons": "5", "assigned": "3", "capacity": "1", "no_eligible_place": "0",
                      "consent": "0", "security": "1"}
    receiving = {col: cells["matching-receiving", "A", col][0]
                 for col in ("places", "persons", "cases", "free")}
    assert receiving == {"places": "20", "persons": "3", "cases": "2", "free": "17"}
    assert not {r for t, r, _ in cells if t == "matching-receiving"} - {"A"}
    for person in ("P-1", "P-2", "P-3", "P-4", "P-5", "K-1", "K-2", "K-3", "K-4"):
        assert person not in text
    # Charts: each has its title, axis units and a legend.
    for title, unit in (("Each contributor's plan against its obligation", "relocation-eq"),
                        ("Coverage of needs per benefitting state", "% of the stated need"),
                        ("Flows from contributors to benefitting states", "relocation-eq"),
                        ("Matching outcome per benefitting state", "persons"),
                        ("Matching bottlenecks", "persons who cannot be placed")):
        assert f">{title}</text>" in text and unit in text
    legends = re.findall(r'<g id="chart-([a-z]+)-legend_1"', text)
    assert legends == ["mix", "coverage", "matching", "bottlenecks"]
    assert 'id="chart-flows-' in text and text.count("relocation-equivalents (1 = ") >= 3  # the
    # heat map's colour bar is its legend, labelled with the unit


def test_candidate_counts_follow_the_csvs_and_refuse_an_unknown_reason(tmp_path: Path) -> None:
    """The candidates are counted from assignments.csv and unassigned.csv themselves (their
    needed columns only, not summary.json): one more person placed in the CSV, in B, is one
    more on the page; a reason the row model does not know is refused, as it was when every
    row was read through the model."""
    folder = hand_made(tmp_path / "run")
    with (folder / registry.ASSIGNMENTS.file).open("a", encoding="utf-8") as handle:
        handle.write("P-6,K-5,C,B,B-1,1,\n")
    write_report(folder)
    cells = parse(folder / "report.html").cells
    assert (cells["matching-origin", "C", "persons"][0],
            cells["matching-origin", "C", "assigned"][0]) == ("6", "4")
    receiving = {col: cells["matching-receiving", "B", col][0]
                 for col in ("places", "persons", "cases", "free")}
    assert receiving == {"places": "0", "persons": "1", "cases": "1", "free": "-1"}
    assert cells["matching-receiving", "A", "cases"][0] == "2"
    unassigned = folder / registry.UNASSIGNED.file
    unassigned.write_text(unassigned.read_text().replace(",security", ",bogus"))
    with pytest.raises(TableError, match="^unassigned.csv:3: reason: Input should be "):
        write_report(folder)


def test_report_of_a_run_without_candidates_has_no_matching_part(tmp_path: Path) -> None:
    folder = hand_made(tmp_path / "run")
    for name in ("assignments", "unassigned", "matchability"):
        (folder / f"{name}.csv").unlink()
    summary = (folder / "summary.json").read_text(encoding="utf-8")
    (folder / "summary.json").write_text(summary.replace('"ran": true', '"ran": false'))
    write_report(folder)
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "Matching" not in text and "matching-origin" not in text
    assert "Persons relocated" not in text
    assert 'id="chart-mix-' in text and 'id="chart-flows-' in text


def test_report_is_self_contained(eu_run: Path) -> None:
    text = (eu_run / "report.html").read_text(encoding="utf-8")
    cells = parse(eu_run / "report.html")
    assert "<script" not in text.lower()
    assert "@import" not in text and "@font-face" not in text
    for tag, attrs in cells.tags:
        for name in ("src", "href", "xlink:href", "srcset", "action", "data"):
            target = attrs.get(name, "")
            assert not re.match(r"\s*(https?:|//|ftp:)", target, re.I), (tag, name, target)
            if name in ("src", "srcset", "data") and target:
                assert target.startswith("data:"), (tag, target)
    assert not re.search(r"url\(\s*['\"]?(?!#)", text), "only in-page url(#id) references"
    # In-page references resolve, and ids are unique although every chart came from its own SVG.
    assert len(cells.ids) == len(set(cells.ids))
    assert set(re.findall(r"url\(#([^)]+)\)", text)) <= set(cells.ids)
    assert "default-src 'none'" in text  # the browser itself refuses anything from outside


def test_report_numbers_equal_the_csvs(eu_run: Path) -> None:
    cells = parse(eu_run / "report.html").cells

    def check(table: str, row: str, col: str, csv_text: str, digits: float) -> None:
        value, text = cells[table, row, col]
        assert value == csv_text, (table, row, col)
        if csv_text:
            assert abs(shown(text) - float(csv_text)) <= digits, (table, row, col, text)

    allocation_rows = csv_dicts(eu_run / "allocation.csv")
    assert {r for t, r, _ in cells if t == "allocation"} == {r["state"] for r in allocation_rows}
    for row in allocation_rows:
        for col in ("obligation", "relocation", "offset", "financial_eur", "alternative_eur",
                    "value", "balance", "shortfall"):
            check("allocation", row["state"], col, row[col], 0.005)
        check("allocation", row["state"], "share", row["share"], 0.5e-6)
    for row in csv_dicts(eu_run / "coverage.csv"):
        key = f"{row['beneficiary']}/{row['measure']}"
        if row["need_stated"] == "true" or float(row["received"]):
            check("coverage", key, "ratio", row["ratio"], 0.0005)
            check("coverage", key, "received", row["received"], 0.005)
    for row in csv_dicts(eu_run / "plan.csv"):
        check("plan", row["pledge_id"], "amount", row["amount"], 0.005)
        check("plan", row["pledge_id"], "value", row["value"], 0.005)
    flows = csv_dicts(eu_run / "distribution.csv")
    assert len({(r["pledge_id"], r["beneficiary"], r["measure"]) for r in flows}) == len(flows)
    for row in flows:
        check("distribution", f"{row['pledge_id']}/{row['beneficiary']}/{row['measure']}",
              "value", row["value"], 0.005)
    summary = Summary.model_validate_json((eu_run / "summary.json").read_text())
    for col, value in summary.totals.model_dump().items():
        check("summary", "totals", col, fmt(value), 0.005)
    check("summary", "matching", "persons_assigned", str(summary.matching.persons_assigned), 0)
    # The matching counts: every candidate exactly once, per benefitting state and reason.
    assigned = csv_dicts(eu_run / "assignments.csv")
    unassigned = csv_dicts(eu_run / "unassigned.csv")
    locations = {r["from_state"] for r in assigned} | {r["location"] for r in unassigned}
    for loc in locations:
        assert cells["matching-origin", loc, "assigned"][0] == str(
            sum(r["from_state"] == loc for r in assigned))
        for reason in ("capacity", "no_eligible_place", "consent", "security"):
            assert cells["matching-origin", loc, reason][0] == str(
                sum(r["location"] == loc and r["reason"] == reason for r in unassigned))
    assert sum(int(cells["matching-origin", loc, "persons"][0]) for loc in locations) == 1200


def test_report_holds_no_candidate_data(eu_run: Path) -> None:
    text = (eu_run / "report.html").read_text(encoding="utf-8")
    candidates = csv_dicts(EU_2026 / "candidates.csv")
    assert len(candidates) == 1200
    words = set(re.findall(r"[A-Za-z0-9_-]+", text))
    for person in candidates:
        assert person["person_id"] not in words and person["case_id"] not in words
    # Nationalities a pledge row's profile criteria name (pledges.csv, public input: RO-1's
    # list appears in a bottleneck sentence) are not candidate data.
    criteria = {code for row in csv_dicts(EU_2026 / "pledges.csv")
                for code in row.get("nationalities", "").split(";") if code}
    nationalities = {p["nationality"] for p in candidates if p["nationality"]} - criteria
    assert len(nationalities) > 5 and not nationalities & words
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # registration dates (and no run date)
    assert not re.search(r"\bP\d{7}\b", text)


def test_report_is_byte_identical_across_processes(eu_run: Path, tmp_path: Path) -> None:
    """Same files, another process with another hash seed: the same bytes (no date, fixed SVG
    ids, sorted rows). The run's timings are not in the page."""
    copy = tmp_path / "copy"
    shutil.copytree(eu_run, copy)
    (copy / "report.html").unlink()
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; "
                    "from planner.report.html import write_report; "
                    "from planner.inputs.load import load_instance; "
                    "write_report(Path(sys.argv[1]), load_instance(Path(sys.argv[2])))",
                    str(copy), str(EU_2026)],
                   check=True, env=env, cwd=REPO, timeout=HANG_S)
    assert (copy / "report.html").read_bytes() == (eu_run / "report.html").read_bytes()


def test_report_order_key_figures_then_charts_then_tables(eu_run: Path) -> None:
    text = (eu_run / "report.html").read_text(encoding="utf-8")
    at = [text.index(f'<section id="{s}">') for s in ("key-figures", "charts", "tables")]
    assert at == sorted(at)
    charts = text[at[1]:at[2]]
    order = [charts.index(f'id="chart-{c}-') for c in ("mix", "coverage", "flows", "matching",
                                                       "bottlenecks")]
    assert order == sorted(order)


def test_planner_help_does_not_import_matplotlib() -> None:
    code = ("import sys; import planner.cli, planner.pipeline; "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)
    assert done.stdout.strip() == "False"


# --- the comparison report ---------------------------------------------------------------------

def hand_run(name: str, obligations: dict[str, float], values: dict[str, float],
             warnings: Sequence[str] = ()) -> compare.ComparedRun:
    """One run for the comparison, as `planner.comparison` gets it from a planned run: each
    state with its obligation and its value (all as money), share 0.5 of a pool of 100."""
    rows = [allocation(s, "contributor", obligations[s], financial=values[s] * 20_000)
            for s in obligations]
    total = sum(values.values())
    summary = Summary(
        instance="hand", variant=name, status="optimal",
        totals=Totals(obligation=sum(obligations.values()), relocation=0, offset=0,
                      financial_eur=total * 20_000, alternative_eur=0, value=total,
                      shortfall=sum(r.shortfall for r in rows),
                      surplus=sum(max(0.0, r.balance) for r in rows)),
        key=RATE_ONLY, warnings=list(warnings), input_sha256="0" * 64,
        version="test", solver=SolverInfo(requested="highs", name="highs", version="x"))
    return compare.ComparedRun(name, 100, 2_000_000, 20_000, {s: 1e6 for s in obligations},
                               rows, [], summary)


def hand_comparison(folder: Path, runs: Sequence[compare.ComparedRun]) -> Path:
    """`folder`/NAME/summary.json per run and `folder`/comparison written as `planner compare`
    writes them (states.csv, kpis.csv, report.html)."""
    for run_ in runs:
        (folder / run_.name).mkdir(parents=True)
        write_tables(folder / run_.name, [], run_.summary)
    compare.write_comparison(folder / "comparison", runs)
    return folder / "comparison"


THREE_RUNS = [hand_run("base", {"A": 60, "B": 40}, {"A": 50, "B": 40}),
              hand_run("more", {"A": 60, "B": 40}, {"A": 60, "B": 40}),
              hand_run("shift", {"A": 50, "B": 50}, {"A": 50, "B": 45}, ["B: look"])]


def legend_colours(text: str, chart: str) -> dict[str, str]:
    """A chart's legend: each series' label and the colour of its patch."""
    at = text.index(f'id="chart-{chart}-legend_1"')
    legend = text[at:text.index("</svg>", at)]
    fills = re.findall(r"fill: (#[0-9a-f]{6})", legend)
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", legend)
    assert len(fills) == len(labels), chart
    return dict(zip(labels, fills, strict=True))


def test_comparison_report_keeps_one_colour_per_run(tmp_path: Path) -> None:
    """Every chart colours a run alike; the change charts (variants only) do not hand the
    base's colour to the first variant."""
    comparison = hand_comparison(tmp_path, THREE_RUNS)
    text = (comparison / "report.html").read_text(encoding="utf-8")
    legends = {c: legend_colours(text, c) for c in ("obligations", "obligation-deltas",
                                                    "values", "value-deltas")}
    assert list(legends["obligations"]) == list(legends["values"]) == ["base", "more", "shift"]
    assert list(legends["obligation-deltas"]) == ["more", "shift"]
    assert list(legends["value-deltas"]) == ["more", "shift"]
    colour = legends["obligations"]
    assert len(set(colour.values())) == 3
    for legend in legends.values():
        assert legend == {run: colour[run] for run in legend}


def test_comparison_report_from_the_comparison_files(tmp_path: Path) -> None:
    """Obligations, shares (as %) and values per state and run with the change against the
    base, the indicators, the warnings, and links to the CSVs instead of their rows."""
    comparison = hand_comparison(tmp_path, THREE_RUNS)
    text = (comparison / "report.html").read_text(encoding="utf-8")
    cells = parse(comparison / "report.html").cells
    assert cells["states", "shift/A", "obligation"] == ("50", "50")
    assert cells["states", "shift/A", "obligation_delta"] == ("-10", "-10")
    assert cells["states", "shift/B", "obligation_delta"] == ("10", "+10")
    assert cells["states", "more/A", "value_delta"] == ("10", "+10")
    assert cells["states", "base/A", "share"] == ("0.5", "50.0000\u00a0%")
    # kpis: shortfall base 10 (A), more 0, shift 5 (B); surplus only in `more` (A gives 60).
    assert cells["kpis", "more/shortfall", "delta"] == ("-10", "-10")
    assert cells["kpis", "shift/shortfall", "value"] == ("5", "5")
    assert cells["kpis", "base/surplus", "value"] == ("0", "0")
    assert cells["kpis", "more/surplus", "delta"] == ("0", "0")
    assert cells["kpis", "base/gini_value_per_capita", "value"][1] == "0.056"  # 50, 40
    assert '<li class="warn">shift: B: look</li>' in text
    rows = {name: len(csv_dicts(comparison / name)) for name in ("states.csv", "kpis.csv")}
    assert rows == {"states.csv": 6, "kpis.csv": 3 * 18}
    assert '<li><a href="kpis.csv">kpis.csv</a> (54 rows)</li>' in text
    assert '<li><a href="states.csv">states.csv</a> (6 rows)</li>' in text
    assert '<a href="../base/report.html">base</a>, <a href="../more/report.html">more</a>' \
           in text
    # Only the states that moved are in a change chart: A and B for obligations, A and B
    # for values (more: A, shift: B).
    deltas = text[text.index('id="chart-obligation-deltas-'):]
    ticks = re.findall(r"<text[^>]*>([^<]*)</text>", deltas[:deltas.index("</svg>")])
    assert "A" in ticks and "B" in ticks
    assert "<script" not in text
    # Called with the comparison's parent (DIR), it writes to the same place, the same bytes.
    before = (comparison / "report.html").read_bytes()
    write_comparison_report(tmp_path)
    assert (comparison / "report.html").read_bytes() == before


def test_comparison_report_of_a_real_comparison(make_instance, tmp_path: Path) -> None:
    """tests/test_compare.py's instance: the report's numbers are kpis.csv's and states.csv's,
    and it shows no more rows than states (a row per state, per indicator)."""
    from test_compare import BIGGER, DEDUCT, NEEDS, PLEDGES, RESPONSIBILITY, STATES

    folder = make_instance(STATES, PLEDGES, NEEDS)
    write_csv(folder / "responsibility.csv", RESPONSIBILITY)
    (folder / "variants").mkdir()
    (folder / "variants" / "bigger.toml").write_text(BIGGER)
    (folder / "variants" / "deduct.toml").write_text(DEDUCT)
    compare.compare_into(folder, ["bigger", "deduct"], tmp_path / "cmp", jobs=1, quiet=True)
    comparison = tmp_path / "cmp" / "comparison"
    cells = parse(comparison / "report.html").cells
    for row in csv_dicts(comparison / "states.csv"):
        for col in ("share", "obligation", "value"):
            assert cells["states", f"{row['variant']}/{row['state']}", col][0] == row[col]
        for col in ("obligation_delta", "value_delta"):
            if row["variant"] != "base":
                assert cells["states", f"{row['variant']}/{row['state']}", col][0] == row[col]
    for row in csv_dicts(comparison / "kpis.csv"):
        key = "/".join(p for p in (row["variant"], row["kpi"], row["subject"]) if p)
        if row["kpi"] == "received":  # in kpis.csv only
            assert ("kpis", key, "value") not in cells
        else:
            assert cells["kpis", key, "value"][0] == row["value"]
    assert cells["states", "deduct/BE", "obligation_delta"] == ("-30", "-30")
    assert cells["states", "bigger/BE", "share"] == ("0.6", "60.0000\u00a0%")
    assert cells["kpis", "deduct/surplus", "value"] == ("24", "24")
    assert cells["kpis", "bigger/coverage/IT:relocation", "value"] == ("0.75", "75.0\u00a0%")
    assert cells["kpis", "deduct/coverage/IT:offset", "delta"] == ("0", "0")
    text = (comparison / "report.html").read_text(encoding="utf-8")
    # Headers and rows, not the CSVs' 90; the state picker: per state a header and 8 rows.
    assert text.count("<tr>") == 2 + 18 + 3 * 4 + 3 + 3 * (1 + 8)
    assert ("deduct: BE: planned value 54 exceeds its obligation 30: a surplus of 24 "
            "relocation-equivalents; forced by the minimums of pledge rows BE-1, BE-2") in text


def test_report_of_an_empty_plan_says_so_instead_of_drawing(tmp_path: Path) -> None:
    """No flows, no stated need, no bottleneck, nobody placed: sentences, not empty charts."""
    folder = hand_made(tmp_path / "run")
    for name in ("distribution", "coverage", "assignments"):
        header = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        (folder / f"{name}.csv").write_text(header + "\n", encoding="utf-8")
    lines = (folder / registry.MATCHABILITY.file).read_text(encoding="utf-8").splitlines()
    (folder / registry.MATCHABILITY.file).write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    write_report(folder)
    text = (folder / "report.html").read_text(encoding="utf-8")
    for sentence in ("No flows.", "No benefitting state stated a need.",
                     "No bottleneck: every eligible person fits the places."):
        assert f'<p class="empty">{sentence}</p>' in text
    cells = parse(folder / "report.html").cells
    assert cells["matching-origin", "C", "persons"][0] == "2"
    assert cells["matching-receiving", "A", "free"][0] == "20"


def test_odd_text_is_escaped_and_draws_without_warnings(tmp_path: Path) -> None:
    """Names are data: markup stays text, `$` is no TeX, an emoji is no warning, a very long
    label does not push the chart out."""
    folder = hand_made(tmp_path / "run")
    odd = 'C <b>&amp; id="z" $x$ \U0001f30d ' + "L" * 2_000
    rows = csv_dicts(folder / registry.MATCHABILITY.file)
    rows[1]["text"] = odd
    with (folder / registry.MATCHABILITY.file).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        write_report(folder)
    assert [str(w.message) for w in caught] == []
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "<b>" not in text
    # The table holds the whole text, escaped; the chart's label is cut, escaped, no TeX.
    assert parse(folder / "report.html").cells["matchability", "2", "text"][0] == odd
    assert "C &lt;b&gt;&amp;amp; id=&quot;z&quot; $x$ \U0001f30d " + "L" * 2_000 in text
    label = html.escape(odd[:59], quote=False) + "…</text>"  # 60 characters
    assert label in text
    cells = parse(folder / "report.html")
    assert len(cells.ids) == len(set(cells.ids)) and "z" not in cells.ids
