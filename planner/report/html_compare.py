"""The comparison's report.html (issue #12, item 10: a comparison that does not mislead).

Built from the comparison's own files, `states.csv` and `kpis.csv` (read through their row
models, `StateComparisonRow` and `KpiRow`), and from each run's `summary.json` beside it (its
warnings). It shows:

* the indicators per run (kpis.csv without a subject) side by side, each variant with its
  change against the base; ratios as percentages;
* per state: the key share (as %), the obligation and the value in each run, with each
  variant's change against the base; the coverage of each benefitting state's stated needs;
* charts of obligation and value per state and run, and of their change against the base:
  each run has one colour, the same in every chart (the base's is never reused by a variant);
* every run's warnings, after the indicators;
* links to the CSV files (and the other formats) instead of dumping their hundreds of rows.

Every number carries its exact value and where it comes from (`data-table`, `data-row` =
`variant/state` or `variant/kpi[/subject]`, `data-col`), as in a run's report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from models.results import AllocationRow, KpiRow, StateComparisonRow, Summary
from planner.outputs.fileio import fmt, read_summary, read_table
from planner.outputs.registry import ALLOCATION, KPIS, STATES, SUMMARY
from planner.outputs.sheets import BY_STATE
from planner.report.display import visible
from planner.report.html import RE, REPORT, attr, esc, figure, page, show, write_page

BASE = "base"
KPI_LABELS = {
    "pool_relocations": "Pool: relocations", "pool_financial_eur": "Pool: financial",
    "obligation": "Obligations", "obligation_eur": "Obligations in EUR",
    "value": "Planned contributions", "value_eur": "Planned contributions in EUR",
    "relocation": "Relocation places", "offset": "Responsibility offsets",
    "financial_eur": "Financial contributions", "alternative_eur": "Alternative measures",
    "shortfall": "Shortfall", "shortfall_eur": "Shortfall in EUR",
    "surplus": "Surplus", "surplus_eur": "Surplus in EUR",
    "persons_relocated": "Persons relocated",
    "fair_share_max_abs_deviation": "Largest |value - fair share|",
    "fair_share_mean_abs_deviation": "Mean |value - fair share|",
    "gini_value_per_capita": "Gini of value per inhabitant",
}


@dataclass(frozen=True)
class Cell:
    """One cell of a grid: its value, how to show it (text, num, share, ratio, index; a
    change: the same with `delta`), and where the value is in the comparison's CSVs."""

    value: object
    kind: str = "num"
    delta: bool = False
    ref: tuple[str, str, str] | None = None  # (table, row, column)


def shown(cell: Cell) -> str:
    """The cell as a person reads it: a change signed (a ratio's or share's in percentage
    points), an index to three decimals, else as `html_report.show`."""
    value = cell.value
    if cell.kind == "text" or not isinstance(value, int | float) or isinstance(value, bool):
        return show(value, "num")
    if cell.delta:
        if cell.kind in ("ratio", "share"):
            digits = 1 if cell.kind == "ratio" else 4
            return f"{value * 100:+.{digits}f}\u00a0pts" if value else "0"
        if cell.kind == "index":
            return f"{value:+.3f}" if value else "0"
        text = show(value, "num")
        return f"+{text}" if value > 0 else text
    if cell.kind == "index":
        return f"{value:.3f}"
    return show(value, cell.kind)


def grid(name: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]],
         caption: str) -> str:
    """A table whose every number says where it is in the CSVs and its exact value."""
    rows = list(rows)
    texts = sum(c.kind == "text" for c in rows[0]) if rows else 1  # the leading text columns
    head = "".join(f'<th scope="col" class="{"text" if i < texts else "num"}">{esc(h)}</th>'
                   for i, h in enumerate(headers))
    body = []
    for cells in rows:
        out = []
        for cell in cells:
            where = "" if cell.ref is None else (
                f' data-table="{attr(cell.ref[0])}" data-row="{attr(cell.ref[1])}" '
                f'data-col="{attr(cell.ref[2])}" data-value="{attr(fmt(cell.value))}"')
            kind = "" if cell.kind == "text" else ' class="num"'
            out.append(f"<td{kind}{where}>{esc(shown(cell))}</td>")
        body.append(f"<tr>{''.join(out)}</tr>")
    return (f'<div class="wide"><table id="table-{attr(name)}"><caption>{esc(caption)}'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</div>")


# --- reading ---------------------------------------------------------------------------------

@dataclass
class Comparison:
    folder: Path
    runs: list[str]  # base first, then the variants as states.csv orders them
    states: dict[tuple[str, str], StateComparisonRow]  # (variant, state)
    kpis: list[KpiRow]
    summaries: dict[str, Summary]  # the runs beside the comparison folder that have one
    # Each run's allocation.csv beside the comparison folder, by state (all runs or none).
    allocations: dict[str, dict[str, AllocationRow]]

    @property
    def state_codes(self) -> list[str]:
        return sorted({s for _, s in self.states})

    @property
    def variants(self) -> list[str]:
        return self.runs[1:]


def read_comparison(folder: Path) -> Comparison:
    states = read_table(folder / STATES.file, STATES)
    kpis = read_table(folder / KPIS.file, KPIS)
    runs = list(dict.fromkeys([*(r.variant for r in states), *(r.variant for r in kpis)]))
    paths = {name: folder.parent / name / SUMMARY.file for name in runs}
    summaries = {name: read_summary(path) for name, path in paths.items() if path.is_file()}
    tables = {name: folder.parent / name / ALLOCATION.file for name in runs}
    allocations = {name: {r.state: r for r in read_table(path, ALLOCATION)}
                   for name, path in tables.items()} \
        if runs and all(p.is_file() for p in tables.values()) else {}
    return Comparison(folder, runs, {(r.variant, r.state): r for r in states}, kpis, summaries,
                      allocations)


# --- sections --------------------------------------------------------------------------------

def _run_headers(cmp: Comparison) -> list[str]:
    """A column per run, and after each variant's its change against the base."""
    base = cmp.runs[0] if cmp.runs else BASE
    return [h for run in cmp.runs
            for h in ((run,) if run == base else (run, f"{run} - {base}"))]


def kpi_grid(cmp: Comparison, rows: Sequence[tuple[str, str]], name: str, caption: str,
             unit_column: bool = True) -> str:
    """Indicators (kpi, subject) as rows, each run's value and each variant's change."""
    found = {(r.variant, r.kpi, r.subject): r for r in cmp.kpis}
    lines = []
    for kpi, subject in rows:
        unit = next((r.unit for r in cmp.kpis if (r.kpi, r.subject) == (kpi, subject)), "")
        kind = unit if unit in ("ratio", "index") else "num"
        label = subject if subject and not unit_column else KPI_LABELS.get(kpi, kpi)
        cells = [Cell(label, "text")] + ([Cell(unit, "text")] if unit_column else [])
        for i, run in enumerate(cmp.runs):
            row = found.get((run, kpi, subject))
            key = "/".join(p for p in (run, kpi, subject) if p)
            cells.append(Cell(row.value if row else None, kind,
                              ref=("kpis", key, "value") if row else None))
            if i:
                cells.append(Cell(row.delta if row else None, kind, delta=True,
                                  ref=("kpis", key, "delta") if row else None))
        lines.append(cells)
    first = ["indicator", "unit"] if unit_column else ["benefitting state:measure"]
    return grid(name, [*first, *_run_headers(cmp)], lines, caption)


def key_figures(cmp: Comparison) -> str:
    scalar = list(dict.fromkeys((r.kpi, "") for r in cmp.kpis if not r.subject))
    body = kpi_grid(cmp, scalar, "runs", f"Indicators per run and change against "
                    f"{cmp.runs[0] if cmp.runs else BASE} (kpis.csv; {RE} unless stated)") \
        if scalar else '<p class="empty">No indicators (kpis.csv is empty).</p>'
    return f'<section id="key-figures"><h2>Key figures</h2>{body}</section>'


def state_grid(cmp: Comparison, column: str, kind: str, name: str, caption: str) -> str:
    """A row per state: `column` of states.csv in each run, and each variant's change
    against the base (its `COLUMN_delta` where states.csv has one, else this run's value
    minus the base's, a state absent from the base counting 0 as in states.csv)."""
    delta = f"{column}_delta"
    in_file = delta in StateComparisonRow.model_fields
    base = cmp.runs[0]
    lines = []
    for code in cmp.state_codes:
        cells = [Cell(code, "text")]
        before = cmp.states.get((base, code))
        for run in cmp.runs:
            row = cmp.states.get((run, code))
            key = f"{run}/{code}"
            cells.append(Cell(getattr(row, column) if row else None, kind,
                              ref=("states", key, column) if row else None))
            if run == base:
                continue
            if row is None:
                cells.append(Cell(None, kind, delta=True))
            elif in_file:
                cells.append(Cell(getattr(row, delta), kind, delta=True,
                                  ref=("states", key, delta)))
            else:
                was = getattr(before, column) if before is not None else 0.0
                cells.append(Cell(getattr(row, column) - was, kind, delta=True))
        lines.append(cells)
    return grid(name, ["state", *_run_headers(cmp)], lines, caption)


def per_state(cmp: Comparison) -> str:
    if not cmp.states:
        return ""
    base = cmp.runs[0]
    parts = [
        state_grid(cmp, "share", "share", "shares", "Key share per state and run, in % "
                   f"(states.csv), and its change against {base} in percentage points"),
        state_grid(cmp, "obligation", "num", "obligations", f"Obligation per state and run "
                   f"({RE}, after deductions and rounding; states.csv), and its change "
                   f"against {base}"),
        state_grid(cmp, "value", "num", "values", f"Planned contribution (value) per state "
                   f"and run ({RE}; states.csv), and its change against {base}"),
    ]
    coverage = list(dict.fromkeys((r.kpi, r.subject) for r in cmp.kpis
                                  if r.kpi == "coverage" and r.subject))
    if coverage:
        parts.append(kpi_grid(cmp, coverage, "coverage", "Coverage of stated needs per "
                              "benefitting state and measure (received / need, kpis.csv), "
                              f"and its change against {base} in percentage points",
                              unit_column=False))
    return '<section id="tables"><h2>Per state</h2>' + "".join(parts) + "</section>"


# --- one state under each proposal (no script: radio buttons and CSS) --------------------------

PICKER_STYLE = """.picker>input{position:absolute;opacity:0;pointer-events:none}
.picker>label{display:inline-block;min-width:2.6em;text-align:center;margin:0 .2rem .3rem 0;
 padding:.15rem .4rem;border:1px solid #d0d7de;border-radius:4px;cursor:pointer;
 font-variant-numeric:tabular-nums} .picker>label:hover{background:#eef4fb}
.picker>.panel{display:none;margin-top:.6rem}
"""


def state_panel(cmp: Comparison, code: str) -> str:
    """One state's obligation (persons and EUR), mix and shortfall in each run (its
    allocation.csv), and each variant's difference against the base (a missing row
    counting 0, as states.csv counts it)."""
    base = cmp.runs[0]
    lines = []
    for field, label, unit in BY_STATE:
        kind = "share" if unit == "share" else "num"
        before = cmp.allocations[base].get(code)
        cells = [Cell(label, "text")]
        for run in cmp.runs:
            row = cmp.allocations[run].get(code)
            cells.append(Cell(getattr(row, field) if row else None, kind,
                              ref=("allocation", f"{run}/{code}", field) if row else None))
            if run != base:
                now = float(getattr(row, field)) if row else 0.0
                was = float(getattr(before, field)) if before else 0.0
                cells.append(Cell(now - was, kind, delta=True))
        lines.append(cells)
    name = next((r.name for a in cmp.allocations.values() for c, r in a.items() if c == code), "")
    return grid(f"state-{code}", ["", *_run_headers(cmp)], lines,
                f"{code} {name}: share, obligation, mix and shortfall under each proposal "
                f"(each run's allocation.csv; {RE} unless stated), and each variant's "
                f"difference against {base}")


def picker_style(cmp: Comparison) -> str:
    """The CSS that shows the checked state's panel (one rule per state code)."""
    codes = sorted({c for a in cmp.allocations.values() for c in a})
    return PICKER_STYLE + "".join(f"#pick-{c}:checked~#panel-{c}{{display:block}}"
                                  f"#pick-{c}:checked+label{{background:#1f77b4;color:#fff}}\n"
                                  for c in codes if c.isascii() and c.isalnum())


def state_picker(cmp: Comparison) -> str:
    """Pick a state, see it under every proposal side by side: a radio button per state and
    a panel each, the checked one's panel shown by CSS alone (`picker_style`; works offline,
    no script: the page's Content-Security-Policy allows none)."""
    if not cmp.allocations or not cmp.runs:
        return ""
    codes = sorted({c for a in cmp.allocations.values() for c in a})
    inputs = "".join(f'<input type="radio" name="pick-state" id="pick-{attr(c)}"'
                     f'{" checked" if i == 0 else ""}><label for="pick-{attr(c)}">{esc(c)}'
                     "</label>" for i, c in enumerate(codes))
    panels = "".join(f'<div class="panel" id="panel-{attr(c)}" data-state="{attr(c)}">'
                     f"{state_panel(cmp, c)}</div>" for c in codes)
    return ('<section id="pick-a-state"><h2>One state under each proposal</h2><p>Pick a '
            "state: its obligation in persons and EUR, its mix and its shortfall under each "
            "proposal, side by side, with each variant's difference against the base.</p>"
            f'<div class="picker">{inputs}{panels}</div></section>')


def comparison_charts(cmp: Comparison) -> str:
    from planner.report import charts as ch

    if not cmp.states:
        return '<p class="empty">No states to chart (states.csv is empty).</p>'
    base, series = cmp.runs[0], ch.SERIES_COLOURS
    # One colour per run, by its place in the comparison (base first), in every chart.
    paint = {run: series[i % len(series)] for i, run in enumerate(cmp.runs)}
    parts = []
    for column, title, what in (("obligation", "Obligation", "obligation"),
                                ("value", "Contribution", "planned contribution (value)")):
        values = {run: {c: getattr(cmp.states[run, c], column) if (run, c) in cmp.states
                        else 0.0 for c in cmp.state_codes} for run in cmp.runs}
        shown_states = [c for c in cmp.state_codes if any(v[c] for v in values.values())]
        parts.append(figure(ch.grouped_bars(
            shown_states, {r: [values[r][c] for c in shown_states] for r in cmp.runs},
            f"{title} per state and run", RE, f"chart-{column}s",
            [paint[r] for r in cmp.runs]),
            f"Each state's {what} in each run (states.csv), in {RE}; one colour per run in "
            "every chart.", "No state has one in any run."))
        deltas = {r: [values[r][c] - values[base][c] for c in cmp.state_codes]
                  for r in cmp.variants}
        moved = [i for i in range(len(cmp.state_codes)) if any(d[i] for d in deltas.values())]
        parts.append(figure(ch.grouped_bars(
            [cmp.state_codes[i] for i in moved], {r: [d[i] for i in moved]
                                                  for r, d in deltas.items()},
            f"{title}: change against {visible(base)} per state", RE, f"chart-{column}-deltas",
            [paint[r] for r in deltas]),
            f"Each variant's {what} minus {base}'s, for the states where it differs.",
            f"No state's {what} differs from {base}."))
    return '<section id="charts"><h2>Charts</h2>' + "".join(parts) + "</section>"


def warnings_section(cmp: Comparison) -> str:
    items = [f'<li class="warn">{esc(run)}: {esc(w)}</li>' for run in cmp.runs
             for w in (cmp.summaries[run].warnings if run in cmp.summaries else [])]
    body = f"<ul>{''.join(items)}</ul>" if items else \
        '<p class="empty">No run has a warning.</p>'
    return f'<section id="warnings"><h2>Warnings</h2>{body}</section>'


def files_section(folder: Path) -> str:
    """Links to the comparison's files, with their rows: the full tables are there."""
    items = []
    for path in sorted(folder.iterdir()):
        if path.name == REPORT or path.name.startswith("."):
            continue
        extra = ""
        if path.suffix == ".csv":
            with path.open(encoding="utf-8") as handle:
                rows = max(0, sum(1 for line in handle if line.strip()) - 1)
            extra = f" ({rows:,} rows)"
        target = quote(path.name) + ("/" if path.is_dir() else "")
        items.append(f'<li><a href="{attr(target)}">{esc(path.name)}</a>{esc(extra)}</li>')
    body = f"<ul>{''.join(items)}</ul>" if items else '<p class="empty">No files.</p>'
    return ('<section id="files"><h2>Files</h2><p>The complete tables, every run and state, '
            f"with more columns than shown here:</p>{body}</section>")


def render_comparison(folder: Path) -> str:
    cmp = read_comparison(folder)
    instance = next((s.instance for s in cmp.summaries.values()), folder.parent.name)
    title = f"Solidarity Pool plans compared: {instance}"
    links = ", ".join(f'<a href="../{attr(quote(n))}/{REPORT}">{esc(n)}</a>'
                      for n in cmp.runs if n in cmp.summaries)
    head = (f"<header><h1>{esc(title)}</h1><p class=\"meta\">Runs: {links or 'none'}. "
            "Built from the comparison's CSV files and each run's summary.json.</p></header>")
    return page(title, [head, key_figures(cmp), state_picker(cmp), warnings_section(cmp),
                        comparison_charts(cmp), per_state(cmp), files_section(folder)],
                picker_style(cmp))


def write_comparison_report(folder: Path) -> None:
    """Write report.html in a comparison folder (`DIR/comparison`, or `DIR` itself) from its
    states.csv and kpis.csv and from the runs' summary.json beside it (`DIR/base`, ...)."""
    if (folder / "comparison").is_dir():
        folder = folder / "comparison"
    write_page(folder / REPORT, render_comparison(folder))
