"""The comparison's report.html: the runs' totals side by side, value per state per run and
the change against the base (charts), and every CSV of the comparison folder as a checkable
table, whatever its columns (they are read generically, so they may change)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from planner.html_report import (
    RE,
    REPORT,
    Col,
    Run,
    esc,
    figure,
    load_run,
    page,
    table,
    write_page,
)


def read_csv_table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    return (rows[0], rows[1:]) if rows else ([], [])


def _parse(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def show_any(value: float) -> str:
    """A number of unknown kind: whole numbers exact, large ones to the cent, small ones to
    four significant digits (a ratio of 0.0357 stays 0.0357)."""
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"


def csv_table(path: Path) -> str:
    """Any CSV as a checkable table: the leading columns name the row, the header the columns,
    numbers right-aligned and shown with separators, `data-value` the file's exact text."""
    header, rows = read_csv_table(path)
    name = path.stem
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in header)
    # A row's name: its first columns, as few as make every row's name unique (`state` in a
    # wide table; `variant/state` or `variant/kpi/subject` in a long one).
    width = next((k for k in range(1, len(header) + 1)
                  if len({tuple(r[:k]) for r in rows}) == len(rows)), len(header))
    body = []
    for row in rows:
        key = "/".join(row[:width])
        cells = []
        for col, text in zip(header, row, strict=False):
            number = _parse(text)
            where = (f'data-table="{esc(name)}" data-row="{esc(key)}" data-col="{esc(col)}" '
                     f'data-value="{esc(text)}"')
            cells.append(f"<td {where}>{esc(text)}</td>" if number is None else
                         f'<td class="num" {where}>{esc(show_any(number))}</td>')
        body.append(f'<tr data-row="{esc(key)}">{"".join(cells)}</tr>')
    return (f'<table id="table-{esc(name)}" data-table="{esc(name)}"><caption>'
            f"{esc(path.name)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def sibling_runs(folder: Path) -> list[Run]:
    """The run folders beside the comparison folder, base first, then in the order the
    comparison's files name them (else by name)."""
    found = {p.name: p for p in sorted(folder.parent.iterdir())
             if p != folder and not p.name.startswith(".") and (p / "summary.json").is_file()}
    words: list[str] = []
    for path in sorted(folder.glob("*.csv")):
        header, rows = read_csv_table(path)
        words += header + [r[0] for r in rows if r]

    def order(name: str) -> tuple[int, int, str]:
        at = next((i for i, w in enumerate(words) if name == w or name in w.split("_")),
                  len(words))
        return (name != "base", at, name)
    return [load_run(found[name]) for name in sorted(found, key=order)]


KPIS = (("obligation", "Obligations", RE), ("value", "Planned contributions", RE),
        ("shortfall", "Shortfall", RE), ("relocation", "Relocation places", "persons"),
        ("offset", "Responsibility offsets", "persons"),
        ("financial_eur", "Financial contributions", "EUR"),
        ("alternative_eur", "Alternative measures", "EUR"))


def run_kpis(runs: Sequence[Run]) -> str:
    """Each run's totals side by side (from its summary.json)."""
    cols = [Col("kpi", "figure", "text"), Col("unit", "unit", "text"),
            *(Col(r.folder.name, r.folder.name) for r in runs)]
    rows: list[tuple[str, dict[str, object]]] = []
    for key, label, unit in KPIS:
        rows.append((key, {"kpi": label, "unit": unit, **{
            r.folder.name: getattr(r.summary.totals, key) for r in runs}}))
    if any(r.summary.matching.ran for r in runs):
        rows.append(("persons_assigned", {"kpi": "Persons relocated", "unit": "persons", **{
            r.folder.name: r.summary.matching.persons_assigned for r in runs}}))
    return table("runs", cols, rows, "Totals per run (summary.json of each run)")


def comparison_charts(runs: Sequence[Run]) -> str:
    from planner import charts as ch

    if not runs:
        return '<p class="empty">No run folders beside the comparison.</p>'
    values = [{a.state: a.value for a in r.allocation} for r in runs]
    obligations = [{a.state: a.obligation for a in r.allocation} for r in runs]
    states = sorted({s for v, o in zip(values, obligations, strict=True) for s in v
                     if v[s] or o.get(s)})
    unit = "relocation-equivalents"
    rate = f" (1 = one person or EUR {runs[0].rate:,.0f} in {runs[0].folder.name})"
    parts = [figure(ch.grouped_bars(states, {r.folder.name: [v.get(s, 0.0) for s in states]
                                             for r, v in zip(runs, values, strict=True)},
                                    "Contribution per state and run", unit, "chart-values"),
                    f"What each state gives in each run (allocation.csv, value), in {unit}"
                    f"{rate}.", "No values.")]
    base, others = values[0], list(zip(runs[1:], values[1:], strict=True))
    deltas = {r.folder.name: [v.get(s, 0.0) - base.get(s, 0.0) for s in states]
              for r, v in others}
    moved = [i for i, _ in enumerate(states) if any(d[i] for d in deltas.values())]
    parts.append(figure(ch.grouped_bars(
        [states[i] for i in moved], {k: [d[i] for i in moved] for k, d in deltas.items()},
        f"Change against {runs[0].folder.name} per state", unit, "chart-deltas"),
        f"Each run's value minus {runs[0].folder.name}'s, for the states where it differs.",
        f"No state's contribution differs from {runs[0].folder.name}."))
    return '<section id="charts"><h2>Charts</h2>' + "".join(parts) + "</section>"


def render_comparison(folder: Path) -> str:
    runs = sibling_runs(folder)
    names = [r.folder.name for r in runs]
    instance = runs[0].summary.instance if runs else folder.parent.name
    title = f"Solidarity Pool plans compared: {instance}"
    links = ", ".join(f'<a href="../{esc(n)}/{REPORT}">{esc(n)}</a>' for n in names)
    head = (f"<header><h1>{esc(title)}</h1><p class=\"meta\">Runs: {links or 'none'}. "
            "Built from the comparison's CSV files and each run's verified files.</p></header>")
    key = ('<section id="key-figures"><h2>Key figures</h2>'
           + (run_kpis(runs) if runs else "") + "</section>")
    files = "".join(csv_table(p) for p in sorted(folder.glob("*.csv")))
    tables_html = ('<section id="tables"><h2>Tables</h2>'
                   + (files or '<p class="empty">No comparison tables.</p>') + "</section>")
    return page(title, [head, key, comparison_charts(runs), tables_html])


def write_comparison_report(folder: Path) -> None:
    """Write report.html in a comparison folder (`DIR/comparison`, or `DIR` itself) from its
    CSV files, whatever their columns, and from the run folders beside it (`DIR/base`, ...)."""
    if (folder / "comparison").is_dir():
        folder = folder / "comparison"
    write_page(folder / REPORT, render_comparison(folder))
