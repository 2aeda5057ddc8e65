"""The verifier's matching checks (rules section 7), from the raw candidates.csv.

Independent of `planner.candidates` and `planner.eligibility`: it re-reads candidates.csv with
pandas and re-derives every person's case, blocks and profile from the cells. The checks are
column-wise (one join of the written rows with the candidates, masks per check): at 300,000
persons a lookup per person took longer than the matching itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from models.instance import Instance, Measure
from planner.columns import per_value

TRUE = {"true", "1", "yes", "y", "t"}
OPTIONAL = ("status", "consent", "security_cleared", "nationality", "vulnerable",
            "unaccompanied_minor")  # candidates.csv columns that may be left out


def _flag_of(default: bool) -> Callable[[object], object]:
    def flag(cell: object) -> bool:
        text = cell.strip().lower() if isinstance(cell, str) else ""
        return text in TRUE if text != "" else default
    return flag


def _flag(series: pd.Series, default: bool) -> pd.Series:
    return per_value(series, _flag_of(default)).astype(bool)


def _strip(cell: object) -> object:
    return cell.strip() if isinstance(cell, str) else cell


def _upper(cell: object) -> object:
    return cell.upper() if isinstance(cell, str) else cell


def candidates_frame(instance: Instance) -> pd.DataFrame:
    path = Path(instance.source) / "candidates.csv"
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline()
    sep = ";" if ";" in header and "," not in header else ","
    # Plain Python strings (object), not pandas' Arrow strings: `isin` on Arrow strings went
    # through Python per value and took 13 s of the checks at 300,000 persons.
    raw = pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8-sig", sep=sep)
    raw.columns = [c.strip() for c in raw.columns]
    # Rows with a non-blank cell (column by column: no 2-D copy of the whole file).
    kept = np.logical_or.reduce([raw.iloc[:, n].to_numpy() != "" for n in range(raw.shape[1])])

    def cells(column: str) -> pd.Series:
        """The column's cells of the kept rows, stripped ("" where the column is absent); a
        list comprehension, as pandas' .str.strip() calls Python per cell with more overhead."""
        if column not in raw.columns and column in OPTIONAL:
            return pd.Series([""] * int(kept.sum()), dtype=object)
        values = raw[column].to_numpy()[kept]
        if column in ("person_id", "case_id"):  # nearly all distinct
            return pd.Series([_strip(v) for v in values], dtype=object)
        # The other columns repeat a few values: each distinct cell stripped once.
        return per_value(pd.Series(values, dtype=object), _strip)

    # Only the columns the checks read.
    raw = pd.DataFrame({c: cells(c) for c in ("person_id", "case_id", "location", *OPTIONAL)})
    raw["status"] = raw["status"].where(raw["status"] != "", "applicant")
    raw["cleared"] = _flag(raw["security_cleared"], True)
    raw["consented"] = _flag(raw["consent"], False)
    raw["minor"] = _flag(raw["unaccompanied_minor"], False)
    raw["vuln"] = _flag(raw["vulnerable"], False) | raw["minor"]
    raw["nationality"] = per_value(raw["nationality"], _upper)
    return raw.set_index("person_id")


def check_matching(out, instance: Instance) -> None:  # noqa: ANN001 - verify.Outputs
    """Every person in exactly one table; each placed person's case, pledge row, transfer,
    blocks, rejections and profile; transfers kept; places respected; families whole; the
    reasons of the unplaced; the summary's counts. Failures come in the order a reader checks
    them: persons, then assignments.csv line by line, then the per-case and per-row totals."""
    if instance.cases is None:
        return
    people = candidates_frame(instance)
    failures: list[tuple[tuple[int, int, int], str, int, str, str]] = []

    def fail(order: tuple[int, int, int], name: str, line: int, column: str, text: str) -> None:
        failures.append((order, name, line, column, text))

    # A person listed twice counts once, at the last line (as a mapping by person would).
    assigned = _frame(out.assignments, ("person_id", "case_id", "from_state", "to_state",
                                        "pledge_id"))
    left = _frame(out.unassigned, ("person_id", "case_id", "reason"))
    # Each listed person's row in `people` (-1: not a candidate), looked up once.
    at_assigned = _positions(people, assigned)
    at_left = _positions(people, left)
    in_assigned, in_left, unknown = _listed(people, assigned, left, at_assigned, at_left)
    wrong = in_assigned == in_left
    for both in in_assigned[wrong]:
        fail((0, 0, 0), "assignments.csv", 0, "person_id",
             f"a candidate is {'in both tables' if both else 'in neither'}")
    for _ in range(unknown):
        fail((1, 0, 0), "assignments.csv", 0, "person_id", "a person not in candidates.csv")
    # sort=False throughout: every use below is a lookup or is sorted afterwards.
    case_size = people.groupby("case_id", sort=False).size()
    blocked_security = set(people.loc[~people["cleared"], "case_id"])
    blocked_consent = set(people.loc[(people["status"] == "beneficiary")
                                     & ~people["consented"], "case_id"])
    transfers = {c: s for c, s, _ in instance.transfers}
    rejected = {(c, s) for c, s, _ in instance.rejections}
    pledges = instance.pledges_by_id
    places: dict[tuple[str, str], float] = {}
    for _, row in out.distribution:
        if row.measure is Measure.relocation:
            places[(row.pledge_id, row.beneficiary)] = row.amount
    rows = _joined(assigned, people[["case_id", "location", "nationality", "status", "vuln",
                                     "minor"]].rename(columns={"case_id": "case"}), at_assigned)

    def each(mask: pd.Series | np.ndarray, check: int, column: str, text: str) -> None:
        if not mask.any():  # the usual case: nothing to select
            return
        for line in rows.loc[mask, "line"]:
            fail((2, int(line), check), "assignments.csv", int(line), column, text)

    each((rows["case_id"] != rows["case"]) | (rows["from_state"] != rows["location"]), 0,
         "case_id", "case or location differs from input")
    targets = rows[["case", "to_state", "pledge_id"]].drop_duplicates().groupby(
        "case", sort=False).size()
    state_of = {p: pledge.state for p, pledge in pledges.items()
                if pledge.measure is Measure.relocation}
    good = _looked_up(rows["pledge_id"], state_of) == rows["to_state"]
    each(~good, 1, "pledge_id", "not a relocation row of to_state")
    rows = rows[good]
    used = rows.groupby(["pledge_id", "from_state"], sort=False).size()
    moved = _looked_up(rows["case"], transfers)
    each(moved.notna() & (moved != rows["to_state"]), 2, "to_state",
         "a transferred case was moved")
    rows = rows[moved.isna()]
    each(rows["case"].isin(blocked_security | blocked_consent), 3, "person_id",
         "a blocked case (security or consent) was placed")
    pairs = pd.MultiIndex.from_arrays([rows["case"], rows["to_state"]])
    each(pairs.isin(list(rejected)) if rejected else np.zeros(len(rows), dtype=bool), 4,
         "to_state", "the receiving state rejected this case")
    sizes = rows["case"].map(case_size)
    for pledge_id in sorted(set(rows["pledge_id"])):
        mine = rows["pledge_id"] == pledge_id
        for n, (mask, text) in enumerate(_profile_failures(rows, pledges[pledge_id], sizes)):
            each(mine & mask, 5 + n, "pledge_id", text)
    for case in sorted(set(transfers) - set(targets.index.tolist())):
        fail((3, 0, 0), "assignments.csv", 0, "case_id", f"transferred case {case} is not kept")
    for (pledge_id, location), persons in sorted(used.items()):
        have = places.get((pledge_id, location), 0)
        if persons > have + 1e-9:
            fail((4, 0, 0), "assignments.csv", 0, "pledge_id", f"{pledge_id} takes {persons} "
                 f"persons from {location}, it has {have:g} places there")
    placed = assigned.groupby("case_id", sort=False).size()
    split = (targets > 1) | (placed.reindex(targets.index, fill_value=0)
                             != case_size.reindex(targets.index, fill_value=0))
    for case in sorted(targets.index[split].tolist()):
        fail((5, 0, 0), "assignments.csv", 0, "case_id", f"case {case} is split")
    for line, text in _reason_failures(left, people, at_left, blocked_security,
                                       blocked_consent):
        fail((6, line, 0), "unassigned.csv", line, "reason", text)
    for _, name, line, column, text in sorted(failures, key=lambda f: f[0]):
        out.fail(name, line, column, text)
    _check_counts(out, assigned, left, int(split.sum()))


def _positions(people: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray | None:
    """The row in `people` of each person of `frame` (-1 where none); None when candidates.csv
    repeats a person id, where a person has no single row."""
    try:
        return people.index.get_indexer(frame["person_id"])
    except pd.errors.InvalidIndexError:
        return None


def _listed(people: pd.DataFrame, assigned: pd.DataFrame, left: pd.DataFrame,
            at_assigned: np.ndarray | None, at_left: np.ndarray | None
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Per candidate, whether assigned.csv and unassigned.csv list it; and how many distinct
    persons they list who are not candidates."""
    if at_assigned is None or at_left is None:  # person ids repeated: look each one up
        listed = pd.concat([assigned["person_id"], left["person_id"]]).drop_duplicates()
        return (people.index.isin(assigned["person_id"]), people.index.isin(left["person_id"]),
                int((~listed.isin(people.index)).sum()))
    flags = []
    for at in (at_assigned, at_left):
        flag = np.zeros(len(people), dtype=bool)
        flag[at[at >= 0]] = True
        flags.append(flag)
    strangers = set(assigned["person_id"].to_numpy()[at_assigned < 0]) \
        | set(left["person_id"].to_numpy()[at_left < 0])
    return flags[0], flags[1], len(strangers)


def _joined(frame: pd.DataFrame, people: pd.DataFrame, found: np.ndarray | None
            ) -> pd.DataFrame:
    """`frame.join(people, on="person_id", how="inner")`: the rows of `frame` whose person is a
    candidate, in frame's order, with the person's columns; taken by position (`found`, from
    `_positions`) when the person ids are unique (the join took ten times as long)."""
    if found is None:  # ids repeated: the join gives a row per match
        return frame.join(people, on="person_id", how="inner")
    keep = found >= 0
    joined = frame[keep].copy()
    for column in people.columns:
        joined[column] = pd.Series(people[column].to_numpy()[found[keep]], index=joined.index,
                                   dtype=people[column].dtype)
    return joined


def _looked_up(series: pd.Series, mapping: dict) -> pd.Series:
    """`series.map(mapping)` with None where the mapping has no key (pandas turns the dict
    into an index first, slower than a dict lookup per cell)."""
    return pd.Series([mapping.get(v) for v in series.to_numpy()], index=series.index,
                     dtype=object)


def _frame(table: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The table's `line` and `columns`, one row per person (the last line that names it)."""
    frame = table[["line", *columns]]
    return frame.drop_duplicates("person_id", keep="last").sort_values("line")


def _profile_failures(rows: pd.DataFrame, pledge, size: pd.Series  # noqa: ANN001
                      ) -> list[tuple[pd.Series, str]]:
    """A mask per profile criterion the row sets (rules section 7.5): the persons outside it."""
    never = pd.Series(False, index=rows.index)
    return [
        (~rows["nationality"].isin(pledge.nationalities) if pledge.nationalities else never,
         "nationality outside the row's profile"),
        (~rows["status"].isin(pledge.statuses) if pledge.statuses else never,
         "status outside the row's profile"),
        (size > pledge.max_case_size if pledge.max_case_size is not None else never,
         "case larger than the row accepts"),
        (rows["vuln"] if not pledge.vulnerable else never,
         "the row accepts no vulnerable persons"),
        (rows["minor"] if not pledge.unaccompanied_minors else never,
         "the row accepts no unaccompanied minors"),
    ]


def _reason_failures(left: pd.DataFrame, people: pd.DataFrame, at_left: np.ndarray | None,
                     security: set, consent: set) -> list[tuple[int, str]]:
    """Security and consent reasons exactly where the inputs block the case."""
    rows = _joined(left, people[["case_id"]].rename(columns={"case_id": "case"}), at_left)
    expected = np.where(rows["case"].isin(security), "security",
                        np.where(rows["case"].isin(consent), "consent", ""))
    reason = rows["reason"].to_numpy()
    wrong = np.where(expected != "", reason != expected, np.isin(reason, ["security", "consent"]))
    return [(int(line), f"should be {want}" if want else f"{got} without cause")
            for line, want, got in zip(rows["line"][wrong], expected[wrong], reason[wrong],
                                       strict=True)]


def _check_counts(out, assigned: pd.DataFrame, left: pd.DataFrame, splits: int  # noqa: ANN001
                  ) -> None:
    if out.summary is None:
        return
    m = out.summary.matching
    expected = {"persons_assigned": len(assigned),
                "cases_assigned": assigned["case_id"].nunique(),
                "persons_total": len(assigned) + len(left), "family_splits": splits}
    for key, count in expected.items():
        if getattr(m, key) != count:
            out.fail("summary.json", 0, f"matching.{key}", f"{getattr(m, key)}, the tables "
                     f"say {count}")
