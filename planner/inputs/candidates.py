"""Read and validate candidates.csv column-wise, and group persons into cases (family units).

The rules are those of `models.candidates.Candidate`, applied to whole columns with pandas so
that a file of a million rows needs neither one object per row nor more than a few columns of
memory. Consent and security clearance are not input errors: they make a case ineligible, with
its reason (rules section 7). Never print or log a candidate's attributes: problems name the
file, line and column, and quote only codes that fail a format check.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import partial
from io import StringIO
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from models.cases import Case
from models.instance import MAX_CYCLE, STATE_CODE, parse_bool
from planner.inputs.columns import per_value_codes
from planner.inputs.protection import BLOCKS, ProtectionRule
from planner.inputs.reader import Reader, header_problems
from planner.inputs.safe_text import FORMULA_START, ascii_letters, id_problem

NAME = "candidates.csv"
REQUIRED = ("person_id", "case_id", "location")
OPTIONAL = ("status", "consent", "security_cleared", "nationality", "languages", "vulnerable",
            "unaccompanied_minor", "family_links", "other_links", "preferences", "registered",
            "protection_granted")
BOOLEANS = {"consent": False, "security_cleared": True, "vulnerable": False,
            "unaccompanied_minor": False}
STATE_LISTS = ("family_links", "other_links", "preferences")
FIRST_DATE = "1900-01-01"  # the earliest registration (or protection) date taken
MAX_PER_COLUMN = 20  # a systematic error in a large file is shown this often, then counted


class _Column:
    """Collects the problems of one column, capped so a broken column stays readable."""

    def __init__(self, reader: Reader, name: str) -> None:
        self.reader, self.name, self.count = reader, name, 0

    def report(self, lines: pd.Series, messages: pd.Series | str) -> None:
        if isinstance(messages, str):
            messages = pd.Series(messages, index=lines.index)
        for line, message in zip(lines.head(MAX_PER_COLUMN - self.count),
                                 messages.head(MAX_PER_COLUMN - self.count), strict=True):
            self.reader.problem(NAME, int(line), self.name, str(message))
        self.count += len(lines)

    def close(self) -> None:
        if self.count > MAX_PER_COLUMN:
            self.reader.problem(NAME, 0, self.name,
                                f"{self.count - MAX_PER_COLUMN} more problems in this column")


def read_frame(reader: Reader) -> pd.DataFrame | None:
    """candidates.csv as a frame of stripped text cells with each row's `_line`, blank rows
    dropped and every optional column present; None (its problems reported) when the file
    is absent, its header is wrong or a row is wider than the header or of spaces only."""
    text = reader.read_text(NAME, required=False)
    if text is None:
        return None
    # The header as the other files' reader sees it (pandas would rename a repeated column
    # `x.1` and an unnamed one `Unnamed: 3` without a word); empty names at its end are a
    # spreadsheet's trailing separators and are dropped, with the empty cells under them.
    found = reader.header(NAME, text)
    if found is None:
        return None
    header, sep, _ = found
    problems = header_problems(header, REQUIRED, (*REQUIRED, *OPTIONAL))
    for column, message in problems:
        reader.problem(NAME, 1, column, message)
    if problems:
        return None
    frame = _parse_frame(reader, text, sep, header)
    if frame is None:
        return None
    frame = _rows_within_header(reader, frame, header)
    if frame is not None:
        for column in OPTIONAL:
            if column not in frame.columns:
                frame[column] = ""
    return frame


def _parse_frame(reader: Reader, text: str, sep: str, header: list[str]
                 ) -> pd.DataFrame | None:
    """The file's cells as text (blank lines kept as empty rows), with each row's line
    (`_line`: the header is line 1); None when pandas cannot read it, with the line of a row
    wider than the header where pandas names one."""
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, sep=sep,
                            skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError) as exc:
        shape = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if shape:
            reader.problem(NAME, int(shape.group(2)), "-", f"row has {shape.group(3)} fields, "
                           f"the header has {len(header)}")
        else:
            reader.problem(NAME, 0, "-", f"not a readable CSV file: {str(exc).strip()}")
        return None
    if not isinstance(frame.index, pd.RangeIndex):
        # The first data row had more fields than the header: pandas took the extra ones
        # as an index (shifting every column) instead of refusing the row as it does below.
        reader.problem(NAME, 2, "-", f"row has {len(frame.columns) + frame.index.nlevels} "
                       f"fields, the header has {len(header)}")
        return None
    frame["_line"] = frame.index + 2
    return frame


def _rows_within_header(reader: Reader, frame: pd.DataFrame, header: list[str]
                        ) -> pd.DataFrame | None:
    """The non-blank rows under the header's names, cells stripped; None when a row has
    cells beyond the header's columns (under its dropped trailing empty names) or only
    spaces (a person with no id, case or location), each reported."""
    cells = [c for c in frame.columns if c != "_line"]
    frame = frame[(frame[cells] != "").any(axis=1)]
    unnamed = cells[len(header):]
    wide = frame[(frame[unnamed] != "").any(axis=1)] if unnamed else frame.iloc[:0]
    frame = frame.drop(columns=unnamed)
    frame.columns = [*header, "_line"]
    for column in header:
        frame[column] = frame[column].str.strip()
    # A row of spaces was not blank before the strip: a person with no id, case or location.
    spaces = frame[~(frame[header] != "").any(axis=1)]
    for line in wide["_line"].head(MAX_PER_COLUMN):
        reader.problem(NAME, int(line), "-", f"row has {len(cells)} fields, the header has "
                       f"{len(header)}")
    for line in spaces["_line"].head(MAX_PER_COLUMN):
        reader.problem(NAME, int(line), "-", "row of spaces only: delete it")
    if len(wide) or len(spaces):
        return None
    return frame


def _distinct(column: pd.Series, check: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """A vectorised, cell by cell `check` (a Series -> a boolean Series) applied to the
    distinct values of a column only (a large file repeats few), as a boolean per row."""
    codes, values = pd.factorize(column, use_na_sentinel=False)
    return check(pd.Series(values, dtype=column.dtype)).to_numpy(dtype=bool)[codes]


def _check_ids(reader: Reader, frame: pd.DataFrame) -> None:
    # Rows are selected only when there is a problem: a selection from a frame of Arrow
    # columns costs a take per column.
    for column in ("person_id", "case_id"):
        col = _Column(reader, column)
        empty = (frame[column] == "").to_numpy(dtype=bool)
        if empty.any():
            col.report(frame.loc[empty, "_line"], "required value is empty")
        # Ids are written back to the outputs (safe_text.id_problem): printable ASCII not
        # starting a formula is settled column-wise; any other id is checked one by one.
        odd = ~frame[column].str.fullmatch(r"[\x20-\x7e]*").to_numpy(dtype=bool) \
            | frame[column].str.startswith(FORMULA_START).to_numpy(dtype=bool)
        if odd.any():
            found = frame.loc[odd, [column, "_line"]]
            messages = found[column].map(id_problem)
            bad = messages.notna().to_numpy(dtype=bool)
            col.report(found.loc[bad, "_line"], messages[bad])
        if column == "person_id":
            repeated = frame.duplicated("person_id", keep="first").to_numpy(dtype=bool)
            if repeated.any():
                dup = frame[repeated & ~empty]
                first = frame.drop_duplicates("person_id").set_index("person_id")["_line"]
                col.report(dup["_line"], "duplicate person_id (first on line "
                           + dup["person_id"].map(first).astype(str) + ")")
        col.close()


def _location_problem(code: str, states: set[str] | None, others: set[str]) -> str | None:
    if not code:
        return "required value is empty"
    if re.fullmatch(r"[a-z]{2}", code, re.IGNORECASE) and not code.isupper():
        return f"write the state code in upper case: {code.upper()}, not {code!r}"
    if not STATE_CODE.fullmatch(code):
        return f"{code!r} is not a two-letter state code"
    if states is not None and code not in states:
        return f"unknown state {code}"
    if code in others:
        return f"{code} is not benefitting"
    return None


def _check_locations(reader: Reader, frame: pd.DataFrame, states: set[str] | None,
                     benefitting: set[str], others: set[str]) -> None:
    """A location must be a benefitting state. One whose row in member_states.csv did not
    parse is neither known to be benefitting nor to be not: it is not reported."""
    col = _Column(reader, "location")
    messages = {code: _location_problem(code, states, others)
                for code in frame["location"].unique() if code not in benefitting}
    wrong = [c for c, m in messages.items() if m is not None]
    if wrong:
        bad = frame[frame["location"].isin(wrong)]
        col.report(bad["_line"], bad["location"].map(messages))
    # A row whose location is not its case's first row's: compared as codes (the first row
    # of each case found by numpy), the rows named only when there is one.
    cases, _ = pd.factorize(frame["case_id"], use_na_sentinel=False)
    places, _ = pd.factorize(frame["location"], use_na_sentinel=False)
    first = np.unique(cases, return_index=True)[1]  # each code's first row (codes 0..k-1)
    split = places != places[first[cases]]
    if split.any():
        first_place = frame.drop_duplicates("case_id").set_index("case_id")["location"]
        differs = frame[split]
        col.report(differs["_line"], "case " + differs["case_id"] + " has persons in "
                   + differs["case_id"].map(first_place) + " and " + differs["location"]
                   + ": a case moves together and must share its location")
    col.close()


def _check_values(reader: Reader, frame: pd.DataFrame, states: set[str] | None,
                  cycle: int | None) -> None:
    def report(column: str, bad: np.ndarray, message: str | pd.Series) -> None:
        col = _Column(reader, column)
        if bad.any():
            col.report(frame.loc[bad, "_line"], message)
        col.close()

    report("status", ~frame["status"].isin(("", "applicant", "beneficiary")).to_numpy(bool),
           "not one of: applicant, beneficiary")
    for column in BOOLEANS:
        codes, ok = per_value_codes(frame[column],
                                    lambda v: v == "" or isinstance(parse_bool(v), bool))
        report(column, ~ok.astype(bool)[codes], "not a boolean (true/false, yes/no, 1/0)")
    report("nationality", _distinct(frame["nationality"], lambda v: (v != "") & ~v.str.fullmatch(
        r"[A-Za-z]{3}")), "not an ISO 3166-1 alpha-3 code")
    codes, ok = per_value_codes(frame["languages"],
                                lambda v: all(ascii_letters(c, 2) for c in _codes(v)))
    report("languages", ~ok.astype(bool)[codes], "not a ;-list of ISO 639-1 codes")
    known = states if states is not None else set()
    for column in STATE_LISTS if states is not None else ():
        codes, unknown = per_value_codes(frame[column], lambda v: ", ".join(
            c for c in _codes(v) if c not in known))
        named = unknown[codes]
        found = named != ""
        report(column, found, "unknown state " + pd.Series(named[found], dtype=object))

    def not_iso(dates: pd.Series) -> pd.Series:
        # Exactly YYYY-MM-DD (pandas would also take 2026-2-3, which `date.fromisoformat`
        # refuses).
        parsed = pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce")
        iso = dates.str.fullmatch(r"\d{4}-\d{2}-\d{2}").astype(bool)
        return (dates != "") & (parsed.isna() | ~iso)

    # A registration in the year 9999 overflowed the waiting time's reference day; no
    # registration (nor grant of protection) comes after the year after the cycle (monthly
    # re-runs go on into it). ISO dates compare as text; the dates not_iso refuses are left to
    # its message.
    last = f"{(cycle if cycle is not None else MAX_CYCLE) + 1}-12-31"
    for column, what in (("registered", "registration"), ("protection_granted",
                                                         "date of protection")):
        wrong = _distinct(frame[column], not_iso)
        report(column, wrong, "not an ISO date (YYYY-MM-DD)")
        dates = frame[column]
        iso = ~wrong & (dates != "").to_numpy(dtype=bool)
        report(column, iso & (dates < FIRST_DATE).to_numpy(dtype=bool),
               f"a date before {FIRST_DATE}: not a {what} date")
        report(column, iso & (dates > last).to_numpy(dtype=bool),
               f"a date after {last} (the end of the year after the cycle): not a {what} date")
    # Protection is granted to beneficiaries: a date on an applicant's row contradicts its
    # status (a stale status or a shifted column), so it is an error, not ignored.
    applicant = frame["status"].isin(("", "applicant")).to_numpy(dtype=bool)
    report("protection_granted", applicant & (frame["protection_granted"] != "").to_numpy(
        dtype=bool), "an applicant has no protection: set status = beneficiary or leave the "
        "date empty")


def _codes(value: str) -> list[str]:
    return [part.strip().upper() for part in value.split(";") if part.strip()]


def read_candidates(reader: Reader, states: set[str] | None, benefitting: set[str],
                    others: set[str], cycle: int | None = None) -> pd.DataFrame | None:
    """candidates.csv validated column by column; None when absent or broken.

    `states` are all the state codes of member_states.csv (None when not known: no state is
    then called unknown), `benefitting` and `others` the states known to be, or not to be,
    benefitting; `cycle` instance.toml's (None when it could not be read)."""
    frame = read_frame(reader)
    if frame is None or frame.empty:
        return frame
    before = len(reader.problems)
    _check_ids(reader, frame)
    _check_locations(reader, frame, states, benefitting, others)
    _check_values(reader, frame, states, cycle)
    return frame if len(reader.problems) == before else None


def build_cases(frame: pd.DataFrame, rule: ProtectionRule | None = None) -> list[Case]:
    """Group validated rows into cases, sorted by case id, column by column. `rule`: the
    grant dates a beneficiary may have (planner.inputs.protection; None: dates not checked). A case
    is blocked by a person not cleared (security), else by a beneficiary without consent,
    else by a beneficiary's protection date (missing, then expired, then after the
    adoption). Each distinct
    cell is parsed once (`per_value_codes`), into sets shared by every row with that value;
    a case whose rows all share a value (every one-person case, and most families for most
    columns) takes that value as it is, counts and blocks are summed per case with numpy,
    and only the values that differ within a family are merged in Python."""
    if frame.empty:
        return []
    # The order of `sort_values(["case_id", "person_id"])`: lexsort of the sorted codes (as
    # pandas does it); person ids are unique here, so the order is total.
    case_codes = pd.factorize(frame["case_id"], sort=True)[0]
    order = np.lexsort((pd.factorize(frame["person_id"], sort=True)[0], case_codes))
    if bool((order[1:] > order[:-1]).all()):  # already in order: the usual file
        data = frame
    else:
        data, case_codes = frame.take(order), case_codes[order]
    starts = np.flatnonzero(np.diff(case_codes, prepend=-1))
    ends = [*starts[1:].tolist(), len(data)]
    families = [(n, a, b) for n, (a, b) in enumerate(zip(starts.tolist(), ends, strict=True))
                if b - a > 1]
    persons = data["person_id"].tolist()

    def merged(column: str, parse: Callable[[str], Any], merge: Callable[[list[Any]], Any]
               ) -> list[Any]:
        """A case-level column: the first row's value where all the case's rows share it,
        else `merge` of the rows' values (in row order)."""
        codes, results = per_value_codes(data[column], parse)
        values = results[codes[starts]].tolist()
        if families:
            differs = (np.minimum.reduceat(codes, starts)
                       != np.maximum.reduceat(codes, starts)).tolist()
            for n, a, b in families:
                if differs[n]:
                    values[n] = merge(results[codes[a:b]].tolist())
        return values

    def union(values: list[frozenset[str]]) -> frozenset[str]:
        return frozenset().union(*values)

    flags = {c: per_value_codes(data[c], partial(_flag, column=c)) for c in BOOLEANS}
    consent, cleared, vulnerable, minor = (
        results.astype(bool)[codes] for codes, results in flags.values())
    beneficiary = (data["status"] == "beneficiary").to_numpy(dtype=bool)
    security = np.logical_or.reduceat(~cleared, starts)
    refused = np.logical_or.reduceat(beneficiary & ~consent, starts)
    blocked = np.full(len(starts), None, dtype=object)
    if rule is not None:
        # Later assignments take precedence: the reverse of the order of the reasons.
        cells = data["protection_granted"]
        has = (cells != "").to_numpy(dtype=bool)
        masks = {"protection_date_missing": beneficiary & ~has,
                 "protection_expired": beneficiary & has & (
                     (cells < rule.first.isoformat()).to_numpy(dtype=bool)
                     if rule.first is not None else False),
                 "protection_after_adoption": beneficiary & has & (
                     (cells > rule.last.isoformat()).to_numpy(dtype=bool)
                     if rule.last is not None else False)}
        for reason in reversed(BLOCKS):
            blocked[np.logical_or.reduceat(masks[reason], starts)] = reason
    blocked[refused & ~security] = "consent"
    blocked[security] = "security"
    people = list(zip(data["person_id"].to_numpy(dtype=object)[starts].tolist()))
    for n, a, b in families:
        people[n] = tuple(persons[a:b])
    columns = (
        data["case_id"].to_numpy(dtype=object)[starts].tolist(),
        data["location"].to_numpy(dtype=object)[starts].tolist(),
        people,
        merged("status", lambda v: frozenset((v or "applicant",)), union),
        merged("nationality", lambda v: frozenset((v.upper(),)), union),
        merged("languages", lambda v: frozenset(c.lower() for c in _codes(v)), union),
        np.add.reduceat(vulnerable.astype(np.int64), starts).tolist(),
        np.add.reduceat(minor.astype(np.int64), starts).tolist(),
        merged("family_links", lambda v: frozenset(_codes(v)), union),
        merged("other_links", lambda v: frozenset(_codes(v)), union),
        merged("preferences", lambda v: tuple(dict.fromkeys(_codes(v))),
               lambda values: tuple(dict.fromkeys(c for wishes in values for c in wishes))),
        merged("registered", lambda v: dt.date.fromisoformat(v) if v else None,
               lambda values: min((d for d in values if d is not None), default=None)),
        blocked.tolist(),
        _bits(vulnerable, starts, families),
        _bits(minor, starts, families),
    )
    # tuple.__new__ is what Case(...) calls, without a Python frame per case.
    return list(map(tuple.__new__, repeat(Case), zip(*columns, strict=True)))


def _bits(flags: np.ndarray, starts: np.ndarray, families: list[tuple[int, int, int]]
          ) -> list[int]:
    """Per case, its persons' flags as bits (bit n: the case's n-th person, in person id
    order): a one-person case's flag is its bit 0; a family's bits are summed in Python
    (a family of over 62 persons would overflow numpy's integers)."""
    bits = flags[starts].astype(np.int64).tolist()
    for n, a, b in families:
        bits[n] = sum(1 << j for j, on in enumerate(flags[a:b].tolist()) if on)
    return bits


def _flag(value: str, column: str) -> bool:
    return BOOLEANS[column] if value == "" else bool(parse_bool(value))

