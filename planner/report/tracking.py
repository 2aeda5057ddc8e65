"""Where the year stands at a date (issue 15, `planner track`): the plan against the ledger,
under Art. 60(3): "Contributing Member States shall implement their pledges in proportion to
their overall pledge to the Annual Solidarity Pool for a given year before the end of the year".

Planned is what the plan distributes (distribution.csv: per contributor, measure and
benefitting state); implemented is the ledger (implementation.csv) to the date, plus the
persons of the transfers dated to it or undated (transfers.csv), each counted for the case's
location. The pro-rata target is planned x the elapsed fraction of the cycle (days from its
first day, `cycle_start` or 1 January, to the date, both counted, over the cycle's days).
Both readings of Art. 60(3) (rules section 1, [interp]) get their columns: (a) each measure at
the pace of the contributor's whole pledge, (b) each contributor at the pace of the pool.
Warnings name what is behind by more than the tolerance (`[tracking] tolerance`, share points
of the planned value).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.instance import Instance, Measure
from models.results import DistributionRow
from models.tracking import ContributorRow, PoolTotals, ReceivedRow, TrackingRow
from planner.inputs.ledger import Key, elapsed_fraction, implemented_amounts

__all__ = ["EPS", "Key", "Tracking", "elapsed_fraction", "implemented_amounts", "track",
           "unit_value"]
EPS = 1e-9


@dataclass(frozen=True)
class Tracking:
    """The tracking at one date: the three tables, the pool's totals and the warnings."""

    as_of: dt.date
    elapsed: float
    tolerance: float
    rows: list[TrackingRow]
    contributors: list[ContributorRow]
    received: list[ReceivedRow]
    pool: PoolTotals
    warnings: list[str]
    ledger_rows: int  # ledger rows dated up to as_of
    transfers_counted: int  # transfers dated up to as_of or undated


def unit_value(instance: Instance, measure: Measure) -> float:
    """Relocation-equivalents per unit of a measure: 1 per person, 1 / rate per EUR (rules
    section 3: all measures of equal value)."""
    return 1.0 if measure.in_persons else 1.0 / instance.config.pool.rate


def planned_amounts(distribution: Iterable[DistributionRow]) -> dict[Key, float]:
    """What the plan distributes, per contributor, measure and benefitting state."""
    planned: dict[Key, float] = defaultdict(float)
    for row in distribution:
        planned[(row.contributor, row.measure, row.beneficiary)] += row.amount
    return planned


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > EPS else None


def track(instance: Instance, distribution: Sequence[DistributionRow], as_of: dt.date,
          tolerance: float) -> Tracking:
    """The tracking of `instance`'s plan (its distribution rows) at `as_of`."""
    elapsed = elapsed_fraction(instance.config, as_of)
    planned = planned_amounts(distribution)
    done, ledger_rows, transfers = implemented_amounts(instance, as_of)
    keys = sorted((k for k in set(planned) | set(done)
                   if planned.get(k, 0.0) > EPS or done.get(k, 0.0) > EPS),
                  key=lambda k: (k[0], k[1].value, k[2]))
    value = {m: unit_value(instance, m) for m in Measure}
    plan_value: dict[str, float] = defaultdict(float)
    done_value: dict[str, float] = defaultdict(float)
    for c, m, b in keys:
        plan_value[c] += planned.get((c, m, b), 0.0) * value[m]
        done_value[c] += done.get((c, m, b), 0.0) * value[m]
    pool_share = _share(sum(done_value.values()), sum(plan_value.values())) or 0.0
    rows = []
    for c, m, b in keys:
        p, d = planned.get((c, m, b), 0.0), done.get((c, m, b), 0.0)
        own = _share(done_value[c], plan_value[c]) or 0.0
        target = p * elapsed
        rows.append(TrackingRow(
            contributor=c, measure=m, benefitting=b, planned=p, implemented=d,
            share=_share(d, p), target=target, ahead=d - target,
            ahead_value=(d - target) * value[m], remaining=max(p - d, 0.0),
            target_contributor=p * own, pace_contributor=d - p * own,
            target_pool=p * pool_share, pace_pool=d - p * pool_share))
    contributors = _contributors(rows, value, elapsed, pool_share)
    pool = _pool(contributors, elapsed)
    result = Tracking(as_of, elapsed, tolerance, rows, contributors, _received(rows), pool,
                      [], ledger_rows, transfers)
    result.warnings.extend(tracking_warnings(result))
    return result


def _contributors(rows: Sequence[TrackingRow], value: dict[Measure, float], elapsed: float,
                  pool_share: float) -> list[ContributorRow]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for row in rows:
        total = sums[row.contributor]
        total[0] += row.planned * value[row.measure]
        total[1] += row.implemented * value[row.measure]
        total[2] += row.remaining * value[row.measure]
    return [ContributorRow(contributor=c, planned_value=p, implemented_value=d,
                           share=_share(d, p), target_value=p * elapsed,
                           ahead_value=d - p * elapsed, remaining_value=r,
                           pace_pool_value=d - p * pool_share)
            for c, (p, d, r) in sorted(sums.items())]


def _pool(contributors: Sequence[ContributorRow], elapsed: float) -> PoolTotals:
    planned = sum(c.planned_value for c in contributors)
    done = sum(c.implemented_value for c in contributors)
    return PoolTotals(planned_value=planned, implemented_value=done,
                      share=_share(done, planned), target_value=planned * elapsed,
                      ahead_value=done - planned * elapsed)


def _received(rows: Sequence[TrackingRow]) -> list[ReceivedRow]:
    sums: dict[tuple[str, Measure], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        if row.benefitting:
            total = sums[(row.benefitting, row.measure)]
            total[0] += row.planned
            total[1] += row.implemented
    return [ReceivedRow(beneficiary=b, measure=m, distributed=p, received=d,
                        share=_share(d, p))
            for (b, m), (p, d) in sorted(sums.items(), key=lambda i: (i[0][0], i[0][1].value))]


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def tracking_warnings(t: Tracking) -> list[str]:
    """Who is behind by more than the tolerance (share points of the planned value), under
    the calendar and under both readings of Art. 60(3); and rows implemented beyond the plan."""
    warnings = []
    shares = {c.contributor: c.share for c in t.contributors}
    pool = t.pool.share or 0.0
    for c in t.contributors:
        if c.share is None:
            continue
        if c.share < t.elapsed - t.tolerance - EPS:
            warnings.append(f"behind the calendar: {c.contributor} has implemented "
                            f"{_pct(c.share)} of its plan by {t.as_of.isoformat()}, the "
                            f"pro-rata target is {_pct(t.elapsed)} ({-c.ahead_value:,.2f} "
                            "relocation-equivalents behind; Art. 60(3))")
        if c.share < pool - t.tolerance - EPS:
            warnings.append(f"behind the pool (reading b): {c.contributor} has implemented "
                            f"{_pct(c.share)} of its plan, the pool {_pct(pool)}")
    for row in t.rows:
        own = shares.get(row.contributor)
        where = f" to {row.benefitting}" if row.benefitting else ""
        if row.share is not None and own is not None and row.share < own - t.tolerance - EPS:
            warnings.append(f"behind its own pace (reading a): {row.contributor} {row.measure}"
                            f"{where}: {_pct(row.share)} implemented, {row.contributor}'s "
                            f"whole plan {_pct(own)}")
        if row.implemented > row.planned + EPS:
            warnings.append(f"beyond the plan: {row.contributor} {row.measure}{where}: "
                            f"implemented {row.implemented:,.10g}, planned {row.planned:,.10g}")
    return warnings
