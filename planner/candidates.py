"""Read and validate candidates.csv column-wise, and group persons into cases (family units).

The rules are those of `models.candidates.Candidate`, applied to whole columns with pandas so
that a file of a million rows needs neither one object per row nor more than a few columns of
memory. Consent and security clearance are not input errors: they make a case ineligible, with
its reason (rules section 7). Never print or log a candidate's attributes: problems name the
file, line and column, and quote only codes that fail a format check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import StringIO

import pandas as pd

from models.instance import parse_bool
from planner.load import Reader

NAME = "candidates.csv"
REQUIRED = ("person_id", "case_id", "location")
OPTIONAL = ("status", "consent", "security_cleared", "nationality", "languages", "vulnerable",
            "unaccompanied_minor", "family_links", "other_links", "preferences", "registered")
BOOLEANS = {"consent": False, "security_cleared": True, "vulnerable": False,
            "unaccompanied_minor": False}
STATE_LISTS = ("family_links", "other_links", "preferences")
MAX_PER_COLUMN = 20  # a systematic error in a large file is shown this often, then counted


@dataclass(frozen=True)
class Case:
    """A family unit: relocated whole to one state, or not at all (rules section 7.3)."""

    case_id: str
    location: str
    persons: tuple[str, ...]
    statuses: frozenset[str]
    nationalities: frozenset[str]
    languages: frozenset[str]
    vulnerable: int
    minors: int
    family_links: frozenset[str]
    other_links: frozenset[str]
    preferences: tuple[str, ...]
    registered: dt.date | None
    blocked: str | None  # "security" or "consent": never relocated

    @property
    def size(self) -> int:
        return len(self.persons)


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
    text = reader.read_text(NAME, required=False)
    if text is None:
        return None
    if not text.strip():
        reader.problem(NAME, 0, "-", "file is empty (a header row is required)")
        return None
    first = text.split("\n", 1)[0]
    sep = ";" if ";" in first and "," not in first else ","
    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False, sep=sep,
                            skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError) as exc:
        reader.problem(NAME, 0, "-", f"not a readable CSV file: {str(exc).strip()}")
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    for column in missing:
        reader.problem(NAME, 1, column, "required column is missing")
    if missing:
        return None
    # Line numbers: the header is line 1 and blank lines were kept as empty rows.
    frame["_line"] = frame.index + 2
    cells = [c for c in frame.columns if c != "_line"]
    frame = frame[(frame[cells] != "").any(axis=1)]
    for column in OPTIONAL:
        if column not in frame.columns:
            frame[column] = ""
    for column in (*REQUIRED, *OPTIONAL):
        frame[column] = frame[column].str.strip()
    return frame


def _check_ids(reader: Reader, frame: pd.DataFrame) -> None:
    for column in ("person_id", "case_id"):
        col = _Column(reader, column)
        empty = frame[frame[column] == ""]
        col.report(empty["_line"], "required value is empty")
        if column == "person_id":
            dup = frame[frame.duplicated("person_id", keep="first") & (frame["person_id"] != "")]
            first = frame.drop_duplicates("person_id").set_index("person_id")["_line"]
            col.report(dup["_line"], "duplicate person_id (first on line "
                       + dup["person_id"].map(first).astype(str) + ")")
        col.close()


def _check_locations(reader: Reader, frame: pd.DataFrame, benefitting: set[str]) -> None:
    col = _Column(reader, "location")
    bad = frame[~frame["location"].isin(benefitting)]
    col.report(bad["_line"], bad["location"].map(
        lambda c: f"{c!r} is not a benefitting state" if c else "required value is empty"))
    first = frame.drop_duplicates("case_id").set_index("case_id")["location"]
    differs = frame[frame["location"] != frame["case_id"].map(first)]
    col.report(differs["_line"], "case " + differs["case_id"] + " has persons in "
               + differs["case_id"].map(first) + " and " + differs["location"]
               + ": a case moves together and must share its location")
    col.close()


def _check_values(reader: Reader, frame: pd.DataFrame, states: set[str]) -> None:
    col = _Column(reader, "status")
    bad = frame[~frame["status"].isin(("", "applicant", "beneficiary"))]
    col.report(bad["_line"], "not one of: applicant, beneficiary")
    col.close()
    for column in BOOLEANS:
        col = _Column(reader, column)
        parsed = frame[column].map(lambda v: v == "" or isinstance(parse_bool(v), bool))
        bad = frame[~parsed]
        col.report(bad["_line"], "not a boolean (true/false, yes/no, 1/0)")
        col.close()
    col = _Column(reader, "nationality")
    bad = frame[(frame["nationality"] != "") & ~frame["nationality"].str.fullmatch(r"[A-Za-z]{3}")]
    col.report(bad["_line"], "not an ISO 3166-1 alpha-3 code")
    col.close()
    col = _Column(reader, "languages")
    bad = frame[~frame["languages"].map(_language_list)]
    col.report(bad["_line"], "not a ;-list of ISO 639-1 codes")
    col.close()
    for column in STATE_LISTS:
        col = _Column(reader, column)
        unknown = frame[column].map(lambda v: [c for c in _codes(v) if c not in states])
        bad = frame[unknown.map(bool)]
        col.report(bad["_line"], unknown[unknown.map(bool)].map(
            lambda codes: "unknown state " + ", ".join(codes)))
        col.close()
    col = _Column(reader, "registered")
    dates = pd.to_datetime(frame["registered"], format="%Y-%m-%d", errors="coerce")
    bad = frame[(frame["registered"] != "") & dates.isna()]
    col.report(bad["_line"], "not an ISO date (YYYY-MM-DD)")
    col.close()


def _codes(value: str) -> list[str]:
    return [part.strip().upper() for part in value.split(";") if part.strip()]


def _language_list(value: str) -> bool:
    return all(len(c) == 2 and c.isalpha() for c in _codes(value))


def read_candidates(reader: Reader, states: set[str], benefitting: set[str]
                    ) -> pd.DataFrame | None:
    """candidates.csv validated column by column; None when absent or broken."""
    frame = read_frame(reader)
    if frame is None:
        return None
    before = len(reader.problems)
    _check_ids(reader, frame)
    _check_locations(reader, frame, benefitting)
    _check_values(reader, frame, states)
    return frame if len(reader.problems) == before else None


def build_cases(frame: pd.DataFrame) -> list[Case]:
    """Group validated rows into cases, sorted by case id (one pass over plain columns)."""
    columns = ("case_id", "person_id", "location", "status", "nationality", "languages",
               "family_links", "other_links", "preferences", "registered", *BOOLEANS)
    data = frame.sort_values(["case_id", "person_id"])[list(columns)]
    groups: dict[str, list[tuple[str, ...]]] = {}
    for row in data.itertuples(index=False, name=None):
        groups.setdefault(row[0], []).append(row)
    return [_case(case_id, rows) for case_id, rows in groups.items()]


def _flag(value: str, column: str) -> bool:
    return BOOLEANS[column] if value == "" else bool(parse_bool(value))


def _case(case_id: str, rows: list[tuple[str, ...]]) -> Case:
    (_, _, location, *_rest) = rows[0]
    statuses, nationalities, languages = set(), set(), set()
    family, other, preferences, dates = set(), set(), [], []
    vulnerable = minors = 0
    blocked: str | None = None
    for (_, _, _, status, nationality, langs, fam, oth, prefs, registered,
         consent, cleared, vul, minor) in rows:
        status = status or "applicant"
        statuses.add(status)
        nationalities.add(nationality.upper())
        languages.update(c.lower() for c in _codes(langs))
        family.update(_codes(fam))
        other.update(_codes(oth))
        preferences += [c for c in _codes(prefs) if c not in preferences]
        if registered:
            dates.append(dt.date.fromisoformat(registered))
        is_minor = _flag(minor, "unaccompanied_minor")
        minors += is_minor
        vulnerable += is_minor or _flag(vul, "vulnerable")
        if not _flag(cleared, "security_cleared"):
            blocked = "security"
        elif status == "beneficiary" and not _flag(consent, "consent") and blocked is None:
            blocked = "consent"
    return Case(case_id=case_id, location=location, persons=tuple(r[1] for r in rows),
                statuses=frozenset(statuses), nationalities=frozenset(nationalities),
                languages=frozenset(languages), vulnerable=vulnerable, minors=minors,
                family_links=frozenset(family), other_links=frozenset(other),
                preferences=tuple(preferences), registered=min(dates) if dates else None,
                blocked=blocked)
