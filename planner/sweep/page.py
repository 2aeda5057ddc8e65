"""sweep.html: the distribution of the main indicators per variant (histograms), the ranking
of the variants by expected value and by their worst 10 % (CVaR), the targets' probabilities,
and each state's risk (issue 16, item 2). Self-contained and byte-identical for equal data,
like report.html (planner.report.html, planner.report.charts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.uncertainty import lower_is_better
from planner.report.charts import RC, SERIES_COLOURS, to_svg
from planner.report.html import esc, figure, page
from planner.sweep.stats import ranking

HEADLINE = ("relocation_coverage_min", "persons_relocated", "shortfall_total", "value_total",
            "coverage_min")
BINS = 20


def _num(value: object, digits: int = 3) -> str:
    number = float(str(value))
    return "" if math.isnan(number) else f"{number:,.{digits}f}"


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{esc(c)}</td>' if i else f"<td>{esc(c)}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return (f'<div class="wide"><table><caption>{esc(caption)}</caption><tr>{head}</tr>'
            f"{body}</table></div>")


def histogram(rows: pd.DataFrame, variants: Sequence[str], name: str, index: int) -> str | None:
    """One indicator's histogram, a step line per variant over shared bins."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    series = {v: rows.loc[rows["variant"] == v, name].dropna().to_numpy(dtype=float)
              for v in variants}
    every = np.concatenate([s for s in series.values() if len(s)] or [np.array([])])
    if not len(every):
        return None
    low, high = float(every.min()), float(every.max())
    edges = np.linspace(low, high if high > low else low + 1, BINS + 1)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(7.5, 2.8))
        fig.subplots_adjust(left=0.09, right=0.98, top=0.88, bottom=0.3)
        ax = fig.add_subplot()
        for n, (variant, values) in enumerate(series.items()):
            if len(values):
                ax.hist(values, bins=edges.tolist(), histtype="step", linewidth=1.4,
                        color=SERIES_COLOURS[n % len(SERIES_COLOURS)], label=variant)
        ax.set_title(name, gid="title")
        ax.set_ylabel("scenarios")
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        fig.legend(loc="lower center", ncols=min(4, len(series)), bbox_to_anchor=(0.5, 0.0))
        return to_svg(fig, f"h{index}")


def _chance(rows: pd.DataFrame, variant: str, column: str) -> str:
    """P(shortfall > 0) over the variant's scenarios where the state owes something."""
    if column not in rows.columns:
        return ""
    values = rows.loc[rows["variant"] == variant, column].dropna()
    return _num(float((values > 0).mean())) if len(values) else ""


def state_risk(stats: pd.DataFrame, rows: pd.DataFrame, variants: Sequence[str]
               ) -> list[list[object]]:
    """Per state and variant: obligation (P50, P95), shortfall (mean, P95, the probability
    of one) and, for a benefitting state, its relocation need covered (P5, P50)."""
    by = stats.set_index(["variant", "indicator"])
    states = sorted({i.rpartition("_")[2] for i in stats["indicator"]
                     if i.startswith(("obligation_", "relocation_coverage_"))
                     and not i.endswith("_min")})
    out: list[list[object]] = []
    for state in states:
        for variant in variants:
            cells: list[object] = [f"{state} ({variant})"]
            for name, column in (("obligation", "p50"), ("obligation", "p95"),
                                 ("shortfall", "mean"), ("shortfall", "p95"),
                                 ("relocation_coverage", "p5"), ("relocation_coverage", "p50")):
                key = (variant, f"{name}_{state}")
                cells.append(_num(by.loc[key, column]) if key in by.index else "")
            cells.insert(5, _chance(rows, variant, f"shortfall_{state}"))
            if any(cells[1:]):
                out.append(cells)
    return out


def sweep_page(title: str, rows: pd.DataFrame, stats: pd.DataFrame, variants: Sequence[str],
               rank_by: str, meta: str) -> str:
    """The whole page."""
    ranked = ranking(stats, rank_by)
    better = "lower" if lower_is_better(rank_by) else "higher"
    body = [f"<h1>{esc(title)}</h1>", f'<p class="meta">{esc(meta)}</p>',
            "<h2>Ranking of the variants</h2>",
            _table(f"by {rank_by} ({better} is better): expected value and the mean of the "
                   "worst 10 % of scenarios (CVaR 10 %)",
                   ("variant", "expected value", "rank", "CVaR 10 %", "rank"),
                   [(r.variant, _num(r.mean), r.rank_mean, _num(r.cvar10), r.rank_cvar10)
                    for r in ranked])]
    goals = stats[stats["target"].notna() | stats["limit"].notna()]
    if len(goals):
        body.append(_table("probability of the targets (sweep.csv: p_target, p_limit)",
                           ("variant", "indicator", "target", "P(>= target)", "limit",
                            "P(<= limit)"),
                           [(g.variant, g.indicator, _num(g.target), _num(g.p_target),
                             _num(g.limit), _num(g.p_limit)) for g in goals.itertuples()]))
    body.append("<h2>Distributions</h2>")
    names = [n for n in dict.fromkeys((rank_by, *HEADLINE)) if n in rows.columns]
    names += [c for c in rows.columns if c.startswith("relocation_coverage_")
              and c not in names]
    for i, name in enumerate(names):
        body.append(figure(histogram(rows, variants, name, i), f"{name}: scenarios per value",
                           f"{name}: no scenario has a value"))
    body.append("<h2>Per-state risk</h2>")
    body.append(_table("obligation and shortfall (relocation-equivalents); relocation need "
                       "covered (share)",
                       ("state (variant)", "obligation P50", "obligation P95",
                        "shortfall mean", "shortfall P95", "P(shortfall > 0)", "coverage P5",
                        "coverage P50"),
                       state_risk(stats, rows, variants)))
    return page(title, body)
