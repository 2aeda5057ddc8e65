"""Cross-row checks of an instance: each function finds one kind of problem in every row.

Per-cell types and ranges are the pydantic models' job (`models.instance`); what needs more
than one row or more than one file is here (PyPSA's `consistency.py` habit).
"""

from __future__ import annotations

from models.instance import (
    MAX_INDICATOR,
    MAX_NEED_SPREAD,
    MAX_PERSONS,
    MAX_RATE,
    MIN_RATE,
    InstanceConfig,
    MemberState,
    Need,
    Pledge,
    Responsibility,
)
from planner.inputs import protection, uncertainty
from planner.inputs.reader import Reader, toml_line
from planner.inputs.safe_text import ascii_letters, id_problem, text_problem

STATES, PLEDGES, NEEDS = "member_states.csv", "pledges.csv", "needs.csv"
RELOCATION_ONLY = ("nationalities", "statuses", "max_case_size")


def duplicate_states(reader: Reader, states: list[tuple[int, MemberState]]) -> None:
    first: dict[str, int] = {}
    for line, state in states:
        if state.code in first:
            reader.problem(STATES, line, "code",
                           f"duplicate state code {state.code} (first on line {first[state.code]})")
        first.setdefault(state.code, line)


def official_shares(reader: Reader, states: list[tuple[int, MemberState]]) -> None:
    given = [(line, s) for line, s in states if s.share is not None]
    total = sum(s.share or 0.0 for _, s in given)
    if total > 1 + 1e-9:
        reader.problem(STATES, given[-1][0], "share",
                       f"official shares sum to {total:.6f}, above 1")
    for line, state in given:
        if not state.participates:
            reader.problem(STATES, line, "share",
                           f"{state.code} does not participate, so it has no share in the key")


def key_columns(reader: Reader, config: InstanceConfig | None,
                states: list[tuple[int, MemberState]]) -> None:
    if config is None:
        return
    participants = [(line, s) for line, s in states if s.participates]
    if states and not participants:
        reader.problem(STATES, 1, "participates", "no state participates in the key")
    for column in config.key.weights:
        for line, state in states:
            value = state.indicators.get(column)
            if value is not None and value < 0:
                reader.problem(STATES, line, column, f"must be at least 0, got {value:g}")
            elif value is not None and value > MAX_INDICATOR:
                reader.problem(STATES, line, column,
                               f"must be at most {MAX_INDICATOR:g}, got {value:g}")
        if participants and all(s.indicators.get(column, 1.0) == 0 for _, s in participants):
            reader.problem(STATES, 1, column, "sums to 0 over the participating states")


def pledge_rows(reader: Reader, states: list[tuple[int, MemberState]],
                pledges: list[tuple[int, Pledge]], codes: set[str] | None,
                implement: bool = False) -> None:
    """Each pledge row against the others and the states. A benefitting state's pledge is
    accepted (rules section 4); implemented (`implement`: benefitting.implement_pledges), it
    needs another benefitting state to go to."""
    by_code = {s.code: s for _, s in states}  # a repeated code: its last row
    known = set(by_code)
    benefitting = {code for code, s in by_code.items() if s.benefitting}
    first: dict[str, int] = {}
    for line, pledge in pledges:
        if pledge.pledge_id in first:
            reader.problem(PLEDGES, line, "pledge_id", f"duplicate pledge id {pledge.pledge_id!r} "
                           f"(first on line {first[pledge.pledge_id]})")
        first.setdefault(pledge.pledge_id, line)
        _pledge_state(reader, line, pledge, codes, benefitting if implement else None)
        if pledge.max is not None and pledge.min > pledge.max:
            reader.problem(PLEDGES, line, "min",
                           f"min {pledge.min:g} is above max {pledge.max:g}")
        _pledge_beneficiaries(reader, line, pledge, codes, known, benefitting)
        if pledge.measure.in_persons:
            for column in ("min", "max"):
                persons_amount(reader, PLEDGES, line, column, pledge.measure,
                               getattr(pledge, column))
        _pledge_profile(reader, line, pledge)


def _pledge_state(reader: Reader, line: int, pledge: Pledge, codes: set[str] | None,
                  implemented: set[str] | None) -> None:
    """The pledging state known; a benefitting state's implemented pledge (`implemented`:
    the benefitting states when benefitting.implement_pledges, else None) without stated
    beneficiaries needs another benefitting state to reach (rules section 4)."""
    if codes is not None and pledge.state not in codes:
        reader.problem(PLEDGES, line, "state", f"unknown state {pledge.state}")
    elif implemented is not None and pledge.state in implemented and not pledge.beneficiary \
            and not implemented - {pledge.state}:
        # Accepted (rules section 4), but a row must be able to reach someone else.
        reader.problem(PLEDGES, line, "state", f"{pledge.state} is the only benefitting "
                       "state: its pledge could go to no other benefitting state")


def _pledge_beneficiaries(reader: Reader, line: int, pledge: Pledge, codes: set[str] | None,
                          known: set[str], benefitting: set[str]) -> None:
    """Each stated beneficiary another state, known, and benefitting (where its row
    parsed)."""
    for target in pledge.beneficiary:
        if target == pledge.state:
            reader.problem(PLEDGES, line, "beneficiary", f"{target} cannot receive its "
                           "own pledge (a benefitting state's pledge goes to the others)")
        elif codes is not None and target not in codes:
            reader.problem(PLEDGES, line, "beneficiary", f"unknown state {target}")
        elif target in known and target not in benefitting:
            reader.problem(PLEDGES, line, "beneficiary", f"{target} is not benefitting")


def _pledge_profile(reader: Reader, line: int, pledge: Pledge) -> None:
    """The profile criteria (rules section 7.5): statuses applicant or beneficiary,
    nationalities ISO 3166-1 alpha-3 codes, and criteria on relocation rows only."""
    for status in pledge.statuses:
        if status not in ("applicant", "beneficiary"):
            reader.problem(PLEDGES, line, "statuses",
                           f"{status!r} is not one of: applicant, beneficiary")
    for code in pledge.nationalities:
        if not ascii_letters(code, 3):
            reader.problem(PLEDGES, line, "nationalities",
                           f"{code!r} is not an ISO 3166-1 alpha-3 code")
    if pledge.measure != "relocation":
        for column in RELOCATION_ONLY:
            if getattr(pledge, column):
                reader.problem(PLEDGES, line, column, "profile criteria apply to "
                               f"relocation rows, not {pledge.measure}")


def need_rows(reader: Reader, states: list[tuple[int, MemberState]],
              needs: list[tuple[int, Need]], codes: set[str] | None) -> None:
    known = {s.code: s for _, s in states}
    first: dict[tuple[str, str], int] = {}
    for line, need in needs:
        key = (need.state, need.measure.value)
        if key in first:
            reader.problem(NEEDS, line, "measure", f"duplicate need for {need.state} "
                           f"{need.measure} (first on line {first[key]})")
        first.setdefault(key, line)
        if codes is not None and need.state not in codes:
            reader.problem(NEEDS, line, "state", f"unknown state {need.state}")
        elif need.state in known and not known[need.state].benefitting:
            reader.problem(NEEDS, line, "state", f"{need.state} is not benefitting")
        if need.measure.in_persons:
            persons_amount(reader, NEEDS, line, "amount", need.measure, need.amount)


def persons_amount(reader: Reader, name: str, line: int, column: str, measure: object,
                   amount: float | None) -> None:
    """An amount of persons: whole, and at most MAX_PERSONS (EUR amounts are bounded by
    their field: models.instance.Amount)."""
    if amount is None:
        return
    if amount > MAX_PERSONS:
        reader.problem(name, line, column, f"must be at most {MAX_PERSONS:,} persons for "
                       f"{measure}, got {amount:g}")
    elif amount != int(amount):
        reader.problem(name, line, column,
                       f"{measure} is counted in whole persons, got {amount:g}")


def pool_rate(reader: Reader, config: InstanceConfig | None) -> bool:
    """Whether the pool's rate (EUR per relocation) is in the allowed range; a given
    `eur_per_relocation` is checked by its field, a derived one (financial_eur / relocations)
    here, in the files' terms. (Not in the model: tests and tools build pools of any rate.)"""
    if config is None:
        return False
    rate = config.pool.rate
    if config.pool.eur_per_relocation is None and not MIN_RATE <= rate <= MAX_RATE:
        reader.problem("instance.toml", toml_line(reader, ("pool",)), "pool",
                       f"financial_eur / relocations gives EUR {rate:g} per relocation, "
                       f"outside the allowed {MIN_RATE:,} to {MAX_RATE:,}: set "
                       "pool.eur_per_relocation")
        return False
    return True


def eur_values(reader: Reader, config: InstanceConfig, pledges: list[tuple[int, Pledge]],
               needs: list[tuple[int, Need]]) -> None:
    """An EUR amount (financial, alternative) is at most MAX_PERSONS relocation-equivalents at
    the pool's rate, as a persons amount is at most MAX_PERSONS: the solver's models hold
    values, and much larger ones (EUR 1e12 at EUR 1 per relocation) made stages fail."""
    rate = config.pool.rate
    rows = [(PLEDGES, line, column, p.measure, getattr(p, column))
            for line, p in pledges for column in ("min", "max")]
    rows += [(NEEDS, line, "amount", n.measure, n.amount) for line, n in needs]
    for name, line, column, measure, amount in rows:
        if amount is not None and not measure.in_persons and amount / rate > MAX_PERSONS:
            reader.problem(name, line, column, f"EUR {amount:,.0f} is {amount / rate:,.0f} "
                           f"relocation-equivalents at EUR {rate:,.0f} per relocation, above "
                           f"the allowed {MAX_PERSONS:,}")


def need_spread(reader: Reader, config: InstanceConfig, states: list[tuple[int, MemberState]],
                needs: list[tuple[int, Need]]) -> None:
    """Positive needs within MAX_NEED_SPREAD of each other, in relocation-equivalents. The
    balance (Art. 60(2), planner.optimise.distribution) raises coverage ratios received / need
    level by
    level; a ratio of a need a million times smaller than another moves by a million times the
    solver's round-off on the larger one, and the levels were no longer found reliably (a need
    of EUR 0.01 beside one of EUR 1e12: wrong levels under CBC, found by the edge tests)."""
    rate = config.pool.rate
    benefitting = {s.code for _, s in states if s.benefitting}  # others: a problem already
    sized = [(n.amount if n.measure.in_persons else n.amount / rate, line)
             for line, n in needs if n.amount is not None and n.amount > 0
             and n.state in benefitting]
    if not sized:
        return
    largest, at = max(sized)
    for size, line in sized:
        if size * MAX_NEED_SPREAD < largest:
            reader.problem(NEEDS, line, "amount",
                           f"{size:g} relocation-equivalents, under 1/{MAX_NEED_SPREAD:,} of the "
                           f"largest need ({largest:,.0f}, line {at}): needs this far apart "
                           "cannot be balanced reliably; raise it, or set it to 0 if the state "
                           "has no such need")


def text_cells(reader: Reader, states: list[tuple[int, MemberState]],
               pledges: list[tuple[int, Pledge]]) -> None:
    """The text written back to the outputs: state names and pledge ids (`safe_text`)."""
    for line, state in states:
        found = text_problem(state.name)
        if found:
            reader.problem(STATES, line, "name", found)
    for line, pledge in pledges:
        found = id_problem(pledge.pledge_id)
        if found:
            reader.problem(PLEDGES, line, "pledge_id", found)


def benefitting_list(reader: Reader, listed: tuple[str, ...], key: tuple[str, str],
                     states: list[tuple[int, MemberState]], codes: set[str] | None) -> None:
    """An instance.toml list (`key`: section and name) of benefitting states: each code known
    and benefitting this cycle, a problem on the key's line otherwise."""
    known = {s.code: s for _, s in states}
    for code in listed:
        message = f"unknown state {code}" if codes is not None and code not in codes else \
            f"{code} is not benefitting" if code in known and not known[code].benefitting \
            else None
        if message:
            reader.problem("instance.toml", toml_line(reader, key), ".".join(key), message)


def sar_states(reader: Reader, config: InstanceConfig | None,
               states: list[tuple[int, MemberState]], codes: set[str] | None) -> None:
    if config is None:
        return
    benefitting_list(reader, config.distribution.sar_states, ("distribution", "sar_states"),
                     states, codes)
    if config.distribution.sar_share > 0 and not config.distribution.sar_states:
        reader.problem("instance.toml", toml_line(reader, ("distribution", "sar_share")),
                       "distribution.sar_share", "a SAR share needs distribution.sar_states")


def responsibility_rows(reader: Reader, states: list[tuple[int, MemberState]],
                        rows: list[tuple[int, Responsibility]], codes: set[str] | None) -> None:
    """responsibility.csv (Art. 63, rules section 5): known states, `benefitting` a
    benefitting state other than `state`, each (state, benefitting) pair once, whole persons
    up to MAX_PERSONS (negative persons: the model's range)."""
    name = "responsibility.csv"
    known = {s.code: s for _, s in states}
    first: dict[tuple[str, str], int] = {}
    for line, row in rows:
        pair = (row.state, row.benefitting)
        if pair in first:
            reader.problem(name, line, "benefitting", f"duplicate pair {row.state}, "
                           f"{row.benefitting} (first on line {first[pair]})")
        first.setdefault(pair, line)
        for column in ("state", "benefitting"):
            code = getattr(row, column)
            if codes is not None and code not in codes:
                reader.problem(name, line, column, f"unknown state {code}")
        if row.benefitting in known and not known[row.benefitting].benefitting:
            reader.problem(name, line, "benefitting", f"{row.benefitting} is not benefitting")
        elif row.state == row.benefitting:
            reader.problem(name, line, "state", f"{row.state} is the benefitting state itself")
        if row.persons > MAX_PERSONS:
            reader.problem(name, line, "persons", f"must be at most {MAX_PERSONS:,} persons, "
                           f"got {row.persons:g}")
        elif row.persons != int(row.persons):
            reader.problem(name, line, "persons", f"persons are whole, got {row.persons:g}")


def offset_minimums(reader: Reader, pledges: list[tuple[int, Pledge]],
                    rows: list[tuple[int, Responsibility]]) -> None:
    """With responsibility.csv, an offset counts only along its (state, benefitting) pairs, at
    most their persons (rules section 5): a state's offset rows cannot commit more than the
    persons of the pairs they may serve."""
    persons: dict[tuple[str, str], float] = {}
    for _, row in rows:
        persons[(row.state, row.benefitting)] = row.persons
    states = sorted({p.state for _, p in pledges if p.measure == "offset" and p.min > 0})
    for state in states:
        own = [(line, p) for line, p in pledges if p.state == state and p.measure == "offset"]
        serve = {b for _, p in own for b in p.beneficiary} if all(
            p.beneficiary for _, p in own) else None
        room = sum(n for (s, b), n in persons.items()
                   if s == state and (serve is None or b in serve))
        fixed = sum(p.min for _, p in own)
        if fixed > room:
            reader.problem(PLEDGES, own[-1][0], "min", f"{state}'s offset rows commit "
                           f"{fixed:g} offsets, but responsibility.csv places only {room:g} "
                           f"persons of benefitting states they may serve on {state}'s "
                           "territory (Art. 63)")


def refused_by(reader: Reader, config: InstanceConfig | None,
               states: list[tuple[int, MemberState]], codes: set[str] | None) -> None:
    """offsets.refused_by names benefitting states (Art. 63(2): their agreement)."""
    if config is None:
        return
    benefitting_list(reader, config.offsets.refused_by, ("offsets", "refused_by"), states,
                     codes)


def run_all(reader: Reader, config: InstanceConfig | None, states: list[tuple[int, MemberState]],
            pledges: list[tuple[int, Pledge]], needs: list[tuple[int, Need]],
            codes: set[str] | None) -> None:
    """Every cross-row check. `codes` are the state codes member_states.csv names (None when
    it could not be read), so a state whose row has a bad cell is not also 'unknown'."""
    duplicate_states(reader, states)
    official_shares(reader, states)
    key_columns(reader, config, states)
    pledge_rows(reader, states, pledges, codes,
                config is not None and config.benefitting.implement_pledges)
    text_cells(reader, states, pledges)
    if config is not None and pool_rate(reader, config):
        eur_values(reader, config, pledges, needs)
        need_spread(reader, config, states, needs)
    need_rows(reader, states, needs, codes)
    sar_states(reader, config, states, codes)
    protection.check_config(reader, config, states, codes)  # beneficiaries (issue 14)
    uncertainty.check_config(reader, config, states, codes)  # scenario sweeps (issue 16)
