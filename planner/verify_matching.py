"""The verifier's matching checks (rules section 7), from the raw candidates.csv.

Independent of `planner.candidates` and `planner.eligibility`: it re-reads candidates.csv with
pandas and re-derives every person's case, blocks and profile from the cells. The checks are
column-wise (one join of the written rows with the candidates, masks per check): at 300,000
persons a lookup per person took longer than the matching itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from models.instance import Instance, Measure

TRUE = {"true", "1", "yes", "y", "t"}


def _flag(series: pd.Series, default: bool) -> pd.Series:
    text = series.fillna("").str.strip().str.lower()
    return text.isin(TRUE).where(text != "", default)


def candidates_frame(instance: Instance) -> pd.DataFrame:
    path = Path(instance.source) / "candidates.csv"
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline()
    sep = ";" if ";" in header and "," not in header else ","
    # Plain Python strings (object), not pandas' Arrow strings: `isin` on Arrow strings went
    # through Python per value and took 13 s of the checks at 300,000 persons.
    raw = pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8-sig", sep=sep)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw[(raw != "").any(axis=1)].copy()
    for column in ("status", "consent", "security_cleared", "nationality", "vulnerable",
                   "unaccompanied_minor"):
        if column not in raw.columns:
            raw[column] = ""
    raw = raw.apply(lambda col: col.str.strip())
    raw["status"] = raw["status"].where(raw["status"] != "", "applicant")
    raw["cleared"] = _flag(raw["security_cleared"], True)
    raw["consented"] = _flag(raw["consent"], False)
    raw["minor"] = _flag(raw["unaccompanied_minor"], False)
    raw["vuln"] = _flag(raw["vulnerable"], False) | raw["minor"]
    raw["nationality"] = raw["nationality"].str.upper()
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
    in_assigned = people.index.isin(assigned["person_id"])
    wrong = in_assigned == people.index.isin(left["person_id"])
    for both in in_assigned[wrong]:
        fail((0, 0, 0), "assignments.csv", 0, "person_id",
             f"a candidate is {'in both tables' if both else 'in neither'}")
    listed = pd.concat([assigned["person_id"], left["person_id"]]).drop_duplicates()
    for _ in range(int((~listed.isin(people.index)).sum())):
        fail((1, 0, 0), "assignments.csv", 0, "person_id", "a person not in candidates.csv")
    case_size = people.groupby("case_id").size()
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
    rows = assigned.join(people[["case_id", "location", "nationality", "status", "vuln",
                                 "minor"]].rename(columns={"case_id": "case"}),
                         on="person_id", how="inner")

    def each(mask: pd.Series | np.ndarray, check: int, column: str, text: str) -> None:
        for line in rows.loc[mask, "line"]:
            fail((2, int(line), check), "assignments.csv", int(line), column, text)

    each((rows["case_id"] != rows["case"]) | (rows["from_state"] != rows["location"]), 0,
         "case_id", "case or location differs from input")
    targets = rows[["case", "to_state", "pledge_id"]].drop_duplicates().groupby("case").size()
    state_of = {p: pledge.state for p, pledge in pledges.items()
                if pledge.measure is Measure.relocation}
    good = rows["pledge_id"].map(state_of) == rows["to_state"]
    each(~good, 1, "pledge_id", "not a relocation row of to_state")
    rows = rows[good]
    used = rows.groupby(["pledge_id", "from_state"]).size()
    moved = rows["case"].map(transfers)
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
    for case in sorted(set(transfers) - set(targets.index)):
        fail((3, 0, 0), "assignments.csv", 0, "case_id", f"transferred case {case} is not kept")
    for (pledge_id, location), persons in sorted(used.items()):
        have = places.get((pledge_id, location), 0)
        if persons > have + 1e-9:
            fail((4, 0, 0), "assignments.csv", 0, "pledge_id", f"{pledge_id} takes {persons} "
                 f"persons from {location}, it has {have:g} places there")
    placed = assigned.groupby("case_id").size()
    split = (targets > 1) | (placed.reindex(targets.index, fill_value=0)
                             != case_size.reindex(targets.index, fill_value=0))
    for case in sorted(targets.index[split]):
        fail((5, 0, 0), "assignments.csv", 0, "case_id", f"case {case} is split")
    for line, text in _reason_failures(left, people, blocked_security, blocked_consent):
        fail((6, line, 0), "unassigned.csv", line, "reason", text)
    for _, name, line, column, text in sorted(failures, key=lambda f: f[0]):
        out.fail(name, line, column, text)
    _check_counts(out, assigned, left, int(split.sum()))


def _frame(rows: list, columns: tuple[str, ...]) -> pd.DataFrame:  # noqa: ANN001
    """(line, row) pairs as a frame, one row per person (the last line that names it)."""
    frame = pd.DataFrame([(line, *(getattr(row, c) for c in columns)) for line, row in rows],
                         columns=["line", *columns])
    frame = frame.astype({"line": "int64", **dict.fromkeys(columns, object)})
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


def _reason_failures(left: pd.DataFrame, people: pd.DataFrame, security: set, consent: set
                     ) -> list[tuple[int, str]]:
    """Security and consent reasons exactly where the inputs block the case."""
    rows = left.join(people[["case_id"]].rename(columns={"case_id": "case"}), on="person_id",
                     how="inner")
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
