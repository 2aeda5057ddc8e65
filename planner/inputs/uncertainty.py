"""Cross-checks of `[uncertainty]` (models.uncertainty) against member_states.csv: every state
it names is known, arrivals and needs name benefitting states (or states whose designation
is drawn), and targets name indicators a scenario's row has. pydantic checks each value
alone; these need the states, so they run with the other cross-row checks (checks.run_all).
"""

from __future__ import annotations

from collections.abc import Callable

from models.instance import InstanceConfig, MemberState
from models.uncertainty import INDICATORS, indicator_known
from planner.inputs.reader import Reader, toml_line

FILE = "instance.toml"


def check_config(reader: Reader, config: InstanceConfig | None,
                 states: list[tuple[int, MemberState]], codes: set[str] | None) -> None:
    """Every problem of `[uncertainty]` that needs the states, on the line of its key."""
    if config is None or "uncertainty" not in config.model_fields_set:
        return
    model = config.uncertainty
    known = {s.code: s for _, s in states}
    drawn = set(model.designation)
    benefitting = {code for code, s in known.items() if s.benefitting} | drawn

    def report(loc: tuple[str, ...], message: str) -> None:
        reader.problem(FILE, toml_line(reader, loc), ".".join(loc), message)

    def state(loc: tuple[str, ...], code: str, must_benefit: bool) -> None:
        if codes is not None and code not in codes:
            report(loc, f"unknown state {code}")
        elif must_benefit and code in known and code not in benefitting:
            report(loc, f"{code} is not benefitting (and its designation is not drawn: "
                   "uncertainty.designation)")

    for section in ("arrivals", "needs"):
        for code in getattr(model, section).states:
            state(("uncertainty", section, "states", code), code, True)
    for code in model.arrivals.persons:
        state(("uncertainty", "arrivals", "persons", code), code, True)
    for code in model.delivered.states:
        state(("uncertainty", "delivered", "states", code), code, False)
    for code in model.designation:
        state(("uncertainty", "designation", code), code, False)
    named = [(("uncertainty", section, name), name) for section in ("targets", "limits")
             for name in getattr(model, section)]
    for loc, name in [*named, (("uncertainty", "rank_by"), model.rank_by)]:
        _indicator(report, loc, name, codes)


Report = Callable[[tuple[str, ...], str], None]


def _indicator(report: Report, loc: tuple[str, ...], name: str, codes: set[str] | None
               ) -> None:
    """An indicator name a scenario's row has (models.uncertainty.INDICATORS, or a per-state
    one of a known state)."""
    if not indicator_known(name):
        report(loc, f"unknown indicator {name!r} (see README.md, \"Scenario sweeps\": e.g. "
               "relocation_coverage_min, persons_relocated, shortfall_total, shortfall_DE)")
    elif name not in INDICATORS and codes is not None and name[-2:] not in codes:
        report(loc, f"unknown state {name[-2:]} in indicator {name!r}")

