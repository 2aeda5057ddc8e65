"""`planner track`'s report.html (issue 15): where the year stands, one self-contained page.

Key figures of the pool, the warnings, the cumulative implementation over time against the
pro-rata target (the pool, then one small chart per contributor), then the tables
(contributors, received per benefitting state, every tracking.csv row). Its numbers are the
tracking tables' (each cell carries its exact value in `data-*`, as the run's report); the
cumulative series are the ledger's and the transfers' dated amounts, in value
(relocation-equivalents). Equal inputs give a byte-identical page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from models.instance import Instance
from planner.report.charts import SERIES_COLOURS, _styled, to_svg
from planner.report.html import Col, esc, figure, kpi, model_rows, page, table
from planner.report.tracking import Tracking, unit_value

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Series = dict[str, list[tuple[int, float]]]  # contributor -> (day of the cycle, cumulative value)
POOL = ""  # the pool's series


def cumulative(instance: Instance, as_of: dt.date) -> Series:
    """Per contributor and for the pool (key ""), the cumulative implemented value at each day
    something was implemented (day 1 = the cycle's first day; undated transfers on day 1), up
    to `as_of`."""
    first = instance.config.cycle_days[0]
    steps: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for entry in instance.ledger.entries:
        if entry.date <= as_of:
            day = (entry.date - first).days + 1
            steps[entry.state][day] += entry.amount * unit_value(instance, entry.measure)
    sizes = {c.case_id: c.size for c in instance.cases or ()}
    for case_id, state in instance.transfers:
        date = instance.ledger.transfer_dates.get(case_id)
        if case_id in sizes and (date is None or date <= as_of):
            steps[state][1 if date is None else (date - first).days + 1] += sizes[case_id]
    for state in list(steps):
        for day, amount in steps[state].items():
            steps[POOL][day] += amount
    series: Series = {}
    for state, days in sorted(steps.items()):
        total, points = 0.0, []
        for day in sorted(days):
            total += days[day]
            points.append((day, total))
        series[state] = points
    return series


Days = tuple[dt.date, dt.date]  # the cycle's first and last day (InstanceConfig.cycle_days)


def _days(days: Days) -> int:
    return (days[1] - days[0]).days + 1


def _draw(ax: Axes, points: Sequence[tuple[int, float]], planned: float, days: int,
          today: int, colour: str) -> None:
    """One cumulative step line to `today` against the target line (planned x elapsed)."""
    xs, ys = [0], [0.0]
    for day, total in points:
        xs += [day, day]
        ys += [ys[-1], total]
    xs.append(today)
    ys.append(ys[-1])
    ax.plot(xs, ys, color=colour, linewidth=1.6, label="implemented")
    ax.plot([0, days], [0.0, planned], color="#555555", linewidth=0.9, linestyle="--",
            label="pro-rata target")
    ax.axvline(today, color="#bbbbbb", linewidth=0.6)
    ax.set_xlim(0, days)
    ax.set_ylim(bottom=0)


_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _month_ticks(days: Days, every: int = 1) -> tuple[list[int], list[str]]:
    """The x positions (days since the cycle's first day) and names of the firsts of the
    months within the cycle (`every`: one month in so many, counted from January); the cycle
    may start in the year (`cycle_start`)."""
    first, last = days
    starts = [dt.date(last.year, m, 1) for m in range(1, 13, every)]
    kept = [d for d in starts if first <= d] or [first]
    return [(d - first).days for d in kept], [_MONTHS[d.month - 1] for d in kept]


@_styled
def pool_chart(series: Series, planned: float, days: Days, today: int) -> str | None:
    """The pool's cumulative implementation against its pro-rata target."""
    if planned <= 0:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.5, 3.4))
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.22)
    ax = fig.add_subplot()
    _draw(ax, series.get(POOL, []), planned, _days(days), today, SERIES_COLOURS[0])
    ax.set_xticks(*_month_ticks(days))
    ax.set_ylabel("relocation-equivalents")
    ax.set_title(f"The pool: cumulative implementation in {days[1].year} against the pro-rata "
                 "target", gid="title")
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    fig.legend(loc="lower center", ncols=2, bbox_to_anchor=(0.5, 0.0))
    return to_svg(fig, "chart-pool-track")


@_styled
def contributor_charts(series: Series, planned: Mapping[str, float], days: Days, today: int
                       ) -> str | None:
    """One small chart per contributor with a plan: its cumulative implementation against its
    own pro-rata target (each on its own scale)."""
    states = [s for s in sorted(planned) if planned[s] > 0]
    if not states:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    columns = 4
    rows = (len(states) + columns - 1) // columns
    fig = Figure(figsize=(10.5, 0.5 + 1.7 * rows))
    fig.subplots_adjust(left=0.05, right=0.99, top=1 - 0.45 / (0.5 + 1.7 * rows),
                        bottom=0.25 / (0.5 + 1.7 * rows), hspace=0.55, wspace=0.25)
    fig.suptitle("Each contributor: cumulative implementation (value) against its pro-rata "
                 "target", fontweight="bold", gid="title")
    for n, state in enumerate(states):
        ax = fig.add_subplot(rows, columns, n + 1)
        _draw(ax, series.get(state, []), planned[state], _days(days), today,
              SERIES_COLOURS[n % len(SERIES_COLOURS)])
        ax.set_xticks(*_month_ticks(days, every=3))
        ax.set_title(state, fontsize=9)
    return to_svg(fig, "chart-contributors-track")


def render_tracking(instance: Instance, t: Tracking, plan_source: str) -> str:
    """The page for a tracking."""
    first, last = instance.config.cycle_days
    today = (t.as_of - first).days + 1
    series = cumulative(instance, t.as_of)
    planned = {c.contributor: c.planned_value for c in t.contributors}
    p = t.pool
    body = [f"<h1>{esc(instance.config.name)}: implementation at {t.as_of.isoformat()}</h1>",
            f'<p class="meta">Art. 60(3): pledges implemented in proportion to the overall '
            f"pledge before the end of the year. Elapsed: {t.elapsed * 100:.1f}\u00a0% of "
            f"{last.year}; warnings beyond {t.tolerance * 100:g} share points. Plan: "
            f"{esc(plan_source)}.</p>",
            '<h2>Key figures</h2><div class="kpis">'
            + kpi("planned", "pool", "pool", "planned_value", p.planned_value,
                  "relocation-equivalents")
            + kpi("implemented", "pool", "pool", "implemented_value", p.implemented_value,
                  "relocation-equivalents")
            + kpi("share implemented", "pool", "pool", "share", p.share, "of the plan",
                  "ratio")
            + kpi("pro-rata target", "pool", "pool", "target_value", p.target_value,
                  "relocation-equivalents")
            + kpi("ahead (negative: behind)", "pool", "pool", "ahead_value", p.ahead_value,
                  "relocation-equivalents") + "</div>",
            "<h2>Warnings</h2>" + ("<ul>" + "".join(f'<li class="warn">{esc(w)}</li>'
                                                    for w in t.warnings) + "</ul>"
                                   if t.warnings else '<p class="empty">None.</p>'),
            "<h2>Over time</h2>",
            figure(pool_chart(series, p.planned_value, (first, last), today),
                   "Cumulative implemented value (ledger and dated transfers) against the plan "
                   "times the elapsed share of the year.", "Nothing is planned."),
            figure(contributor_charts(series, planned, (first, last), today),
                   "Each contributor on its own scale.", "No contributor has a plan."),
            "<h2>Tables</h2>", _tables(t)]
    return page(f"{instance.config.name}: tracking {t.as_of.isoformat()}", body)


def _tables(t: Tracking) -> str:
    value = [Col("contributor", "contributor", "text"), Col("planned_value", "planned"),
             Col("implemented_value", "implemented"), Col("share", "share", "ratio"),
             Col("target_value", "target"), Col("ahead_value", "ahead"),
             Col("remaining_value", "remaining"), Col("pace_pool_value", "against the pool")]
    received = [Col("beneficiary", "benefitting state", "text"),
                Col("measure", "measure", "text"), Col("distributed", "distributed"),
                Col("received", "received"), Col("share", "share", "ratio")]
    rows = [Col("contributor", "contributor", "text"), Col("measure", "measure", "text"),
            Col("benefitting", "benefitting", "text"), Col("planned", "planned"),
            Col("implemented", "implemented"), Col("share", "share", "ratio"),
            Col("target", "target"), Col("ahead", "ahead"), Col("ahead_value", "ahead (value)"),
            Col("remaining", "remaining"), Col("pace_contributor", "pace (a) own"),
            Col("pace_pool", "pace (b) pool")]
    return "".join([
        table("tracking_contributors", value, model_rows(t.contributors, ["contributor"]),
              "Contributors, in relocation-equivalents"),
        table("tracking_received", received, model_rows(t.received, ["beneficiary", "measure"]),
              "Received against distributed, per benefitting state (units of the measure)"),
        '<div class="wide">' + table("tracking", rows, model_rows(
            t.rows, ["contributor", "measure", "benefitting"]),
            "Every contributor x measure x benefitting state (units of the measure)") + "</div>"])
