"""Schema of `[uncertainty]` in instance.toml or a variant file: what a scenario sweep
(`planner sweep`, planner.sweep) draws for each scenario of the year.

Every entry is optional; left out, it does not vary (the instance's own value stands). A
`Draw` is one random number: a multiplier (arrivals, needs) or a share (consent, security
clearance, the delivered fraction of a pledge). Defaults and examples: README.md, "Scenario
sweeps". The sweep draws them in a fixed order from each scenario's own seed
(planner.sweep.scenario), so a scenario is the same whatever else is drawn or run.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_STRICT = ConfigDict(extra="forbid", frozen=True)
# The largest multiplier a draw may give (arrivals, needs): a hundred times the instance's
# figure is far beyond any year-to-year swing and keeps scenarios within the instance's bounds.
MAX_FACTOR = 100.0
MEASURES = ("relocation", "offset", "financial", "alternative")
Kind = Literal["fixed", "uniform", "triangular", "lognormal", "beta", "levels"]
NonNegative = Annotated[float, Field(ge=0, le=MAX_FACTOR, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Code = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{2}$")]


class Draw(BaseModel):
    """One random number per scenario, of `kind`:

    - `fixed`: `value` (default 1: no change);
    - `uniform`: between `low` and `high`;
    - `triangular`: between `low` and `high`, most likely `mode`;
    - `lognormal`: median `value`, spread `sigma` (of the logarithm; 0.35 gives about
      -45 %..+80 % for the 5th-95th percentiles);
    - `beta`: Beta(`alpha`, `beta`), for shares (delivered fractions);
    - `levels`: one of `levels`, each equally likely (two levels: a hand-checkable model).

    Multipliers (arrivals, needs) are at most MAX_FACTOR; shares are clipped to 0..1 where
    they are used (planner.sweep.scenario)."""

    model_config = _STRICT
    kind: Kind = "fixed"
    value: NonNegative = 1.0
    low: NonNegative | None = None
    mode: NonNegative | None = None
    high: NonNegative | None = None
    sigma: Annotated[float, Field(ge=0, le=3, allow_inf_nan=False)] | None = None
    alpha: Positive | None = None
    beta: Positive | None = None
    levels: tuple[NonNegative, ...] = ()

    @model_validator(mode="after")
    def _parameters(self) -> Draw:
        """The parameters each kind needs, and no others (a `sigma` on a uniform draw is a
        slip that would silently do nothing)."""
        needs = {"fixed": set(), "uniform": {"low", "high"},
                 "triangular": {"low", "mode", "high"}, "lognormal": {"sigma"},
                 "beta": {"alpha", "beta"}, "levels": {"levels"}}[self.kind]
        given = self.model_fields_set - {"kind", "value"}
        missing, extra = sorted(needs - given), sorted(given - needs)
        if missing:
            raise ValueError(f"a {self.kind} draw needs {', '.join(missing)}")
        if extra:
            raise ValueError(f"a {self.kind} draw takes no {', '.join(extra)}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")
        if self.mode is not None and not (self.low or 0) <= self.mode <= (self.high or 0):
            raise ValueError(f"mode ({self.mode:g}) is not between low and high")
        if self.kind == "levels" and not self.levels:
            raise ValueError("levels must name at least one value")
        return self

    @property
    def varies(self) -> bool:
        return self.kind != "fixed"


class PerState(BaseModel):
    """A draw for every benefitting state (`default`), or one of its own (`states.XX`)."""

    model_config = _STRICT
    default: Draw = Draw()
    states: dict[Code, Draw] = Field(default_factory=dict)

    def of(self, state: str) -> Draw:
        return self.states.get(state, self.default)


class Arrivals(PerState):
    """Persons arriving in each benefitting state, as a multiplier of its base count: the
    instance's candidates located there (candidates.csv), or `persons.XX` where given (a
    state without candidates, or a sweep at another scale). Each scenario's candidates are
    then drawn by planner.inputs.synthetic, state by state."""

    persons: dict[Code, Annotated[int, Field(ge=0, le=10_000_000)]] = Field(
        default_factory=dict)


class StateDelivery(BaseModel):
    """One contributor's delivered fractions: for all its pledges (`default`) or per measure."""

    model_config = _STRICT
    default: Draw | None = None
    relocation: Draw | None = None
    offset: Draw | None = None
    financial: Draw | None = None
    alternative: Draw | None = None


class Delivery(StateDelivery):
    """The fraction of each pledge row delivered (its min and max scaled by it), found in
    this order: `states.XX.<measure>`, `states.XX.default`, `<measure>`, `default`; none of
    them: delivered in full."""

    states: dict[Code, StateDelivery] = Field(default_factory=dict)

    def of(self, state: str, measure: str) -> Draw:
        own = self.states.get(state)
        for found in ((getattr(own, measure), own.default) if own is not None else ()):
            if found is not None:
                return found
        return getattr(self, measure) or self.default or Draw()


# The indicators of a scenario's row (planner.sweep.indicators), which targets, limits and
# rank_by may name: pool-wide ones, and per state `NAME_XX` (relocation coverage for a
# benefitting state, obligation and shortfall for a contributor).
INDICATORS = ("persons_relocated", "relocation_coverage_min", "coverage_min", "value_total",
              "value_relocation", "value_offset", "value_financial_eur", "value_alternative_eur",
              "shortfall_total")
STATE_INDICATORS = ("relocation_coverage", "obligation", "shortfall")
# Lower is better for these (the worst 10 % of a sweep are its highest values); higher is
# better for every other indicator.
LOWER_IS_BETTER = ("shortfall_total", "obligation", "shortfall")


def indicator_known(name: str) -> bool:
    """Whether `name` is an indicator of a scenario's row (pool-wide, or `NAME_XX`)."""
    stem, _, code = name.rpartition("_")
    return name in INDICATORS or (stem in STATE_INDICATORS and len(code) == 2
                                  and code.isupper())


def lower_is_better(name: str) -> bool:
    return name in LOWER_IS_BETTER or name.rpartition("_")[0] in LOWER_IS_BETTER


class UncertaintyConfig(BaseModel):
    """`[uncertainty]`: what varies from one scenario to the next (each entry optional).

    - `arrivals` (per benefitting state, a multiplier of its candidates; drives the synthetic
      candidates of each scenario), `consent` (share of beneficiaries who consent) and
      `cleared` (share of persons with security clearance), `beneficiaries` (share of cases
      that are beneficiaries of protection, not applicants): setting any of them makes each
      scenario's candidates synthetic (planner.inputs.synthetic), else the instance's own are
      kept;
    - `delivered`: the delivered fraction of each pledge, per state and measure;
    - `needs`: a multiplier of each benefitting state's needs (needs.csv);
    - `designation`: state -> the probability that it is designated benefitting for the year
      (Art. 11 decision; the key and the obligations change with it);
    - `targets`: indicator -> the threshold whose probability `sweep.csv` reports
      (P(indicator >= threshold)); `limits`: the same for P(indicator <= limit);
    - `rank_by`: the indicator the variants are ranked by in sweep.html (higher is better).
    """

    model_config = _STRICT
    arrivals: Arrivals = Arrivals()
    consent: Draw = Draw(kind="fixed", value=0.8)
    cleared: Draw = Draw(kind="fixed", value=0.99)
    beneficiaries: Draw = Draw(kind="fixed", value=0.15)
    delivered: Delivery = Delivery()
    needs: PerState = PerState()
    designation: dict[Code, Probability] = Field(default_factory=dict)
    targets: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=lambda: {"relocation_coverage_min": 0.5})
    limits: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(
        default_factory=dict)
    rank_by: str = "relocation_coverage_min"

    @model_validator(mode="after")
    def _shares(self) -> UncertaintyConfig:
        for name in ("consent", "cleared", "beneficiaries"):
            draw: Draw = getattr(self, name)
            top = max([draw.value, *(v for v in (draw.low, draw.mode, draw.high)
                                     if v is not None), *draw.levels])
            if draw.kind != "beta" and top > 1 and not math.isclose(top, 1):
                raise ValueError(f"{name} is a share: its values must be within 0..1")
        return self

    @property
    def synthetic(self) -> bool:
        """Whether scenarios draw their own candidates (arrivals, consent or clearance set)."""
        return bool({"arrivals", "consent", "cleared", "beneficiaries"}
                    & self.model_fields_set)
