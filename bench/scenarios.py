"""Bench instances: eu-2026's states with every contributor pledging relocations, plus
synthetic candidates; and the monthly re-run (most cases already transferred).

`build(folder, persons, seed)`: eu-2026's member states and needs, deductions removed, one
relocation row per contributor up to its obligation (FR, NL, BE, LU with profile criteria, as
in VSM practice), and `persons` synthetic candidates (`planner.inputs.synthetic`).

`growing(folder, persons, seed)` (issue 18): places grow with persons. The same states, every
contributor pledging relocations up to its obligation on a pool of `GROWTH` relocations per
person (21,000 at 30,000 persons, 210,000 at 300,000: about 0.53 places per person), and two
more rows with profile criteria that refuse vulnerable persons (SE, AT), the kind of row a
split fixed before the matching can send wholly to a state whose candidates it cannot take.

`monthly(folder, transferred, new, seed)`: a later run of the same year: the pool doubled (so
that the year's places hold everyone already transferred), candidates for `transferred + new`
persons, and transfers.csv naming the earliest-registered cases that the places may take
(`earlier_transfers`: each to the first place with room that may take it, no matching) until
`transferred` persons: those keep their places, the `new` persons compete for the rest. The
transfers are chosen among the cases registered before the `new` persons' (the last
registered, at least `new` persons): until 2026-12-05 a first plan of every case chose them,
placed every one it could and the transfers took them all (22,864 persons placeable of
27,500, fewer than the 25,000 asked), so the re-run had no new person left to place.

`replan(folder, persons, seed)` (issue 15): a re-plan of the rest of the year at `AS_OF`: the
monthly re-run's instance with half of `persons` in transferred cases (chosen among every
case, so that half of them can be), each transfer dated
(one of the cycle's days from its start, 12 June 2026, to AS_OF, by the case's position:
deterministic), planned by `planner run --as-of AS_OF` with the default pacing.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A few receiving states with profile criteria, as in VSM practice.
CRITERIA = {"FR": {"max_case_size": "6"}, "NL": {"nationalities": "SYR;AFG;ERI;SDN;YEM"},
            "BE": {"statuses": "applicant"}, "LU": {"unaccompanied_minors": "false"}}
# Places grow with persons (`growing`): relocations per person in the pool, and the criteria.
GROWTH = 0.7
GROWING_SIZES = (10_000, 30_000, 100_000, 300_000)
GROWING_CRITERIA = {**CRITERIA, "SE": {"vulnerable": "false"}, "AT": {"vulnerable": "false"}}


def generate(path: Path, persons: int, seed: int) -> None:
    subprocess.run([sys.executable, "-m", "planner.inputs.synthetic", "--persons", str(persons),
                    "--seed", str(seed), "--out", str(path)],
                   check=True, stdout=subprocess.DEVNULL, cwd=ROOT)


def build(folder: Path, persons: int, seed: int = 1, relocations: int | None = None,
          criteria: dict[str, dict[str, str]] | None = None) -> None:
    source = ROOT / "instances/eu-2026"
    folder.mkdir(parents=True, exist_ok=True)
    toml = (source / "instance.toml").read_text(encoding="utf-8")
    if relocations is not None:
        toml = re.sub(r"(?m)^relocations = \d+", f"relocations = {relocations}", toml)
    (folder / "instance.toml").write_text(toml, encoding="utf-8")
    shutil.copy(source / "needs.csv", folder / "needs.csv")
    with (source / "member_states.csv").open(encoding="utf-8") as handle:
        states = list(csv.DictReader(handle))
    for row in states:
        row["deduction"] = ""
    with (folder / "member_states.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(states[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(states)
    contributors = [r["code"] for r in states
                    if r["participates"] == "true" and r["benefitting"] == "false"]
    criteria = CRITERIA if criteria is None else criteria
    columns = ["pledge_id", "state", "measure", "min", "max", "nationalities", "statuses",
               "max_case_size", "unaccompanied_minors"]
    columns += sorted({c for row in criteria.values() for c in row} - set(columns))
    with (folder / "pledges.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for code in contributors:
            writer.writerow({"pledge_id": f"{code}-R", "state": code, "measure": "relocation",
                             "min": 0, **criteria.get(code, {})})
    if persons:
        generate(folder / "candidates.csv", persons, seed)


def growing(folder: Path, persons: int, seed: int = 1) -> None:
    """Places grow with persons: a pool of GROWTH relocations per person (module docstring)."""
    build(folder, persons, seed, relocations=round(GROWTH * persons),
          criteria=GROWING_CRITERIA)


def monthly(folder: Path, transferred: int = 25_000, new: int = 2_500, seed: int = 1,
            new_transferred_too: bool = False) -> int:
    """Build the monthly re-run; return the persons in transferred cases (at most about
    `transferred`: cases are whole, so the last case may overshoot by a few; fewer when the
    places take fewer). The transfers are the earlier cases' (`earlier_transfers`): those
    registered before the `new` persons' (the latest-registered cases of at least `new`
    persons), so that those are new in the re-run and compete for the places left; with
    `new_transferred_too` (the re-plan) every case may be transferred, the new ones too."""
    build(folder, transferred + new, seed, relocations=42_000)
    with (folder / "candidates.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    size: dict[str, int] = {}
    registered: dict[str, str] = {}
    for row in rows:
        size[row["case_id"]] = size.get(row["case_id"], 0) + 1
        registered[row["case_id"]] = min(registered.get(row["case_id"], "9"), row["registered"])
    latest, persons = set(), 0
    for case_id in sorted(size, key=lambda c: (registered[c], c), reverse=True):
        if new_transferred_too or persons >= new:
            break
        latest.add(case_id)
        persons += size[case_id]
    chosen = earlier_transfers(folder, latest, transferred)
    with (folder / "transfers.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["case_id", "state"])
        writer.writerows(sorted(chosen))
    return sum(size[case_id] for case_id, _ in chosen)


def earlier_transfers(folder: Path, left_out: set[str], persons: int) -> list[tuple[str, str]]:
    """(case, state) transfers of at least `persons` persons (or all that fit), chosen
    without the matching, so that the scenario does not change with the matching's code
    (until 2026-12-05 a first plan chose them: its splits and tie-breaks changed the
    instance, and the re-plan's time with it, 3.2 s against 4.8 s on two builds): cases by
    `registered` then case id, the `left_out` ones (not registered yet) skipped, each to the
    first place (pledge id, then benefitting state) that may take it (planner.optimise.
    eligibility) with room for it, on the places of the distribution that the pool plan
    gives without candidates (its LPs are tie-broken: the same on every back-end)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from planner.inputs.load import load_instance
    from planner.optimise.eligibility import may_take, places_from

    script = Path(sys.executable).parent / "planner"
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "instance"
        shutil.copytree(folder, plain)
        (plain / "candidates.csv").unlink()
        (plain / "transfers.csv").unlink(missing_ok=True)
        out = Path(tmp) / "out"
        subprocess.run([str(script), "run", str(plain), "--out", str(out), "-q"], check=True,
                       stdout=subprocess.DEVNULL, cwd=ROOT)
        with (out / "distribution.csv").open(encoding="utf-8") as handle:
            flows = [(r["pledge_id"], r["beneficiary"], float(r["amount"]))
                     for r in csv.DictReader(handle) if r["measure"] == "relocation"]
    instance = load_instance(folder)
    places = places_from(instance, flows)
    room = [place.capacity for place in places]
    cases = sorted(instance.cases or (), key=lambda c: (c.registered or dt.date.max, c.case_id))
    chosen: list[tuple[str, str]] = []
    total = 0
    for case in cases:
        if total >= persons:
            break
        if case.case_id in left_out:
            continue
        for i, place in enumerate(places):
            if room[i] >= case.size and may_take(case, place, set()):
                room[i] -= case.size
                chosen.append((case.case_id, place.state))
                total += case.size
                break
    return chosen


AS_OF = "2026-09-30"  # eu-2026's cycle starts on 12 June 2026 (cycle_start)


def replan(folder: Path, persons: int = 30_000, seed: int = 1) -> int:
    """Build the re-plan scenario (module docstring); return the persons transferred."""
    moved = monthly(folder, persons // 2, persons - persons // 2, seed,
                    new_transferred_too=True)
    path = folder / "transfers.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["case_id", "state", "date"])
        first = dt.date(2026, 6, 12)
        days = (dt.date.fromisoformat(AS_OF) - first).days + 1
        writer.writerows((r["case_id"], r["state"], first + dt.timedelta(days=n % days))
                         for n, r in enumerate(rows))
    return moved
