"""The self-contained report.html of a run folder (a comparison's: planner/report/html_compare.py).

The page is built from the files already written and verified in the folder, read back through
their row models (planner.outputs.fileio; the candidate tables, of which it shows counts
only, a few columns each), so its numbers are the CSVs' numbers. It loads nothing (no
scripts, fonts or images from anywhere; a Content-Security-Policy forbids it) and carries
every number twice: shown for people, and exact in `data-value` with `data-table`, `data-row`
and `data-col`, so that a program can check the page against the CSVs.

Personal data: candidates appear only as counts (per benefitting state, receiving state and
reason); no person or case id, and no candidate attribute, reaches the page.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from models.instance import Instance
from models.results import (
    AllocationRow,
    CoverageRow,
    DistributionRow,
    DistributionSummary,
    MatchabilityRow,
    OffsetsSummary,
    PlanRow,
    Summary,
)
from planner.outputs import registry
from planner.outputs.fileio import count_rows, fmt, read_summary, read_table
from planner.report.display import visible
from planner.report.terminal import information

REPORT = "report.html"
# The reasons of unassigned.csv, most often the places' first (the protection reasons and the
# bilateral agreement: beneficiaries of protection, Art. 56(2)(a)(ii)).
REASONS = ("capacity", "no_eligible_place", "no_bilateral_agreement", "protection_expired",
           "protection_date_missing", "protection_after_adoption", "consent", "security")
RE = "rel.-eq."  # relocation-equivalents, the unit of obligations and values


# --- reading -----------------------------------------------------------------------------------

@dataclass
class WrittenRun:
    """A run as its folder holds it, read back for the report."""

    folder: Path
    summary: Summary
    plan: list[PlanRow]
    allocation: list[AllocationRow]
    distribution: list[DistributionRow]
    coverage: list[CoverageRow]
    # Candidates as counts only: persons per (from_state, to_state, case_id) placed, and per
    # (location, reason) not placed; none without the matching.
    placed: Counter[tuple[str, ...]]
    not_placed: Counter[tuple[str, ...]]
    matchability: list[MatchabilityRow]

    @property
    def rate(self) -> float:
        key = self.summary.key
        return key.eur_per_relocation if key is not None else 0.0


def load_run(folder: Path) -> WrittenRun:
    """The run's summary and tables, the candidate tables as counts (planner.outputs.fileio);
    the matching's tables only when it ran."""
    summary = read_summary(folder / registry.SUMMARY.file)
    plan = read_table(folder / registry.PLAN.file, registry.PLAN)
    allocation = read_table(folder / registry.ALLOCATION.file, registry.ALLOCATION)
    distribution = read_table(folder / registry.DISTRIBUTION.file, registry.DISTRIBUTION)
    coverage = read_table(folder / registry.COVERAGE.file, registry.COVERAGE)
    if not summary.matching.ran:
        return WrittenRun(folder, summary, plan, allocation, distribution, coverage,
                          Counter(), Counter(), [])
    assignments, unassigned = registry.ASSIGNMENTS, registry.UNASSIGNED
    return WrittenRun(
        folder, summary, plan, allocation, distribution, coverage,
        count_rows(folder / assignments.file, assignments, ("from_state", "to_state", "case_id")),
        count_rows(folder / unassigned.file, unassigned, ("location", "reason")),
        read_table(folder / registry.MATCHABILITY.file, registry.MATCHABILITY))


# --- HTML pieces -------------------------------------------------------------------------------

def esc(value: object) -> str:
    """Text shown on the page: HTML-escaped, and any control, format or separator character
    of the inputs written as an escape (planner.report.display.visible), never acting."""
    return html.escape(visible(value), quote=True)


def attr(value: object) -> str:
    """The exact text for a `data-*` attribute, which programs compare with the CSVs (an
    attribute is never shown): HTML-escaped only."""
    return html.escape(str(value), quote=True)


def show(value: object, kind: str) -> str:
    """The number as a person reads it; `kind` is num (integers exact, else 2 decimals),
    share (percent, 4 decimals) or ratio (percent, 1 decimal)."""
    if value is None or value == "":
        return "–"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    if kind == "share":
        return f"{value * 100:.4f}\u00a0%"
    if kind == "ratio":
        return f"{value * 100:.1f}\u00a0%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@dataclass(frozen=True)
class Col:
    name: str
    label: str
    kind: str = "num"  # text, num, share or ratio


def table(name: str, cols: Sequence[Col], rows: Iterable[tuple[str, dict[str, object]]],
          caption: str) -> str:
    """A table whose every cell says which table, row and column it is, and its exact value."""
    head = "".join(f'<th scope="col" class="{"text" if c.kind == "text" else "num"}">'
                   f"{esc(c.label)}</th>" for c in cols)
    body = []
    for key, values in rows:
        cells = []
        for c in cols:
            value = values.get(c.name)
            where = (f'data-table="{attr(name)}" data-row="{attr(key)}" '
                     f'data-col="{attr(c.name)}" data-value="{attr(fmt(value))}"')
            if c.kind == "text":
                cells.append(f"<td {where}>{esc(fmt(value))}</td>")
            else:
                cells.append(f'<td class="num" {where}>{esc(show(value, c.kind))}</td>')
        body.append(f'<tr data-row="{attr(key)}">{"".join(cells)}</tr>')
    return (f'<table id="table-{attr(name)}" data-table="{attr(name)}"><caption>{esc(caption)}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def model_rows(rows: Iterable[BaseModel], key: Sequence[str]
               ) -> list[tuple[str, dict[str, object]]]:
    dumped = [row.model_dump() for row in rows]
    return [("/".join(fmt(values[k]) for k in key), values) for values in dumped]


def kpi(label: str, table_name: str, row: str, col: str, value: object, unit: str,
        kind: str = "num") -> str:
    return (f'<div class="kpi"><div class="label">{esc(label)}</div>'
            f'<div class="value" data-table="{attr(table_name)}" data-row="{attr(row)}" '
            f'data-col="{attr(col)}" data-value="{attr(fmt(value))}">'
            f"{esc(show(value, kind))}</div>"
            f'<div class="unit">{esc(unit)}</div></div>')


def figure(svg: str | None, caption: str, empty: str) -> str:
    if svg is None:
        return f'<p class="empty">{esc(empty)}</p>'
    return f'<figure class="chart">{svg}<figcaption>{esc(caption)}</figcaption></figure>'


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;
 margin:0 auto;max-width:1100px;padding:1.5rem;color:#1b1b1b;background:#fff;line-height:1.4}
h1{font-size:1.6rem;margin:0 0 .3rem} h2{border-bottom:2px solid #1f77b4;padding-bottom:.2rem;
 margin-top:2rem} h3{margin-top:1.5rem} .meta{color:#555;font-size:.85rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.6rem}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .7rem;background:#f6f8fa}
.kpi .label{font-size:.8rem;color:#444} .kpi .value{font-size:1.35rem;font-weight:600}
.kpi .unit{font-size:.75rem;color:#666} .warn{color:#9a3412}
figure.chart{margin:1rem 0} figure.chart svg{max-width:100%;height:auto}
figcaption{font-size:.85rem;color:#444}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border-bottom:1px solid #e1e4e8;padding:.2rem .5rem} th{background:#f6f8fa}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap} th.text{text-align:left}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem;font-size:.9rem}
dt{color:#555} dd{margin:0} .empty{color:#666;font-style:italic} .wide{overflow-x:auto}
details{border:1px solid #d0d7de;border-radius:6px;padding:.3rem .7rem;margin:.3rem 0}
details[open]{background:#fbfcfd} summary{cursor:pointer} details h4{margin:.6rem 0 .2rem}
details ul{margin:.2rem 0;font-size:.9rem}
"""
# Nothing may be fetched: not a script, font, image or style from anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def page(title: str, body: Sequence[str], style: str = "") -> str:
    """The page: `STYLE` and the page's own `style` rules in its head, then `body`."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{esc(title)}</title>'
            f"<style>{STYLE}{style}</style></head>\n<body>\n" + "\n".join(body)
            + "\n</body></html>\n")


def write_page(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# --- the run report ----------------------------------------------------------------------------

def unit_text(rate: float) -> str:
    return (f"relocation-equivalents (1 = one person or EUR {rate:,.0f})" if rate
            else "relocation-equivalents")


# The key figures of summary.json's `totals`: label, field, unit.
TOTAL_CARDS = (("Obligations", "obligation", RE), ("Planned contributions", "value", RE),
               ("Shortfall", "shortfall", f"{RE} owed and not planned"),
               ("Surplus", "surplus", f"{RE} planned beyond obligations"),
               ("Relocation places", "relocation", "persons, in the plan"),
               ("Responsibility offsets", "offset", "persons"),
               ("Financial contributions", "financial_eur", "EUR"),
               ("Alternative measures", "alternative_eur", "EUR"))


def key_figures(run: WrittenRun) -> str:
    s, t, m = run.summary, run.summary.totals, run.summary.matching
    cards = [kpi(label, "summary", "totals", column, getattr(t, column), unit)
             for label, column, unit in TOTAL_CARDS]
    if s.proposal is not None:
        cards.append(kpi("Commission proposal (Art. 12)", "summary", "proposal", "relocations",
                         s.proposal.relocations, f"relocations; the Council's pool: "
                         f"{s.proposal.pool_relocations:,}"))
    lowest = s.distribution.min_coverage if s.distribution is not None else None
    if lowest is not None:
        cards.append(kpi("Lowest coverage of a stated need", "summary", "distribution",
                         "min_coverage", lowest, "received / need", "ratio"))
    if m.ran:
        cards += [kpi("Persons relocated", "summary", "matching", "persons_assigned",
                      m.persons_assigned, f"of {m.persons_total:,} candidates"),
                  kpi("At most placeable", "summary", "matching", "bound", m.bound,
                      f"persons, for {m.places:,} places"),
                  kpi("Family units placed", "summary", "matching", "cases_assigned",
                      m.cases_assigned, f"cases; {m.family_splits} split")]
    share = f" ({t.value / t.obligation:.1%})" if t.obligation else ""
    lead = (f"Status {s.status}. The plan meets {show(t.value, 'num')} of "
            f"{show(t.obligation, 'num')} relocation-equivalents of obligations{share}; "
            f"shortfall {show(t.shortfall, 'num')}"
            + (f", surplus {show(t.surplus, 'num')} (apart: one state's surplus does not "
               "make up for another's shortfall)" if t.surplus > 1e-6 else "") + ".")
    warnings = "".join(f'<li class="warn">{esc(w)}</li>' for w in s.warnings)
    notes = "".join(f"<li>{esc(n)}</li>" for n in information(s))
    return (f'<section id="key-figures"><h2>Key figures</h2><p>{esc(lead)}</p>'
            f'<div class="kpis">{"".join(cards)}</div>'
            + (f"<h3>Warnings</h3><ul>{warnings}</ul>" if warnings else "")
            + (f"<h3>Information</h3><ul>{notes}</ul>" if notes else "") + "</section>")


def _listed(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def rules_applied(run: WrittenRun) -> str:
    s = run.summary
    key = s.key
    items = [("Key weights", _listed(key.weights if key is not None else None)),
             ("Rounding", _listed(key.rounding if key is not None else None)),
             ("EUR per relocation", show(run.rate, "num")),
             *proposal_items(s),
             *(offsets_items(s.offsets) if s.offsets is not None else ()),
             *(sar_items(s.distribution) if s.distribution is not None else ()),
             ("Input (SHA-256)", s.input_sha256),
             ("Planner and solver", f"{s.version}; {s.solver.name} ({s.solver.version})")]
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return f'<section id="rules"><h2>Rules applied and provenance</h2><dl>{rows}</dl></section>'


def offsets_items(off: OffsetsSummary) -> list[tuple[str, str]]:
    """Voluntary and mandatory offsets (Art. 63)."""
    return [("Voluntary offsets (Art. 63(1))", ("allowed" if off.voluntary_allowed
             else "not allowed pool-wide") + f": pledged relocations "
             f"{show(off.pledged_relocations, 'num')} against the threshold "
             f"{show(off.voluntary_threshold, 'num')} (of the proposal's "
             f"{show(off.proposal_relocations, 'num')})"),
            ("Voluntary offsets counted", _listed(off.voluntary) or "none"),
            ("Mandatory offsets (Art. 63(3))", (f"triggered (gap {off.gap}, "
             f"{off.remaining_gap} after voluntary offsets)"
             if off.mandatory_triggered else "not triggered")
             + f"; threshold (a) needs {show(off.mandatory_threshold_needs, 'num')}, "
             f"(b) proposal {show(off.mandatory_threshold_proposal, 'num')}; "
             f"binding: {off.mandatory_binding}"),
            ("Mandatory offsets owed per state (by key, within the fair share and the persons)",
             _listed(off.mandatory_owed) or "none"),
            ("Of which planned (held by the state's offset rows)",
             _listed(off.mandatory) or "none"),
            ("Owed, not planned (no or too small offset rows)",
             _listed(off.mandatory_unplanned) or "none"),
            ("Gap no state's cap can take", show(off.unallocated, "num"))]


def sar_items(dist: DistributionSummary) -> list[tuple[str, str]]:
    """The search-and-rescue states' share (rules section 6)."""
    return [("States facing search-and-rescue disembarkations",
             _listed(dist.sar_states) or "none"),
            ("Their share of the pool: target / received",
             f"{show(dist.sar_target_value, 'num')} / "
             f"{show(dist.sar_received_value, 'num')} {RE}")]


def proposal_items(s: Summary) -> list[tuple[str, str]]:
    """The Commission's proposal beside the Council's pool (Arts 12, 57)."""
    if s.proposal is None:
        return []
    p = s.proposal
    return [("Commission proposal (Art. 12)", f"{p.relocations:,} relocations or EUR "
             f"{p.financial_eur:,.0f}" + ("" if p.given else " (not set: the pool's numbers)")),
            ("Council's pool (Art. 57)", f"{p.pool_relocations:,} relocations or EUR "
             f"{p.pool_financial_eur:,.0f}")]


def mix_data(run: WrittenRun) -> tuple[list[str], dict[str, list[float]], list[float]]:
    by: defaultdict[tuple[str, str], float] = defaultdict(float)
    for row in run.plan:
        by[row.state, row.measure.value] += row.value
    states = [a for a in run.allocation
              if a.role != "benefitting" and (a.obligation > 0 or a.value > 0)]
    measures = [m for m in ("relocation", "offset", "financial", "alternative")
                if any(by[a.state, m] for a in states)]
    return ([a.state for a in states], {m: [by[a.state, m] for a in states] for m in measures},
            [a.obligation for a in states])


def flow_data(run: WrittenRun) -> tuple[list[str], list[str], list[list[float]]]:
    flows: dict[tuple[str, str], float] = defaultdict(float)
    for row in run.distribution:
        # Offsets assigned to no benefitting state (no responsibility.csv) flow nowhere.
        if row.beneficiary:
            flows[row.contributor, row.beneficiary] += row.value
    contributors = sorted({c for c, _ in flows})
    beneficiaries = sorted({b for _, b in flows})
    return contributors, beneficiaries, [[flows.get((c, b), 0.0) for b in beneficiaries]
                                         for c in contributors]


def coverage_data(run: WrittenRun) -> tuple[list[str], dict[str, list[float | None]]]:
    beneficiaries = sorted({r.beneficiary for r in run.coverage})
    ratio = {(r.beneficiary, r.measure.value): r.ratio for r in run.coverage if r.need_stated}
    return beneficiaries, {m: [ratio.get((b, m)) for b in beneficiaries]
                           for m in ("relocation", "offset", "financial", "alternative")}


def outcome_by_location(run: WrittenRun) -> list[tuple[str, dict[str, object]]]:
    """Persons per benefitting state where they are: placed, and not placed per reason."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (origin, _, _), persons in run.placed.items():
        counts[origin]["assigned"] += persons
    for (location, reason), persons in run.not_placed.items():
        counts[location][reason] += persons
    return [(loc, {"location": loc, "persons": sum(c.values()), "assigned": c["assigned"],
                   **{r: c[r] for r in REASONS}}) for loc, c in sorted(counts.items())]


def outcome_by_receiver(run: WrittenRun) -> list[tuple[str, dict[str, object]]]:
    """Persons and family units per receiving state, against its relocation places."""
    places: Counter[str] = Counter()
    for row in run.plan:
        if row.measure.value == "relocation":
            places[row.state] += int(row.amount)
    persons: Counter[str] = Counter()
    cases: dict[str, set[str]] = defaultdict(set)
    for (_, to_state, case_id), count in run.placed.items():
        persons[to_state] += count
        cases[to_state].add(case_id)
    states = sorted(set(places) | set(persons))
    return [(s, {"state": s, "places": places[s], "persons": persons[s],
                 "cases": len(cases[s]), "free": places[s] - persons[s]}) for s in states]


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def charts(run: WrittenRun) -> str:
    """The charts of the pool's tables (mix, coverage, flows), then, when the matching ran,
    its outcome per benefitting state and its bottlenecks."""
    from planner.report import charts as ch

    unit = unit_text(run.rate)
    parts = [figure(ch.mix_chart(*mix_data(run), unit), "Stacked bars: what each contributor "
                    "gives, by measure, in relocation-equivalents; the black tick is its "
                    "obligation, hatching a shortfall.",
                    "No contributor has an obligation or a contribution."),
             figure(ch.coverage_chart(*coverage_data(run)), "Received as a share of each "
                    "stated need (coverage.csv).", "No benefitting state stated a need."),
             figure(ch.flow_chart(*flow_data(run), unit), "Value of everything each "
                    "contributor sends to each benefitting state (distribution.csv), all "
                    "measures together.", "No flows.")]
    if run.summary.matching.ran:
        rows = outcome_by_location(run)
        outcome = {p: [_number(v[p]) for _, v in rows] for p in ("assigned", *REASONS)}
        necks = [r for r in run.matchability if r.kind == "bottleneck"]
        parts.append(figure(
            ch.stacked_counts([k for k, _ in rows], outcome,
                              "Matching outcome per benefitting state", "persons",
                              "chart-matching"),
            "Candidates per benefitting state where they are: relocated, or not and why.",
            "No candidates."))
        parts.append(figure(
            ch.bar_list([r.text for r in necks], [float(r.value or 0.0) for r in necks],
                        "Matching bottlenecks", "persons who cannot be placed",
                        "chart-bottlenecks"),
            "Where the places cannot take the eligible persons (matchability.csv).",
            "No bottleneck: every eligible person fits the places."))
    return '<section id="charts"><h2>Charts</h2>' + "".join(parts) + "</section>"


ALLOCATION = (Col("state", "state", "text"), Col("name", "name", "text"),
              Col("role", "role", "text"), Col("share", "share", "share"),
              Col("deduction", "deduction", "ratio"), Col("obligation", f"obligation ({RE})"),
              Col("relocation", "relocations (persons)"), Col("offset", "offsets (persons)"),
              Col("financial_eur", "financial (EUR)"),
              Col("alternative_eur", "alternative (EUR)"), Col("value", f"value ({RE})"),
              Col("balance", f"balance ({RE})"), Col("shortfall", f"shortfall ({RE})"))
PLAN = (Col("pledge_id", "pledge", "text"), Col("state", "state", "text"),
        Col("measure", "measure", "text"), Col("amount", "amount (persons or EUR)"),
        Col("value", f"value ({RE})"), Col("min", "min"), Col("max", "max"),
        Col("preference", "preference"), Col("beneficiary", "may go to", "text"))
DISTRIBUTION = (Col("contributor", "contributor", "text"),
                Col("beneficiary", "beneficiary", "text"), Col("measure", "measure", "text"),
                Col("pledge_id", "pledge", "text"), Col("amount", "amount (persons or EUR)"),
                Col("value", f"value ({RE})"))
COVERAGE = (Col("beneficiary", "beneficiary", "text"), Col("measure", "measure", "text"),
            Col("need", "need (persons or EUR)"), Col("received", "received (persons or EUR)"),
            Col("ratio", "received / need", "ratio"))
ORIGIN = (Col("location", "benefitting state", "text"), Col("persons", "candidates"),
          Col("assigned", "relocated"), *(Col(r, f"not: {r.replace('_', ' ')}")
                                          for r in REASONS))
RECEIVER = (Col("state", "receiving state", "text"), Col("places", "places"),
            Col("persons", "persons received"), Col("cases", "family units"),
            Col("free", "places left"))
MATCHABILITY = (Col("kind", "kind", "text"), Col("subject", "subject", "text"),
                Col("criterion", "criterion", "text"), Col("value", "persons"),
                Col("text", "explanation", "text"))


def tables(run: WrittenRun) -> str:
    need_rows = [r for r in run.coverage if r.need_stated or r.received]
    parts = [table("allocation", ALLOCATION, model_rows(run.allocation, ["state"]),
                   "Obligations and contributions per state (allocation.csv)"),
             table("coverage", COVERAGE, model_rows(need_rows, ["beneficiary", "measure"]),
                   "Coverage of needs (coverage.csv)"),
             table("distribution", DISTRIBUTION,
                   model_rows(run.distribution, ["pledge_id", "beneficiary", "measure"]),
                   "Flows from pledge rows to benefitting states (distribution.csv)"),
             table("plan", PLAN, model_rows(run.plan, ["pledge_id"]),
                   "What the plan takes from each pledge row (plan.csv)")]
    if run.summary.matching.ran:
        parts += [table("matching-origin", ORIGIN, outcome_by_location(run),
                        "Candidates per benefitting state (counts from assignments.csv and "
                        "unassigned.csv)"),
                  table("matching-receiving", RECEIVER, outcome_by_receiver(run),
                        "Persons per receiving state against its places"),
                  table("matchability", MATCHABILITY,
                        [(str(i), r.model_dump()) for i, r in enumerate(run.matchability, 1)],
                        "Matchability: bound, bottlenecks, the cost of each restriction and "
                        "of the law on beneficiaries (matchability.csv)")]
    return '<section id="tables"><h2>Tables</h2>' + "".join(parts) + "</section>"


def explanations(run: WrittenRun, instance: Instance) -> str:
    """Why each state owes what it owes (planner.report.explain, as `planner explain` prints
    it): one folded block per state of allocation.csv, opened by a click, no script."""
    from planner.report.explain import RunFacts, explain, sections

    placed: Counter[str] = Counter()
    for (_, to_state, _), persons in run.placed.items():
        placed[to_state] += persons
    facts = RunFacts(instance, run.summary, run.plan, run.allocation, run.distribution,
                     run.coverage, run.matchability, placed)
    blocks = []
    for row in run.allocation:
        e = explain(facts, row.state)
        body = "".join(f"<h4>{esc(title)}</h4><ul>{''.join(f'<li>{esc(x)}</li>' for x in lines)}"
                       "</ul>" for title, lines in sections(e))
        blocks.append(f'<details id="explain-{attr(row.state)}" data-state="{attr(row.state)}">'
                      f"<summary><b>{esc(row.state)}</b> {esc(e.name)} ({esc(row.role)}): "
                      f"obligation {esc(show(row.obligation, 'num'))} {RE}, "
                      f"EUR {esc(show(row.obligation_eur, 'num'))}; share "
                      f"{esc(show(row.share, 'share'))}, deduction "
                      f"{esc(show(row.deduction, 'ratio'))}</summary>{body}</details>")
    return ('<section id="explain"><h2>Why each state owes what it owes</h2><p>Open a state '
            "to see its share (each part of the key, the totals and the states they sum "
            "over), deduction and rounding, each pledge row and how the plan used it, where "
            "its contributions go and its offsets; the same as <code>planner explain STATE"
            "</code>.</p>" + "".join(blocks) + "</section>")


def render_run(run: WrittenRun, instance: Instance | None = None) -> str:
    s = run.summary
    title = f"Solidarity Pool plan: {s.instance} / {s.variant}"
    head = (f"<header><h1>{esc(title)}</h1><p class=\"meta\">Annual Solidarity Pool "
            "(Regulation (EU) 2024/1351). Built from the verified files of this folder; "
            "obligations and values in relocation-equivalents "
            f"({esc(unit_text(run.rate))}).</p></header>")
    why = [explanations(run, instance)] if instance is not None else []
    return page(title, [head, key_figures(run), *why, charts(run), tables(run),
                        rules_applied(run)])


def write_report(folder: Path, instance: Instance | None = None) -> WrittenRun:
    """Write `folder`/report.html from the run's verified tables and summary; the run read.
    With the `instance` it was planned from, the page explains each state's figures (the key's
    indicators are the instance's, not a file of the folder)."""
    run = load_run(folder)
    write_page(folder / REPORT, render_run(run, instance))
    return run
