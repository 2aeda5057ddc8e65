"""Beneficiaries of international protection (Art. 56(2)(a)(ii), rules section 7.2) [law].

A beneficiary (candidates.csv `status = beneficiary`) may be relocated only
- "where bilaterally agreed by the contributing and benefitting Member State concerned": the
  pair (receiving state, the beneficiary's location) is listed in
  `[relocation] bilateral_agreements` as "CONTRIBUTOR-BENEFITTING" (default none, so no
  beneficiary is eligible) [law]. The agreement is per pair: a beneficiary may be eligible for
  some places and not for others;
- if protection was granted less than `relocation.protection_max_years` (3) years before the
  adoption of the Council implementing act (`pool.adopted`) [law]. The boundary, as
  Regulation (EEC, Euratom) No 1182/71 (periods, dates and time limits in Union acts) counts
  it: the N years run from the day after the grant g and end with the last hour of the N-th
  anniversary of g (Art. 3(1) and 3(2)(c)), so an adoption on day a is within them when
  a <= anniversary(g, N): on the anniversary itself the grant is still less than N years
  before (eligible), the day after it is not. The anniversary of 29 February in a common year
  is 28 February (Art. 3(2)(c): a period whose last day does not occur ends on the last day of
  that month) [interp, documented]. A beneficiary without a `protection_granted` date is not
  eligible. A grant after the adoption is not "prior to" it in the letter of the text; it is
  eligible by default (the rule keeps out long-settled beneficiaries, not recent ones) and
  refused with `relocation.protection_after_adoption = false` [interp].
Their consent stays required (practice, planner.inputs.candidates).

Reason codes of the unplaced (unassigned.csv), in the order they are given when several apply:
security, consent, protection_date_missing, protection_expired, protection_after_adoption,
no_bilateral_agreement, no_eligible_place, capacity. The first five block the case whatever the
places (`Case.blocked`); no_bilateral_agreement is for a case with no place it may take that would
have one were the agreement not required.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from models.instance import InstanceConfig, MemberState
from planner.inputs.reader import Reader

# Case-level blocks of this rule, in precedence order (after security and consent).
BLOCKS = ("protection_date_missing", "protection_expired", "protection_after_adoption")
NO_AGREEMENT = "no_bilateral_agreement"
# The pseudo-criterion a place fails for a beneficiary's case without an agreement
# (planner.optimise.eligibility, planner.optimise.matchability): never a profile criterion of a
# pledge row.
AGREEMENT = "bilateral_agreement"
# matchability.csv's law rows: subject and the rules lifted ("criterion").
LAW_SUBJECT = "Art. 56(2)(a)(ii)"
PERIOD = "protection_period"


def anniversary(day: dt.date, years: int) -> dt.date:
    """`day` moved by `years` (negative: back); 29 February -> 28 February in a common year."""
    year = day.year + years
    return dt.date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def first_eligible(adopted: dt.date, years: int) -> dt.date:
    """The earliest grant date still less than `years` years before `adopted`: the first day
    g with adopted <= anniversary(g, years) (Reg. 1182/71 Art. 3(2)(c)). Anniversaries never
    decrease with g, so the days are a single range; it starts within a few days of the same
    date `years` earlier."""
    day = anniversary(adopted, -years) - dt.timedelta(days=3)
    while anniversary(day, years) < adopted:
        day += dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class ProtectionRule:
    """The grant dates a beneficiary may have (ISO dates compare as text too): from `first`
    (None: pool.adopted not given, the age is not checked) to `last` (None: no limit)."""

    first: dt.date | None = None
    last: dt.date | None = None

    def block(self, granted: dt.date | None) -> str | None:
        """The reason a beneficiary with this grant date is blocked, None if not."""
        if granted is None:
            return "protection_date_missing"
        if self.first is not None and granted < self.first:
            return "protection_expired"
        if self.last is not None and granted > self.last:
            return "protection_after_adoption"
        return None


def rule_of(config: InstanceConfig | None) -> ProtectionRule:
    if config is None or config.pool.adopted is None:
        return ProtectionRule()
    relocation = config.relocation
    return ProtectionRule(
        first_eligible(config.pool.adopted, relocation.protection_max_years),
        None if relocation.protection_after_adoption else config.pool.adopted)


def agreed_pairs(config: InstanceConfig) -> frozenset[tuple[str, str]]:
    """(receiving state, benefitting state) pairs of the bilateral agreements."""
    return frozenset(tuple(p.split("-")) for p in config.relocation.bilateral_agreements)  # type: ignore[misc]


def check_config(reader: Reader, config: InstanceConfig | None,
                 states: list[tuple[int, MemberState]], codes: set[str] | None) -> None:
    """instance.toml's agreements name known states, the first not benefitting, the second
    benefitting; pool.adopted lies from 1 January of the year before the cycle to its end,
    and is given when there are agreements (the 3-year rule needs it)."""
    from planner.inputs.reader import toml_line

    if config is None:
        return
    known = {s.code: s for _, s in states}
    key = ("relocation", "bilateral_agreements")
    where = toml_line(reader, key)
    for pair in config.relocation.bilateral_agreements:
        contributor, benefitting = pair.split("-")
        for code, should in ((contributor, False), (benefitting, True)):
            if codes is not None and code not in codes:
                message = f"{pair}: unknown state {code}"
            elif code in known and known[code].benefitting != should:
                message = (f"{pair}: {code} is benefitting this cycle and receives no "
                           "relocations (write CONTRIBUTOR-BENEFITTING)" if not should else
                           f"{pair}: {code} is not benefitting (write CONTRIBUTOR-BENEFITTING)")
            else:
                continue
            reader.problem("instance.toml", where, ".".join(key), message)
    adopted = config.pool.adopted
    if adopted is None and config.relocation.bilateral_agreements:
        reader.problem("instance.toml", where, ".".join(key),
                       "beneficiaries are relocated only if protection was granted less than "
                       f"{config.relocation.protection_max_years} years before the Council act's "
                       "adoption: give its date as pool.adopted (e.g. adopted = "
                       f"{config.cycle - 1}-12-08)")
    if adopted is not None and not (config.cycle - 1 <= adopted.year <= config.cycle):
        reader.problem("instance.toml", toml_line(reader, ("pool", "adopted")), "pool.adopted",
                       f"{adopted.isoformat()} is not in {config.cycle - 1} or {config.cycle}: "
                       f"the act establishing the {config.cycle} pool is adopted the year before "
                       "(Art. 57) or, late, during it")
