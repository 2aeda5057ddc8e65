"""Schemas of an instance folder: instance.toml and the rows of member_states, pledges, needs.

These pydantic models are the schema of record (contract.md, "Instance: a folder"); the loader
in `planner.inputs.load` reads the files into them and turns every validation error into a
`FILE:LINE: COLUMN: message` problem.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import suppress
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SkipValidation,
    field_validator,
    model_validator,
)

from models.cases import Case
from models.uncertainty import UncertaintyConfig

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def parse_bool(value: object) -> object:
    """Contract booleans: true/false, 1/0, yes/no, any case."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return value


def parse_list(value: object) -> object:
    """Contract lists: `;`-separated inside one cell, blanks dropped."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(";") if part.strip())
    return value


def parse_upper_list(value: object) -> object:
    parsed = parse_list(value)
    return tuple(part.upper() for part in parsed) if isinstance(parsed, tuple) else parsed


# The allowed ranges (README, "Number format and allowed values"): magnitudes the solver
# handles reliably, a long way above any real pool (2026: 21,000 persons, EUR 420 million).
# HiGHS and CBC work to absolute tolerances of about 1e-7 and take 1e20 for infinity: a pledge
# of EUR 1e25 or a rank of 1e20 made a stage unsolvable, a population of 1e308 overflowed the
# key's sums.
MAX_PERSONS = 10_000_000  # persons in one figure: pool.relocations, a pledge or a need
MAX_EUR = 1_000_000_000_000  # EUR in one figure: pool.financial_eur, a pledge or a need
MAX_POPULATION = 10_000_000_000
MAX_GDP_MILLION = 1_000_000_000  # EUR million, i.e. EUR 1e15
MAX_INDICATOR = 1e15  # a custom key column (key.weights)
MAX_PREFERENCE = 1_000
# Largest / smallest positive need, in relocation-equivalents (planner.inputs.checks.need_spread).
MAX_NEED_SPREAD = 10_000
MAX_CASE_SIZE = 1_000
# EUR per relocation (2026 and the legal minimum: 20,000). An EUR amount is also at most
# MAX_PERSONS relocation-equivalents at the pool's rate (planner.inputs.checks.eur_values): the
# model works in relocation-equivalents, and MAX_EUR = MAX_PERSONS x MAX_RATE.
MIN_RATE, MAX_RATE = 1, 100_000
MIN_CYCLE, MAX_CYCLE = 2000, 2100
# Years of protection within which a beneficiary may be relocated (Art. 56(2)(a)(ii): 3).
MAX_PROTECTION_YEARS = 100
# Art. 12(2): the Commission's proposal of the Annual Solidarity Pool sets at least these
# numbers. A proposal below them is warned about; a Council pool below them is information (the
# Council may amend the proposal, Art. 57) [law].
FLOOR_RELOCATIONS = 30_000  # Art. 12(2)(a): relocations
FLOOR_FINANCIAL_EUR = 600_000_000  # Art. 12(2)(b): financial contributions, EUR
# Columns of member_states.csv with their own meaning: never key indicators (key.weights).
RESERVED_COLUMNS = ("code", "name", "participates", "benefitting", "status", "deduction",
                    "share", "indicators")

Bool = Annotated[bool, BeforeValidator(parse_bool)]
CodeList = Annotated[tuple[str, ...], BeforeValidator(parse_upper_list)]
TextList = Annotated[tuple[str, ...], BeforeValidator(parse_list)]
# In the measure's unit; EUR is the larger bound, persons are checked per row
# (planner.inputs.checks).
Amount = Annotated[float, Field(ge=0, le=MAX_EUR, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=MIN_RATE, le=MAX_RATE, allow_inf_nan=False)]


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


STATE_CODE = re.compile(r"[A-Z]{2}")  # a state code, written in full (fullmatch)
StateCode = Annotated[str, BeforeValidator(_upper), Field(pattern=rf"^{STATE_CODE.pattern}$")]


class Measure(StrEnum):
    """Measure types of equal value (Art. 56(2))."""

    relocation = "relocation"
    offset = "offset"
    financial = "financial"
    alternative = "alternative"

    @property
    def in_persons(self) -> bool:
        return self in (Measure.relocation, Measure.offset)


class Status(StrEnum):
    """Migratory status of a state in the cycle's implementing decision (Art. 11)."""

    none = "none"
    at_risk = "at_risk"
    significant = "significant"
    pressure = "pressure"


class Rounding(StrEnum):
    ceil = "ceil"
    largest_remainder = "largest_remainder"
    none = "none"


_STRICT = ConfigDict(extra="forbid", frozen=True)


def _toml_date(value: object) -> object:
    """A TOML date (`2025-12-08`), or the same as an ISO text; anything else is refused with
    the form to write (pydantic's own message spoke of datetimes and lengths)."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"a date without a time is expected: write {value.date().isoformat()}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        with suppress(ValueError):
            return dt.date.fromisoformat(value)
    raise ValueError(f"not a date: {value!r}; write a TOML date such as 2025-12-08")


class PoolConfig(BaseModel):
    """The reference numbers of the pool (Art. 12, Art. 57): one obligation in two units."""

    model_config = _STRICT
    relocations: Annotated[int, Field(gt=0, le=MAX_PERSONS)]
    financial_eur: Amount
    eur_per_relocation: Rate | None = None
    rounding: Rounding = Rounding.ceil
    # The adoption date of the Council implementing act establishing the pool (Art. 57): a
    # beneficiary is relocated only if granted protection less than 3 years before it
    # (Art. 56(2)(a)(ii), planner.inputs.protection). In the year before the cycle or during it.
    adopted: Annotated[dt.date, BeforeValidator(_toml_date)] | None = None

    @property
    def rate(self) -> float:
        """EUR per relocation-equivalent; default financial / relocations (rules section 3)."""
        if self.eur_per_relocation is not None:
            return self.eur_per_relocation
        return self.financial_eur / self.relocations

    @model_validator(mode="after")
    def _rate_positive(self) -> PoolConfig:
        if self.eur_per_relocation is None and self.financial_eur <= 0:
            raise ValueError("financial_eur must be > 0 unless eur_per_relocation is given")
        return self  # a derived rate outside MIN_RATE..MAX_RATE: planner.inputs.checks.pool_rate


class ProposalConfig(BaseModel):
    """The Commission's proposal of the pool (Arts 12 and 57; rules section 1.3) [law]: its own
    input, apart from the pool the Council adopted (`[pool]`). Art. 63 measures offsets
    against the proposal's relocation number; obligations follow the Council's pool. Either
    key left out: the pool's number (`InstanceConfig.proposal_relocations`)."""

    model_config = _STRICT
    relocations: Annotated[int, Field(gt=0, le=MAX_PERSONS)] | None = None
    financial_eur: Amount | None = None


class KeyConfig(BaseModel):
    """The distribution key (Art. 66, Annex I): weights over member_states.csv columns."""

    model_config = _STRICT
    weights: dict[str, Fraction] = Field(
        default_factory=lambda: {"population": 0.5, "gdp_eur_million": 0.5}
    )
    redistribute: bool = False

    @field_validator("weights")
    @classmethod
    def _weights_sum_to_one(cls, weights: dict[str, float]) -> dict[str, float]:
        reserved = [c for c in weights if c in RESERVED_COLUMNS]
        if reserved:
            raise ValueError(
                f"{reserved[0]!r} is a column of member_states.csv with its own meaning, not a "
                "key indicator: name population, gdp_eur_million or a numeric column of your "
                "own")
        total = sum(weights.values())
        if not weights or abs(total - 1.0) > 1e-9:
            raise ValueError(f"key weights must sum to 1, they sum to {total:g}")
        return weights


class DeductionsConfig(BaseModel):
    """Deductions (Arts 61-62); deducted amounts are not passed on by default."""

    model_config = _STRICT
    redistribute: bool = False


MANDATORY_BASES = ("higher", "needs", "proposal")


class OffsetsConfig(BaseModel):
    """Responsibility offsets (Art. 63), rules section 5 (planner.optimise.offsets).

    - `voluntary_share` [law, 63(1) and 63(2)(b)]: voluntary offsets once the pledged
      relocations reach this share of the PROPOSAL's relocation number (pool-wide), or a
      contributor pledged this share of its own obligation as relocations.
    - `refused_by` [law, 63(2): the benefitting state must agree; default: every one agrees]:
      benefitting states that do not agree to voluntary offsets; no voluntary offset counts
      toward them.
    - `mandatory_share` [interp, 63(3)(a); Crisis Regulation recital 30]: number (a) is this
      share of the relocation needs of the proposal (needs.csv's relocation rows).
    - `mandatory_proposal_share` [interp, 63(3)(b)]: number (b) is this share of the
      proposal's relocation number.
    - `mandatory_basis` [law, 63(3): "up to the higher of the two numbers"]: `higher`
      (default), or `needs` (a) or `proposal` (b) alone.
    - `enforce_voluntary`: offsets not allowed voluntarily are limited to their row's minimum.
    """

    model_config = _STRICT
    voluntary_share: Fraction = 0.5
    mandatory_share: Fraction = 0.6
    mandatory_proposal_share: Fraction = 1.0
    mandatory_basis: Literal["higher", "needs", "proposal"] = "higher"
    enforce_voluntary: bool = False
    refused_by: CodeList = ()

    @field_validator("mandatory_basis", mode="before")
    @classmethod
    def _pool_replaced(cls, value: object) -> object:
        if value == "pool":
            raise ValueError(
                '"pool" is no longer a basis (Art. 63(3) measures against the Commission '
                'proposal, not the Council\'s pool): use "proposal" ([proposal] relocations '
                'x offsets.mandatory_proposal_share) or "higher" (the default: the higher of '
                'that and offsets.mandatory_share x the relocation needs)')
        return value


def _pair(value: object) -> object:
    """A bilateral agreement "CONTRIBUTOR-BENEFITTING" (any case, spaces around dropped)."""
    if not isinstance(value, str):
        return value
    pair = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}-[A-Z]{2}", pair):
        raise ValueError(f"{value!r} is not a pair of state codes CONTRIBUTOR-BENEFITTING "
                         "such as FR-IT")
    return pair


# "CONTRIBUTOR-BENEFITTING", e.g. "FR-IT".
AgreementPair = Annotated[str, BeforeValidator(_pair),
                          Field(json_schema_extra={"pattern": "^[A-Z]{2}-[A-Z]{2}$"})]


def _no_repeats(value: tuple[str, ...], what: str) -> None:
    """Refuse a list naming an item twice, naming every such item."""
    twice = sorted({item for item in value if value.count(item) > 1})
    if twice:
        raise ValueError(f"each {what} at most once; given more than once: {', '.join(twice)}")


class RelocationConfig(BaseModel):
    """[relocation] in instance.toml: beneficiaries of international protection
    (Art. 56(2)(a)(ii), rules section 7.2; planner.inputs.protection). [law] A beneficiary is
    relocated only from a benefitting state to a contributor that agreed bilaterally
    (`bilateral_agreements`, "CONTRIBUTOR-BENEFITTING" pairs; default none: no beneficiary is
    eligible), and only if protection was granted less than `protection_max_years` years
    [law: 3] before pool.adopted. `protection_after_adoption` [interp]: whether a grant after
    the act's adoption counts (true: it does; false: the letter of "prior to the adoption")."""

    model_config = _STRICT
    bilateral_agreements: tuple[AgreementPair, ...] = ()
    protection_max_years: Annotated[int, Field(ge=1, le=MAX_PROTECTION_YEARS)] = 3
    protection_after_adoption: bool = True

    @field_validator("bilateral_agreements")
    @classmethod
    def _once_each(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _no_repeats(value, "pair")
        same = sorted({pair for pair in value if pair[:2] == pair[3:]})
        if same:
            raise ValueError(f"a state cannot agree with itself: {', '.join(same)}")
        return value


class DistributionConfig(BaseModel):
    """Balanced distribution among benefitting states (Art. 60(2)) and the SAR share."""

    model_config = _STRICT
    sar_share: Fraction = 0.0
    sar_states: CodeList = ()


class BenefittingConfig(BaseModel):
    """Benefitting states' own pledges (rules section 4 [law]: a state under migratory
    pressure that uses the pool "should not be obliged to implement" its pledges that year;
    Arts 58-59, use of the pool). Their rows are accepted and reported, not implemented
    (amount 0), unless `implement_pledges` [interp]: then they are planned like other rows,
    never sent to the pledging state itself, and their value counts against the state's fair
    share (share x relocations, rounded as obligations are), not against an obligation."""

    model_config = _STRICT
    implement_pledges: bool = False


class SolverConfig(BaseModel):
    model_config = _STRICT
    name: Literal["highs", "cbc"] = "highs"
    time_limit_s: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    fallback: bool = True


class QualityWeights(BaseModel):
    """Stage (iv) weights per person placed (rules section 7, soft rules; Art. 67 links)."""

    model_config = _STRICT
    family_link: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 8.0
    other_link: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 4.0
    language: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 2.0
    preference: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0


class MatchingConfig(BaseModel):
    """[matching] in instance.toml: the order of the priority terms and the quality weights."""

    model_config = _STRICT
    # [interp] Unaccompanied minors first: the best interests of the child are a primary
    # consideration (Charter Art. 24(2); Reg. 2024/1351 Art. 23), so no vulnerable adult
    # takes a child's place; then vulnerable persons, then waiting time (rules section 7).
    priority: tuple[Literal["minors", "vulnerable", "waiting"], ...] = (
        "minors", "vulnerable", "waiting")
    quality: QualityWeights = QualityWeights()
    waiting_band_days: Annotated[int, Field(ge=1)] = 30
    # [interp] Art. 60(2) where candidates are known (issue 18): "joint" decides how many of
    # each relocation row's places go to each benefitting state it may serve together with
    # the matching (persons relocated first, then the balance of the states' relocation
    # needs); "fixed" splits the places by the distribution alone, before the matching (the
    # behaviour before issue 18), which can leave places empty that another state's
    # candidates could take.
    split: Literal["joint", "fixed"] = "joint"

    @field_validator("priority")
    @classmethod
    def _once_each(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        _no_repeats(value, "term")
        if "minors" not in value and "vulnerable" in value:
            # Files written before minors were a term of their own: their `vulnerable` counted
            # unaccompanied minors too, so minors keep that rank, just before it.
            at = value.index("vulnerable")
            value = (*value[:at], "minors", *value[at:])
        return value


class ReplanConfig(BaseModel):
    """[replan] in instance.toml: the re-plan of the rest of the year (`planner run --as-of`,
    issue 15, Art. 60(3)). [interp] `pacing` caps each contributor's new placements of the
    matching in the coming period (`period_days` after the as-of date) at `pacing` times its
    pro-rata share of the relocations that remain to it: remaining x period / days left in
    the year, rounded up (planner.optimise.pacing). 0 is the neutral value: no cap."""

    model_config = _STRICT
    pacing: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = 1.25
    period_days: Annotated[int, Field(ge=1, le=366)] = 31


class InputConfig(BaseModel):
    """[input] in instance.toml: the number format of the instance's CSV files
    (`planner.inputs.numbers`). Declaring it (either key) also lifts the ambiguity rule for
    `;`-separated files: `494.000` is then read by the declared format."""

    model_config = _STRICT
    decimal: Literal[".", ","] = "."
    thousands: Literal["", ".", ",", " ", "'"] = ""

    @model_validator(mode="after")
    def _distinct(self) -> InputConfig:
        if self.decimal == self.thousands:
            raise ValueError(f"decimal and thousands must differ, both are {self.decimal!r}")
        return self


class TrackingConfig(BaseModel):
    """[tracking] in instance.toml (issue 15, `planner track`): `tolerance` is how far, in
    share points of the planned value (0.1 = 10 points), a contributor or one of its measures
    may lag before it is warned about: behind the calendar's pro-rata target, behind its own
    pace (Art. 60(3) reading (a)) or behind the pool's (reading (b)) [interp]."""

    model_config = _STRICT
    tolerance: Fraction = 0.1


class InstanceConfig(BaseModel):
    """instance.toml: the proposal and the rules' parameters."""

    model_config = _STRICT
    name: str
    cycle: Annotated[int, Field(ge=MIN_CYCLE, le=MAX_CYCLE)]
    # The first day of the cycle's implementation, when not 1 January: the pro-rata clock of
    # Art. 60(3) (tracking, the re-plan's pacing) starts there and the ledger's dates may not
    # come before it. The 2026 cycle runs from 12 June 2026 (the Pact's date of application).
    cycle_start: Annotated[dt.date, BeforeValidator(_toml_date)] | None = None
    pool: PoolConfig
    proposal: ProposalConfig = ProposalConfig()
    key: KeyConfig = KeyConfig()
    deductions: DeductionsConfig = DeductionsConfig()
    offsets: OffsetsConfig = OffsetsConfig()
    distribution: DistributionConfig = DistributionConfig()
    benefitting: BenefittingConfig = BenefittingConfig()
    solver: SolverConfig = SolverConfig()
    matching: MatchingConfig = MatchingConfig()
    relocation: RelocationConfig = RelocationConfig()
    input: InputConfig = InputConfig()
    tracking: TrackingConfig = TrackingConfig()
    replan: ReplanConfig = ReplanConfig()
    # What a scenario sweep varies (planner sweep; models.uncertainty): unused by a plan.
    uncertainty: UncertaintyConfig = UncertaintyConfig()

    @model_validator(mode="after")
    def _start_within_the_cycle(self) -> InstanceConfig:
        if self.cycle_start is not None and self.cycle_start.year != self.cycle:
            raise ValueError(f"cycle_start {self.cycle_start.isoformat()} is not in the "
                             f"cycle {self.cycle}")
        return self

    @property
    def cycle_days(self) -> tuple[dt.date, dt.date]:
        """The cycle's first and last day: `cycle_start` (default 1 January) to 31 December;
        the pool is annual (Art. 57), its pledges implemented "before the end of the year"
        (Art. 60(3))."""
        return self.cycle_start or dt.date(self.cycle, 1, 1), dt.date(self.cycle, 12, 31)

    @property
    def proposal_relocations(self) -> int:
        """The proposal's relocation number (Art. 12(2)(a)); default the pool's."""
        given = self.proposal.relocations
        return self.pool.relocations if given is None else given

    @property
    def proposal_financial_eur(self) -> float:
        """The proposal's financial contributions (Art. 12(2)(b)); default the pool's."""
        given = self.proposal.financial_eur
        return self.pool.financial_eur if given is None else given


class MemberState(BaseModel):
    """One row of member_states.csv; `indicators` holds the key's weight columns."""

    model_config = _STRICT
    code: StateCode
    name: str
    population: Annotated[float, Field(gt=0, le=MAX_POPULATION, allow_inf_nan=False)]
    gdp_eur_million: Annotated[float, Field(gt=0, le=MAX_GDP_MILLION, allow_inf_nan=False)]
    participates: Bool = True
    benefitting: Bool = False
    status: Status = Status.none
    deduction: Fraction = 0.0
    share: Fraction | None = None
    indicators: dict[str, float] = Field(default_factory=dict)

    def indicator(self, column: str) -> float:
        if column in ("population", "gdp_eur_million"):
            return float(getattr(self, column))
        return self.indicators[column]


class Pledge(BaseModel):
    """One row of pledges.csv: an offer of one measure, amounts in the measure's unit. The
    file may hold more columns (e.g. `source`: the citation, `note`: the explanation); the
    planner does not read them, and this schema describes the columns it reads."""

    model_config = _STRICT
    pledge_id: Annotated[str, Field(min_length=1)]
    state: StateCode
    measure: Measure
    min: Amount = 0.0
    max: Amount | None = None
    beneficiary: CodeList = ()
    preference: Annotated[int, Field(ge=1, le=MAX_PREFERENCE)] = 1
    nationalities: CodeList = ()
    statuses: TextList = ()
    max_case_size: Annotated[int, Field(ge=1, le=MAX_CASE_SIZE)] | None = None
    vulnerable: Bool = True
    unaccompanied_minors: Bool = True


class Need(BaseModel):
    """One row of needs.csv: what a benefitting state needs of one measure (rules section 6)."""

    model_config = _STRICT
    state: StateCode
    measure: Measure
    amount: Amount


class Responsibility(BaseModel):
    """One row of responsibility.csv (Art. 63, rules section 5): `persons` present on the
    territory of `state` for whom the benefitting state `benefitting` is responsible. It caps
    the state's mandatory offsets and decides to which benefitting state each offset counts
    (planner.optimise.offsets). Whole persons, 0 to MAX_PERSONS
    (planner.inputs.checks.responsibility_rows)."""

    model_config = _STRICT
    state: StateCode
    benefitting: StateCode
    persons: Annotated[float, Field(ge=0, le=MAX_EUR, allow_inf_nan=False)]


class Origin(BaseModel):
    """Where a loaded instance was read from (`planner.inputs.load`): facts of the loading, not
    of the rules, kept apart from the instance's data for what still cites the files after
    loading: the verifier reads candidates.csv again on its own, a variant's warnings quote
    its file, and the input errors the plan finds (transfers that do not fit the places)
    name their line. An instance built in memory has none of them."""

    model_config = _STRICT
    folder: str = ""  # the instance folder; empty when not read from one
    # case_id -> its line in transfers.csv (a case is transferred at most once).
    transfer_lines: dict[str, int] = Field(default_factory=dict)


class Instance(BaseModel):
    """A validated instance: the configuration and the rows, sorted by their ids.

    `cases` are the candidates grouped into family units (`models.candidates.Case`), None when
    the instance has no candidates.csv; `transfers` are (case, state) pairs, the case went to
    the state, in the file's order; `rejections` (case, state) pairs, the state refused the
    case, sorted. `input_sha256` identifies the input files in the outputs (summary.json,
    checked by the verifier); `origin` says where they were read.
    """

    model_config = ConfigDict(frozen=True)
    name: str
    config: InstanceConfig
    states: tuple[MemberState, ...]
    pledges: tuple[Pledge, ...]
    needs: tuple[Need, ...] = ()
    # responsibility.csv, sorted by (state, benefitting); None: no such file, so offsets are
    # not assigned to any benefitting state.
    responsibility: tuple[Responsibility, ...] | None = None
    # Built and checked column-wise by the loader (planner.inputs.candidates): a million-row
    # file makes half a million cases, not validated again one by one.
    cases: SkipValidation[tuple[Case, ...] | None] = None
    transfers: tuple[tuple[str, str], ...] = ()
    rejections: tuple[tuple[str, str], ...] = ()
    input_sha256: str = ""
    origin: Origin = Origin()
    # implementation.csv and the transfers' dates (issue 15); read by planner track and the
    # re-plan, not by the annual plan.
    ledger: Ledger = Field(default_factory=lambda: Ledger())

    @property
    def pledges_by_id(self) -> dict[str, Pledge]:
        return {p.pledge_id: p for p in self.pledges}

    @property
    def benefitting(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.states if s.benefitting)


def _iso_date(value: object) -> object:
    """A date cell written exactly YYYY-MM-DD (as candidates.csv's dates): `2026-3-5` or
    `05/03/2026` could be read several ways, so they are refused rather than guessed."""
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("not an ISO date (YYYY-MM-DD)")
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("not an ISO date (YYYY-MM-DD)") from None
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class Implementation(BaseModel):
    """One row of implementation.csv, the ledger of what was implemented (issue 15, Art.
    60(3)): on `date`, contributor `state` implemented `amount` of `measure` (in the measure's
    unit: persons for relocation and offset, EUR for financial and alternative) for the
    benefitting state `benefitting` (empty: not for one benefitting state, as an offset without
    responsibility.csv). `reference` identifies the entry (a payment order, a transfer decision)
    and is unique when given. Relocations of persons are recorded in transfers.csv when the
    instance has candidates' transfers; a `relocation` row here records persons relocated in
    aggregate (an instance without person-level transfers). Cross-row checks:
    planner.inputs.ledger."""

    model_config = _STRICT
    date: IsoDate
    state: StateCode
    measure: Measure
    amount: Amount
    benefitting: Annotated[StateCode, Field()] | None = None
    reference: str = ""


class Ledger(BaseModel):
    """What was implemented, as loaded (planner.inputs.ledger): implementation.csv's rows in
    the file's order, each row's line, and the dates of the dated transfers (case_id -> date;
    transfers.csv's optional `date` column). Tracking (planner track) and the re-plan of the
    rest of the year read it; the annual plan does not."""

    model_config = _STRICT
    entries: tuple[Implementation, ...] = ()
    lines: tuple[int, ...] = ()
    transfer_dates: dict[str, dt.date] = Field(default_factory=dict)
    # Whether implementation.csv exists (an empty ledger and none are told apart in messages).
    has_file: bool = False


Instance.model_rebuild()  # `ledger` names Ledger, defined after Instance
