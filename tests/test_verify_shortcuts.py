"""The verifier's shortcuts give what the plain ways give (issues 15 and 18: the verifier made
faster without weakening a check). Each is compared with the straightforward computation it
replaces, on random inputs: the person tables split with str methods against csv.reader,
rows numbered by factorising columns against a dictionary of row tuples, the groups of cases
alike against a dictionary grouping, and the remembered eligibility against the comprehension
that defined it."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from models.instance import Measure, Pledge
from planner.verifier.matchability import AGREEMENT, Group, Place
from planner.verifier.matching import Cases, _distinct
from planner.verifier.verify import _plain_columns

pytestmark = pytest.mark.unit

FIELDS = ["a", "b", "c"]


def csv_columns(text: str) -> list[list[str]] | None:
    """What the verifier's csv.reader reading gives, column by column (None: the header is
    not FIELDS or a row has another width, where the shortcut must step aside)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    if next(reader, []) != FIELDS:
        return None
    body = [cells for cells in reader if cells]
    if any(len(cells) != len(FIELDS) for cells in body):
        return None
    return [list(column) for column in zip(*body, strict=True)] if body else [[], [], []]


# Characters csv.reader treats apart (comma, quote, line ends, NUL), ones str.splitlines would
# split on but the reader does not, and plain text.
CELL_TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\x00\x0b\x1c\x85\u2028é')),
                    max_size=40)


@settings(max_examples=1000)
@given(CELL_TEXT)
@example("x,y,z\r\n")  # a carriage return ends the reader's line
@example('x,"y",z\n1,2,3\n')  # a quoted cell
@example('x,y",z\n')  # a quote inside a cell
@example("x,y,z\x00\n")  # NUL
@example("x,y,z\x0b\n1,2,3\u2028\n")  # not line ends for the reader
def test_plain_split_is_what_csv_reader_reads(body):
    text = "a,b,c\n" + body
    plain = _plain_columns(text, FIELDS)
    if plain is not None:
        assert plain == csv_columns(text)


def test_plain_split_is_used_for_the_planner_s_own_files():
    text = "a,b,c\nx,,z\n1, 2 ,3\n\n"
    assert _plain_columns(text, FIELDS) == [["x", "1"], ["", " 2 "], ["z", "3"]]
    assert _plain_columns("a,b,c\n", FIELDS) == [[], [], []]
    # Quotes, carriage returns, another width or header, a blank line between rows (the
    # rows' line numbers are then not their places + 2): csv.reader's business.
    for other in ('a,b,c\n"x",y,z\n', "a,b,c\r\nx,y,z\r\n", "a,b,c\nx,y\n", "a,b\nx,y\n",
                  "a,b,c\nx,,z\n\n1, 2 ,3\n"):
        assert _plain_columns(other, FIELDS) is None


def numbered_by_dictionary(columns: list[np.ndarray]) -> tuple[list[int], list[tuple]]:
    numbers: dict[tuple, int] = {}
    rows = [numbers.setdefault(k, len(numbers))
            for k in zip(*(c.tolist() for c in columns), strict=True)]
    return rows, list(numbers)


@given(st.integers(0, 25).flatmap(lambda n: st.lists(
    st.one_of(st.lists(st.sampled_from(["", "a", "A", " a", "b", "é"]), min_size=n,
                       max_size=n).map(lambda v: np.array(v, dtype=object)),
              st.lists(st.booleans(), min_size=n, max_size=n).map(
                  lambda v: np.array(v, dtype=bool))),
    min_size=1, max_size=4)))
def test_rows_numbered_by_columns_as_by_a_dictionary(columns):
    number, distinct = _distinct(columns)
    want, want_distinct = numbered_by_dictionary(columns)
    assert number.tolist() == want
    assert distinct == want_distinct
    assert [list(map(type, d)) for d in distinct] == [list(map(type, d)) for d in want_distinct]


def test_a_cell_that_is_not_text_is_numbered_by_the_dictionary():
    nan = float("nan")
    columns = [np.array(["a", nan, "a", nan], dtype=object), np.array([True] * 4)]
    number, distinct = _distinct(columns)
    assert (number.tolist(), distinct) == numbered_by_dictionary(columns)
    assert number.tolist() == [0, 1, 0, 1]  # the same NaN object: one key


PROFILES = [(frozenset({"applicant"}), frozenset({"SYR"}), False, False),
            (frozenset({"applicant"}), frozenset({"SYR"}), False, False),  # equal, not same
            (frozenset({"beneficiary"}), frozenset({"AFG"}), True, False)]


def cases_of(draw_rows: list[tuple[int, int, int, int, int, bool]]) -> Cases:
    """A case table of the rows (location, size, profile, transfer, refusal, placeable)."""
    n = len(draw_rows)
    zeros = np.zeros(n, dtype=np.int64)
    return Cases(location=[["EL", "IT"][r[0]] for r in draw_rows],
                 size=np.array([r[1] for r in draw_rows], dtype=np.int64),
                 profile=[PROFILES[r[2]] for r in draw_rows], vulnerable=zeros, minors=zeros,
                 bands=zeros, wish=zeros, wishes=[], placeable=np.array(
                     [r[5] for r in draw_rows], dtype=bool),
                 refused={c: frozenset({"FR"} if r[4] == 1 else {"FR", "DE"})
                          for c, r in enumerate(draw_rows) if r[4]},
                 transfer={c: ["FR", "DE"][r[3] - 1] for c, r in enumerate(draw_rows) if r[3]},
                 case_at={})


CASE_ROWS = st.lists(st.tuples(st.integers(0, 1), st.integers(1, 3), st.integers(0, 2),
                               st.integers(0, 2), st.integers(0, 2), st.booleans()),
                     max_size=40)


def grouped_by_keys(cases: Cases, placeable: np.ndarray) -> list[tuple[int, list[int]]]:
    """The groups as a dictionary of the keys makes them (groups_of before Cases.partition)."""
    groups: dict[tuple, list[int]] = {}
    for case in np.flatnonzero(placeable).tolist():
        key = (cases.location[case], int(cases.size[case]), cases.transfer.get(case),
               cases.profile[case] if case not in cases.transfer else None,
               cases.refused.get(case))
        groups.setdefault(key, []).append(case)
    return [(members[0], members) for members in groups.values()]


@given(CASE_ROWS)
def test_cases_alike_are_grouped_as_by_their_keys(rows):
    cases = cases_of(rows)
    every = np.ones(len(rows), dtype=bool)
    for placeable in (cases.placeable, every, cases.placeable):  # the last one remembered
        assert cases.partition(placeable) == grouped_by_keys(cases, placeable)


def pledge(pid: str) -> Pledge:
    return Pledge(pledge_id=pid, state=pid[:2], measure=Measure.relocation, min=0, max=10)


FAILED = st.one_of(st.none(), st.lists(st.sampled_from(
    ["nationality", "status", "case_size", AGREEMENT]), unique=True, max_size=3).map(tuple))


@given(st.lists(st.tuples(st.sampled_from(["FR-1", "DE-1", "DE-2"]), st.integers(0, 4),
                          FAILED), max_size=6),
       st.integers(1, 4), st.booleans(), st.booleans(),
       st.dictionaries(st.sampled_from(["FR-1", "DE-1", "DE-2"]),
                       st.sampled_from(["nationality", "status", "case_size"]), max_size=2))
@example([("FR-1", 2, (AGREEMENT,)), ("DE-1", 1, ("status",)), ("DE-2", 3, ())], 2, True,
         False, {"DE-1": "status"})  # no agreement needed, a criterion ignored, too small
@example([("FR-1", 2, ("status", AGREEMENT)), ("DE-1", 1, None)], 1, False, True,
         {"FR-1": "status"})  # the agreement still needed
def test_eligible_places_as_the_comprehension_gives_them(rows, size, fit, agreement, ignore):
    places = [Place(pledge(pid), "EL", capacity) for pid, capacity, _ in rows]
    group = Group("EL", size, failed={i: failed for i, (_, _, failed) in enumerate(rows)})
    want = [i for i, failed in group.failed.items() if failed is not None
            and (not fit or places[i].capacity >= size)
            and all(ignore.get(places[i].pledge.pledge_id) == c
                    or (c == AGREEMENT and not agreement) for c in failed)]
    for _ in range(2):  # the second answer remembered
        assert list(group.eligible(places, ignore, fit=fit, agreement=agreement)) == want
    # Other places (another list), the same indices: worked out for them.
    wider = [Place(p.pledge, p.location, 10) for p in places]
    assert list(group.eligible(wider, ignore, fit=fit, agreement=agreement)) == [
        i for i, failed in group.failed.items() if failed is not None
        and (not fit or size <= 10)
        and all(ignore.get(wider[i].pledge.pledge_id) == c
                or (c == AGREEMENT and not agreement) for c in failed)]
