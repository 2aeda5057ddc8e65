"""Schemas of a run's outputs (contract.md, "Outputs: a folder per run").

Column order of each CSV is the field order here. The verifier reads the written files back
through these same models, so a file that does not fit its schema fails verification.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from models.instance import Bool, Measure, parse_list


def _empty_none(value: object) -> object:
    return None if value == "" else value


OptFloat = Annotated[float | None, BeforeValidator(_empty_none)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _unit(unit: str) -> Any:
    """A column's unit (the JSON Schema's `unit`), from which the xlsx exports take their
    number formats (planner.outputs.formats): `share` and `ratio` (fractions, shown as %),
    `EUR`, `persons`, `relocation-equivalents`, or `measure` (persons or EUR by the row's
    `measure`) and `unit` (by the row's `unit` column)."""
    return Field(json_schema_extra={"unit": unit})


Share = Annotated[Finite, _unit("share")]
Ratio = Annotated[Finite, _unit("ratio")]
Eur = Annotated[Finite, _unit("EUR")]
Persons = Annotated[Finite, _unit("persons")]
Equivalents = Annotated[Finite, _unit("relocation-equivalents")]
InMeasure = Annotated[Finite, _unit("measure")]
_ROW = ConfigDict(extra="forbid", frozen=True)


class AllocationRow(BaseModel):
    """One state's obligation and what it gives (relocation-equivalents unless `_eur`)."""

    model_config = _ROW
    state: str
    name: str
    role: str
    share: Share
    share_computed: Share
    share_official: Annotated[OptFloat, _unit("share")] = None
    deduction: Ratio
    obligation: Equivalents
    obligation_eur: Eur
    relocation: Persons
    offset: Persons
    financial_eur: Eur
    alternative_eur: Eur
    value: Equivalents
    balance: Equivalents
    shortfall: Equivalents
    mandatory_offset: Persons


class PlanRow(BaseModel):
    """The amount the plan takes from one pledge row, and its value."""

    model_config = _ROW
    pledge_id: str
    state: str
    measure: Measure
    amount: InMeasure
    value: Equivalents
    min: InMeasure
    max: Annotated[OptFloat, _unit("measure")] = None
    preference: int
    beneficiary: Annotated[tuple[str, ...], BeforeValidator(parse_list)] = ()


class DistributionRow(BaseModel):
    """A flow from a contributor's pledge row to a benefitting state (Art. 60(2))."""

    model_config = _ROW
    contributor: str
    beneficiary: str
    measure: Measure
    amount: InMeasure
    pledge_id: str
    value: Equivalents


class CoverageRow(BaseModel):
    """What a benefitting state receives of one measure against its need."""

    model_config = _ROW
    beneficiary: str
    measure: Measure
    need: InMeasure
    need_stated: Bool
    received: InMeasure
    ratio: Annotated[OptFloat, _unit("ratio")] = None


class AssignmentRow(BaseModel):
    """A person placed: the case's receiving state and pledge row, score and reasons."""

    model_config = _ROW
    person_id: str
    case_id: str
    from_state: str
    to_state: str
    pledge_id: str
    score: Finite
    reasons: Annotated[tuple[str, ...], BeforeValidator(parse_list)] = ()


class UnassignedRow(BaseModel):
    """A person not placed, and why, the first that applies: security, consent, a
    beneficiary's protection (date missing, expired, granted after the Council act's
    adoption), no bilateral agreement for a beneficiary (Art. 56(2)(a)(ii)),
    no_eligible_place or capacity."""

    model_config = _ROW
    person_id: str
    case_id: str
    location: str
    reason: Literal["security", "consent", "protection_date_missing", "protection_expired",
                    "protection_after_adoption", "no_bilateral_agreement",
                    "no_eligible_place", "capacity"]


class MatchabilityRow(BaseModel):
    """What the places can take: the max-flow bound, bottlenecks, restriction costs (a
    receiving state's profile choice) and law costs (the rules on beneficiaries of
    protection, Art. 56(2)(a)(ii): not a state's choice, reported apart)."""

    model_config = _ROW
    kind: Literal["bound", "bottleneck", "restriction", "law"]
    subject: str
    criterion: str
    value: Annotated[OptFloat, _unit("persons")] = None
    text: str


class Totals(BaseModel):
    """Sums over allocation.csv. `shortfall` sums the states' shortfalls and `surplus` what
    states give beyond their obligations (max(0, balance), ad hoc contributions included),
    each apart: value - obligation = surplus - shortfall, and one state's surplus does not
    make up for another's shortfall. (`surplus` defaults to 0 for a summary.json written
    before it existed.)"""

    obligation: float
    relocation: float
    offset: float
    financial_eur: float
    alternative_eur: float
    value: float
    shortfall: float
    surplus: float = 0.0


class Matching(BaseModel):
    ran: bool = False
    persons_total: int = 0
    persons_eligible: int = 0
    persons_assigned: int = 0
    cases_assigned: int = 0
    family_splits: int = 0
    places: int = 0
    bound: int = 0
    bottlenecks: list[str] = Field(default_factory=list)
    unassigned_by_reason: dict[str, int] = Field(default_factory=dict)
    classes: int = 0
    stages: dict[str, float] = Field(default_factory=dict)


class SolverInfo(BaseModel):
    """The back-end used and how far each stage got: `gap` is 0 when every stage was proven
    optimal; after a time limit (status "time_limit") the largest relative gap
    (bound - value) / max(1, |value|) of the stages in `gaps`, null when one has no bound."""

    requested: str
    name: str
    version: str
    time_limit_s: float | None = None
    gap: float | None = 0.0
    gaps: dict[str, float | None] = Field(default_factory=dict)


class WarningItem(BaseModel):
    """One warning of summary.json in a stable form for programs: `code` (one of those the
    README lists, e.g. `surplus`), `subject` (a state code, `key`, a file, or empty) and
    `text`, the sentence also listed in `warnings`."""

    model_config = ConfigDict(extra="forbid")
    code: str
    subject: str = ""
    text: str


class ProposalSummary(BaseModel):
    """The Commission's proposal (Art. 12) beside the Council's pool (Art. 57): `given` lists
    the `[proposal]` keys instance.toml sets (the others default to the pool's numbers); each
    is compared with the Art. 12(2) floors. `information`: sentences that are neither
    warnings nor errors (the Council's pool below the floors: the Council may amend)."""

    model_config = ConfigDict(extra="forbid")
    relocations: int
    financial_eur: float
    given: list[str] = Field(default_factory=list)
    pool_relocations: int
    pool_financial_eur: float
    floor_relocations: int
    floor_financial_eur: float
    proposal_below_floor: bool
    pool_below_floor: bool
    information: list[str] = Field(default_factory=list)


class OfficialShare(BaseModel):
    """A state's official share (member_states.csv `share`) beside the one the key computes;
    `difference` is the share used minus the computed one."""

    model_config = ConfigDict(extra="forbid")
    computed: float
    official: float
    difference: float


class KeySummary(BaseModel):
    """summary.json's `key` (Art. 66, Annex I): instance.toml's weights, redistribution,
    rounding (a `models.instance.Rounding` value) and EUR per relocation-equivalent, and each
    official share beside the computed one."""

    model_config = ConfigDict(extra="forbid")
    weights: dict[str, float]
    redistribute: bool
    rounding: str
    eur_per_relocation: float
    official_shares: dict[str, OfficialShare]


class OffsetsSummary(BaseModel):
    """summary.json's `offsets` (Art. 63, rules section 5; planner.optimise.offsets): the
    thresholds against the proposal, the two numbers of 63(3) and the one that binds, the
    voluntary offsets counted toward the gap (persons per state), each state's mandatory part
    (owed; planned: what its offset rows hold; unplanned: the rest), the gap no state's cap
    takes (`unallocated`) and the offsets assigned to no benefitting state (no
    responsibility.csv) per contributor. Persons are whole (int) where the rules make them
    so."""

    model_config = ConfigDict(extra="forbid")
    proposal_relocations: int
    voluntary_share: float
    voluntary_threshold: float
    pledged_relocations: float
    voluntary_allowed: bool
    voluntary_allowed_states: list[str]
    refused_by: list[str]
    voluntary_states: list[str]
    voluntary: dict[str, int]
    mandatory_basis: str  # offsets.mandatory_basis: higher, needs or proposal
    relocation_needs: float
    mandatory_share: float
    mandatory_threshold_needs: float
    mandatory_proposal_share: float
    mandatory_threshold_proposal: float
    mandatory_binding: str  # which of 63(3)'s numbers binds: needs, proposal or both
    mandatory_threshold: float
    mandatory_triggered: bool
    gap: int
    remaining_gap: int
    mandatory_owed: dict[str, int]
    mandatory: dict[str, int]
    mandatory_unplanned: dict[str, int]
    caps: dict[str, int]
    unallocated: int
    responsibility_given: bool
    unassigned_to_benefitting: dict[str, float]


class DistributionSummary(BaseModel):
    """summary.json's `distribution` (Art. 60(2), rules section 6): the search-and-rescue
    states' indicative share, its target and what they receive (relocation-equivalents),
    whether it is met, and the smallest coverage of a stated need (null: none stated)."""

    model_config = ConfigDict(extra="forbid")
    sar_states: list[str]
    sar_share: float
    sar_target_value: float
    sar_received_value: float
    sar_met: bool
    min_coverage: float | None


class ReplanSummary(BaseModel):
    """summary.json `replan`, only in a re-plan (`planner run --as-of DATE`, issue 15): the
    as-of date and what was fixed at it, the pacing of the coming period
    (planner.optimise.pacing). `fixed`: per contributor and measure, what implementation.csv
    records up to the date (the floor of its rows in plan.csv's `min`); `transferred`: persons
    of the cases transferred to each contributor by the date (dated on or before it, or
    undated); `transfers_after`: transfers.csv rows dated after it, treated as not transferred.
    `placements_cap`: per contributor with relocation places, the most new persons the
    matching may place in the coming period (absent with pacing 0); `places_paced`: its
    relocation rows' places the matching used (transferred plus capped new ones), per row.
    `not_distributed`: per contributor, measure and benefitting state, what implementation.csv
    records as implemented towards that state by the date but the distribution could not send
    there (its rows may not serve the state, or hold less), in the measure's unit."""

    model_config = ConfigDict(extra="forbid")
    as_of: str
    cycle_end: str
    days_left: int
    period_days: int
    pacing: float
    fixed: dict[str, dict[str, float]] = Field(default_factory=dict)
    transferred: dict[str, int] = Field(default_factory=dict)
    transfers_after: int = 0
    placements_cap: dict[str, int] = Field(default_factory=dict)
    places_paced: dict[str, int] = Field(default_factory=dict)
    not_distributed: dict[str, dict[str, dict[str, float]]] = Field(default_factory=dict)


class Summary(BaseModel):
    """summary.json: status, totals and provenance of one run."""

    model_config = ConfigDict(extra="forbid")
    instance: str
    variant: str
    status: str
    totals: Totals
    matching: Matching = Matching()
    # Absent from a summary.json written before the proposal was an input of its own.
    proposal: ProposalSummary | None = None
    # Each section is absent only from a summary made by hand (tests); a run writes them all.
    key: KeySummary | None = None
    offsets: OffsetsSummary | None = None
    distribution: DistributionSummary | None = None
    # Each lexicographic stage's optimum by stage name (`shortfall`, `distribution_balanceN`
    # per balance level, `matching_STAGE`...): the names depend on the instance.
    objectives: dict[str, float] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    warning_details: list[WarningItem] = Field(default_factory=list)
    input_sha256: str
    version: str
    solver: SolverInfo
    timings_s: dict[str, float] = Field(default_factory=dict)
    # Only in a re-plan (`planner run --as-of`); absent (not null) from an annual plan's file.
    replan: ReplanSummary | None = None


class StateComparisonRow(BaseModel):
    """One state in one run of `planner compare` (the base or a variant), and the change of
    each amount against the base (comparison/states.csv; see `planner.comparison`)."""

    model_config = _ROW
    variant: str
    state: str
    role: str
    share: Share
    obligation: Equivalents
    relocation: Persons
    offset: Persons
    financial_eur: Eur
    alternative_eur: Eur
    value: Equivalents
    balance: Equivalents
    fair_share: Equivalents
    deviation: Equivalents
    value_per_million: Annotated[OptFloat, _unit("relocation-equivalents")] = None
    obligation_delta: Equivalents
    relocation_delta: Persons
    offset_delta: Persons
    financial_eur_delta: Eur
    alternative_eur_delta: Eur
    value_delta: Equivalents
    balance_delta: Equivalents


class KpiRow(BaseModel):
    """One indicator of one run of `planner compare`, and its change against the base
    (comparison/kpis.csv; `subject` is empty or `STATE:measure` for coverage)."""

    model_config = _ROW
    variant: str
    kpi: str
    subject: str = ""
    unit: Literal["persons", "EUR", "relocation-equivalents", "ratio", "index"]
    value: Annotated[OptFloat, _unit("unit")] = None
    delta: Annotated[OptFloat, _unit("unit")] = None
