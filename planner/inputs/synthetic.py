"""Synthetic relocation candidates (`candidates.csv`) for tests, benchmarks and demonstrations.

The generator is deterministic: the same `SyntheticSpec` (seed included) always gives the same
rows, using only `random.Random(seed)` from the standard library. Ids are pseudonymous
(`C000001`..., `P0000001`...); nothing describes a real person.

    python -m planner.inputs.synthetic --persons 1000 --seed 7 --out candidates.csv

How a case (family unit) is drawn, in this order:

1. **Location**: a benefitting state, picked with weight `share / mean case size of its route`,
   so that `SyntheticSpec.locations` are shares of *persons*, not of cases.
2. **Nationality** (ISO 3166-1 alpha-3) from the route's main nationalities (`ROUTES`, weights
   in % of cases; a state not in `ROUTES` gets the mixed `DEFAULT_ROUTE`):

   - CY: SYR 40, COD 10, NGA 10, CMR 8, AFG 7, SOM 5, IRQ/PAK/BGD 4, SDN/EGY 3, IRN 2
   - EL: AFG 22, SYR 18, PSE 12, EGY 9, ERI/SOM 6, PAK/IRQ/TUR 5, SDN 4, IRN/YEM 3, COD 2
   - IT: BGD 18, TUN 13, EGY/SYR 10, GIN 8, CIV 7, PAK 6, ERI 5, MLI/SDN 4, GMB/BFA/NGA 3, ...
   - ES: MLI 22, SEN 18, MAR 15, COL 9, GMB 8, VEN/MRT 6, GIN/DZA 5, CIV/SYR/PER 2

   About 2 % of multi-person cases are mixed:
   the second person has another nationality of the same route.
3. **Size**: an unaccompanied minor (route-dependent, 3-6 % of cases) is a case of one person,
   always vulnerable. Otherwise a family with a nationality-dependent probability (about 50 %
   for Syrian, Afghan, Iraqi, Palestinian, Iranian, Yemeni, Turkish, Colombian, Venezuelan and
   Peruvian nationals, about 22 % for others: 25-40 % of the other cases per route, about 28 %
   of all cases) of size 2-8 (`FAMILY_SIZES`: mostly 2-4, rarely 7-8); else a single adult.
4. **Status**: `beneficiary` with `beneficiary_share` (per case), then `consent` `true` with
   `consent_share`; applicants need no consent and leave the cell empty (contract default).
5. **Registered**: a date uniform between `start` and `end` (both included), per case.
   **Protection granted** (beneficiaries only, per case: a family is granted protection
   together): `registered` less a number of days uniform in 0-730 for 80 % of cases and in
   731-1,825 for the others (so some fall outside the 3 years of Art. 56(2)(a)(ii)); left
   empty for `protection_missing_share` of beneficiaries' cases. Drawn from a second random
   stream of the seed, so every other column is what the seed gave before the column existed.
6. **Links and preferences** (per case, never the case's own location, always among
   `receiving`): a family link to one state for about 8 % of cases, other links to one or two
   states for about 10 %, and 1-3 stated preferences for about 40 % (first preference is the
   family-link state for most cases that have one). States are weighted by the diaspora and
   destination patterns in `LINK_WEIGHTS` (DE, FR, NL, BE, SE first), raised by
   `GROUP_FACTORS` for francophone nationals (FR, BE, LU), Spanish-speaking nationals (PT, ES)
   and anglophone nationals (IE, MT).

Per person: `languages` (ISO 639-1: one main language of the nationality, plus second
languages such as `en` or `fr` with a probability, `NATIONALITIES`), `vulnerable` (12 % of
single adults, 22 % of family members, all unaccompanied minors: about 20 % of persons) and
`security_cleared` (`false` for `not_cleared_share` of persons; one such person blocks the
whole case, since families move together).

**All distributions are approximate and illustrative**, set from general knowledge of the
2023-2024 arrivals on the Eastern, Central and Western Mediterranean and Atlantic routes
(main nationalities, family shares, unaccompanied minors). They are *not* official statistics
(Eurostat, UNHCR, Frontex) and must not be quoted as such.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from random import Random
from typing import Generic, NamedTuple, NoReturn, TypeVar

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "person_id", "case_id", "location", "status", "consent", "security_cleared", "nationality",
    "languages", "vulnerable", "unaccompanied_minor", "family_links", "other_links",
    "preferences", "registered", "protection_granted",
)

DEFAULT_LOCATIONS: dict[str, float] = {"CY": 0.05, "EL": 0.20, "IT": 0.35, "ES": 0.40}
DEFAULT_RECEIVING: tuple[str, ...] = (
    "AT", "BE", "BG", "CZ", "DE", "EE", "FI", "FR", "HR", "HU", "IE", "LT", "LU", "LV", "MT",
    "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)

STATE_CODE = re.compile(r"[A-Z]{2}")
SHARE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class _Nationality:
    """Languages and family propensity of one nationality (illustrative)."""

    primary: tuple[tuple[str, float], ...]  # one main language, picked by weight
    extras: tuple[tuple[str, float], ...] = ()  # second languages, each with its probability
    family: float = 0.22  # probability that a (non-minor) case is a family
    group: str = ""  # preference bias: "fr", "es", "en" or "" (default)


FAMILY = 0.50
NATIONALITIES: dict[str, _Nationality] = {
    "AFG": _Nationality((("fa", 0.6), ("ps", 0.4)), (("fa", 0.2), ("en", 0.1)), FAMILY),
    "BFA": _Nationality((("fr", 1.0),), (("en", 0.05),), group="fr"),
    "BGD": _Nationality((("bn", 1.0),), (("en", 0.25),), group="en"),
    "CIV": _Nationality((("fr", 1.0),), (("en", 0.05),), group="fr"),
    "CMR": _Nationality((("fr", 0.7), ("en", 0.3)), (("en", 0.2),), group="fr"),
    "COD": _Nationality((("ln", 0.5), ("fr", 0.5)), (("fr", 0.6), ("sw", 0.1)), group="fr"),
    "COL": _Nationality((("es", 1.0),), (("en", 0.1),), FAMILY, "es"),
    "DZA": _Nationality((("ar", 1.0),), (("fr", 0.5),), group="fr"),
    "EGY": _Nationality((("ar", 1.0),), (("en", 0.15),)),
    "ERI": _Nationality((("ti", 1.0),), (("ar", 0.2), ("en", 0.15))),
    "ETH": _Nationality((("am", 0.6), ("om", 0.4)), (("en", 0.2),)),
    "GIN": _Nationality((("ff", 0.55), ("fr", 0.45)), (("fr", 0.5),), group="fr"),
    "GMB": _Nationality((("en", 0.4), ("wo", 0.3), ("ff", 0.3)), (("en", 0.5),), group="en"),
    "IRN": _Nationality((("fa", 1.0),), (("en", 0.2),), FAMILY),
    "IRQ": _Nationality((("ar", 0.6), ("ku", 0.4)), (("ar", 0.3), ("en", 0.1)), FAMILY),
    "MAR": _Nationality((("ar", 1.0),), (("fr", 0.4), ("es", 0.15)), group="fr"),
    "MLI": _Nationality((("bm", 0.7), ("fr", 0.3)), (("fr", 0.4),), group="fr"),
    "MRT": _Nationality((("ar", 0.8), ("ff", 0.2)), (("fr", 0.4),), group="fr"),
    "NGA": _Nationality((("en", 0.6), ("yo", 0.2), ("ig", 0.2)), (("en", 0.8),), group="en"),
    "PAK": _Nationality((("ur", 0.7), ("pa", 0.3)), (("ur", 0.3), ("en", 0.3)), group="en"),
    "PER": _Nationality((("es", 1.0),), (("en", 0.1),), FAMILY, "es"),
    "PSE": _Nationality((("ar", 1.0),), (("en", 0.2),), FAMILY),
    "SDN": _Nationality((("ar", 1.0),), (("en", 0.15),)),
    "SEN": _Nationality((("wo", 0.7), ("ff", 0.2), ("fr", 0.1)), (("fr", 0.5),), group="fr"),
    "SOM": _Nationality((("so", 1.0),), (("ar", 0.15), ("en", 0.15))),
    "SYR": _Nationality((("ar", 0.85), ("ku", 0.15)), (("ar", 0.1), ("en", 0.15)), FAMILY),
    "TUN": _Nationality((("ar", 1.0),), (("fr", 0.5),), group="fr"),
    "TUR": _Nationality((("tr", 0.75), ("ku", 0.25)), (("tr", 0.2), ("en", 0.1)), FAMILY),
    "VEN": _Nationality((("es", 1.0),), (("en", 0.1),), FAMILY, "es"),
    "YEM": _Nationality((("ar", 1.0),), (("en", 0.1),), FAMILY),
}


@dataclass(frozen=True)
class _Route:
    """Main nationalities of arrivals in one benefitting state, and its minors' share."""

    nationalities: tuple[tuple[str, float], ...]
    unaccompanied: float  # share of cases that are unaccompanied minors


ROUTES: dict[str, _Route] = {
    "CY": _Route((("SYR", 40), ("COD", 10), ("NGA", 10), ("CMR", 8), ("AFG", 7), ("SOM", 5),
                  ("IRQ", 4), ("PAK", 4), ("BGD", 4), ("SDN", 3), ("EGY", 3), ("IRN", 2)), 0.05),
    "EL": _Route((("AFG", 22), ("SYR", 18), ("PSE", 12), ("EGY", 9), ("ERI", 6), ("SOM", 6),
                  ("PAK", 5), ("IRQ", 5), ("TUR", 5), ("SDN", 4), ("IRN", 3), ("YEM", 3),
                  ("COD", 2)), 0.04),
    "IT": _Route((("BGD", 18), ("TUN", 13), ("EGY", 10), ("SYR", 10), ("GIN", 8), ("CIV", 7),
                  ("PAK", 6), ("ERI", 5), ("MLI", 4), ("SDN", 4), ("GMB", 3), ("BFA", 3),
                  ("NGA", 3), ("AFG", 2), ("MAR", 2), ("ETH", 2)), 0.06),
    "ES": _Route((("MLI", 22), ("SEN", 18), ("MAR", 15), ("COL", 9), ("GMB", 8), ("VEN", 6),
                  ("MRT", 6), ("GIN", 5), ("DZA", 5), ("CIV", 2), ("SYR", 2), ("PER", 2)), 0.04),
}
DEFAULT_ROUTE = _Route((("SYR", 20), ("AFG", 15), ("IRQ", 8), ("TUR", 8), ("BGD", 6),
                        ("PAK", 6), ("IRN", 5), ("NGA", 4), ("COD", 4), ("SOM", 4), ("ERI", 4),
                        ("COL", 4), ("VEN", 4), ("MAR", 4), ("DZA", 4)), 0.04)

FAMILY_SIZES: tuple[tuple[int, float], ...] = (
    (2, 0.30), (3, 0.25), (4, 0.22), (5, 0.13), (6, 0.07), (7, 0.02), (8, 0.01))
MIXED_NATIONALITY = 0.02  # of multi-person cases
VULNERABLE_SINGLE = 0.12
VULNERABLE_FAMILY = 0.22
FAMILY_LINK_SHARE = 0.08
OTHER_LINK_SHARE = 0.10
OTHER_LINK_COUNTS: tuple[tuple[int, float], ...] = ((1, 0.8), (2, 0.2))
PREFERENCE_SHARE = 0.40
PREFERENCE_COUNTS: tuple[tuple[int, float], ...] = ((1, 0.45), (2, 0.35), (3, 0.20))
FAMILY_FIRST_PREFERENCE = 0.8  # of cases with a family link and preferences

# Relative weights of receiving states, per kind of link; a state not listed gets `default`.
LINK_WEIGHTS: dict[str, dict[str, float]] = {
    "family": {"DE": 30, "FR": 14, "SE": 10, "NL": 9, "BE": 9, "AT": 7, "IT": 5, "FI": 3,
               "IE": 3, "DK": 3, "LU": 2, "PT": 2, "ES": 4, "default": 1},
    "other": {"DE": 12, "FR": 8, "NL": 5, "BE": 5, "SE": 5, "AT": 4, "IE": 3, "PT": 3, "IT": 3,
              "ES": 3, "default": 1},
    "preference": {"DE": 30, "FR": 15, "NL": 12, "BE": 10, "SE": 10, "AT": 5, "IE": 4, "FI": 3,
                   "LU": 2, "PT": 2, "IT": 2, "ES": 2, "DK": 2, "default": 0.5},
}
GROUP_FACTORS: dict[str, dict[str, float]] = {
    "fr": {"FR": 3.0, "BE": 2.5, "LU": 4.0},
    "es": {"PT": 8.0, "ES": 10.0},
    "en": {"IE": 4.0, "MT": 3.0},
}


@dataclass(frozen=True)
class SyntheticSpec:
    """What to generate. `locations` are shares of persons and must sum to 1."""

    persons: int
    seed: int = 1
    locations: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LOCATIONS))
    receiving: tuple[str, ...] = DEFAULT_RECEIVING
    start: date = date(2025, 6, 1)
    end: date = date(2026, 11, 1)
    beneficiary_share: float = 0.15
    consent_share: float = 0.8
    not_cleared_share: float = 0.01
    protection_missing_share: float = 0.02

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ValueError("; ".join(problems))

    def problems(self) -> list[str]:
        """Every reason this spec cannot be generated, one sentence each."""
        found: list[str] = []
        if isinstance(self.persons, bool) or not isinstance(self.persons, int):
            found.append(f"persons must be an integer, got {self.persons!r}")
        elif self.persons <= 0:
            found.append(f"persons must be > 0, got {self.persons}")
        if not self.locations:
            found.append("locations must name at least one benefitting state")
        for code, share in self.locations.items():
            if not STATE_CODE.fullmatch(code):
                found.append(f"location code {code!r} is not two capital letters (e.g. EL)")
            if not math.isfinite(share) or share < 0:
                found.append(f"share of location {code} must be >= 0, got {share}")
        total = math.fsum(self.locations.values())
        if self.locations and abs(total - 1.0) > SHARE_TOLERANCE:
            found.append(f"location shares must sum to 1, got {total!r}")
        found += [f"receiving state code {code!r} is not two capital letters"
                  for code in self.receiving if not STATE_CODE.fullmatch(code)]
        if len(set(self.receiving)) != len(self.receiving):
            found.append("receiving states must not repeat")
        if self.end < self.start:
            found.append(f"end {self.end} is before start {self.start}")
        for name in ("beneficiary_share", "consent_share", "not_cleared_share",
                     "protection_missing_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                found.append(f"{name} must be within 0..1, got {value}")
        return found




T = TypeVar("T")


class _Picker(Generic[T]):
    """Draws values by weight: one `random()` and a bisection per draw (none for one value)."""

    __slots__ = ("values", "weights", "cumulative", "total", "last")

    def __init__(self, weighted: Iterable[tuple[T, float]]) -> None:
        items = [(value, float(weight)) for value, weight in weighted if weight > 0]
        self.values: list[T] = [value for value, _ in items]
        self.weights: list[float] = [weight for _, weight in items]
        self.cumulative: list[float] = list(accumulate(self.weights))
        self.total: float = self.cumulative[-1] if items else 0.0
        self.last: int = len(items) - 1

    def __bool__(self) -> bool:
        return bool(self.values)

    def pick(self, rng: Random) -> T:
        if not self.last:
            return self.values[0]
        # hi=last: a draw rounding up to the total still lands on the last value.
        return self.values[bisect.bisect_right(
            self.cumulative, rng.random() * self.total, 0, self.last)]

    def sample(self, rng: Random, count: int, first: T | None = None,
               exclude: T | None = None) -> list[T]:
        """`count` distinct values by weight (without replacement), `first` leading if given."""
        taken: set[T] = set() if exclude is None else {exclude}
        count = min(count, len(self.values) - len(taken.intersection(self.values)))
        chosen: list[T] = []
        if first is not None and count > 0:
            chosen.append(first)
            taken.add(first)
        for _ in range(30 * count):  # rejection is fast while few values are taken
            if len(chosen) >= count:
                return chosen
            value = self.pick(rng)
            if value not in taken:
                chosen.append(value)
                taken.add(value)
        # Weights concentrated on values already taken: draw from what is left instead.
        while len(chosen) < count:
            rest = _Picker((value, weight) for value, weight in zip(self.values, self.weights,
                                                                     strict=True)
                           if value not in taken)
            value = rest.pick(rng)
            chosen.append(value)
            taken.add(value)
        return chosen


def _mean_case_size(route: _Route) -> float:
    """Expected persons per case on a route, to turn person shares into case weights."""
    mean_family = sum(size * weight for size, weight in FAMILY_SIZES) / sum(
        weight for _, weight in FAMILY_SIZES)
    total = sum(weight for _, weight in route.nationalities)
    family = sum(weight * NATIONALITIES[code].family for code, weight in route.nationalities)
    family_share = family / total
    adults = 1.0 - route.unaccompanied
    return route.unaccompanied + adults * (family_share * mean_family + 1.0 - family_share)


def _state_pickers(location: str, group: str,
                   receiving: Sequence[str]) -> dict[str, _Picker[str]]:
    """Weighted receiving states (never `location`) for each kind of link, for one group."""
    factors = GROUP_FACTORS.get(group, {})
    return {kind: _Picker((code, weights.get(code, weights["default"]) * factors.get(code, 1.0))
                          for code in receiving if code != location)
            for kind, weights in LINK_WEIGHTS.items()}


@dataclass(frozen=True)
class _Tables:
    """The weighted tables `generate` draws from, prepared once per spec."""

    locations: _Picker[str]
    unaccompanied: dict[str, float]  # per location
    origins: dict[str, _Picker[str]]  # nationalities per location
    languages: dict[str, tuple[_Picker[str], tuple[tuple[str, float], ...]]]  # per nationality
    links: dict[tuple[str, str], dict[str, _Picker[str]]]  # per (location, group), per kind
    family_sizes: _Picker[int]
    other_counts: _Picker[int]
    preference_counts: _Picker[int]
    days: list[str]  # ISO dates from start to end

    @classmethod
    def of(cls, spec: SyntheticSpec) -> _Tables:
        routes = {code: ROUTES.get(code, DEFAULT_ROUTE) for code in spec.locations}
        groups = {info.group for info in NATIONALITIES.values()}
        return cls(
            locations=_Picker((code, share / _mean_case_size(routes[code]))
                              for code, share in spec.locations.items()),
            unaccompanied={code: route.unaccompanied for code, route in routes.items()},
            origins={code: _Picker(route.nationalities) for code, route in routes.items()},
            languages={code: (_Picker(info.primary), info.extras)
                       for code, info in NATIONALITIES.items()},
            links={(location, group): _state_pickers(location, group, spec.receiving)
                   for location in spec.locations for group in groups},
            family_sizes=_Picker(FAMILY_SIZES),
            other_counts=_Picker(OTHER_LINK_COUNTS),
            preference_counts=_Picker(PREFERENCE_COUNTS),
            days=[(spec.start + timedelta(days=offset)).isoformat()
                  for offset in range((spec.end - spec.start).days + 1)],
        )


class _Case(NamedTuple):
    """What the persons of one case share, and each person's nationality."""

    location: str
    status: str
    consent: str
    family_links: str
    other_links: str
    preferences: str
    registered: str
    nationalities: list[str]
    unaccompanied_minor: bool


def _draw_case(rng: Random, spec: SyntheticSpec, tables: _Tables) -> _Case:
    random = rng.random
    location = tables.locations.pick(rng)
    origins = tables.origins[location]
    nationality = origins.pick(rng)
    info = NATIONALITIES[nationality]

    minor = random() < tables.unaccompanied[location]
    size = tables.family_sizes.pick(rng) if not minor and random() < info.family else 1
    nationalities = [nationality] * size
    if size > 1 and random() < MIXED_NATIONALITY:
        for _ in range(10):  # a route with one nationality stays unmixed
            nationalities[1] = origins.pick(rng)
            if nationalities[1] != nationality:
                break

    beneficiary = random() < spec.beneficiary_share
    consent = (TRUE if random() < spec.consent_share else FALSE) if beneficiary else ""
    days = tables.days
    registered = days[min(int(random() * len(days)), len(days) - 1)]

    pickers = tables.links[(location, info.group)]
    family_state: str | None = None
    if random() < FAMILY_LINK_SHARE and pickers["family"]:
        family_state = pickers["family"].pick(rng)
    other: list[str] = []
    if random() < OTHER_LINK_SHARE:
        other = pickers["other"].sample(rng, tables.other_counts.pick(rng), exclude=family_state)
    preferences: list[str] = []
    if random() < PREFERENCE_SHARE:
        first = family_state if family_state and random() < FAMILY_FIRST_PREFERENCE else None
        preferences = pickers["preference"].sample(rng, tables.preference_counts.pick(rng), first)
    return _Case(location, "beneficiary" if beneficiary else "applicant", consent,
                 family_state or "", ";".join(other), ";".join(preferences), registered,
                 nationalities, minor)


TRUE, FALSE = "true", "false"
# Days from the grant of protection to the registration: (share of cases, first, last day).
PROTECTION_AGES = ((0.8, 0, 730), (0.2, 731, 1825))


def _protection(rng: Random, spec: SyntheticSpec, registered: str) -> str:
    """A beneficiaries' case's date of protection (`protection_granted`), or "" (missing)."""
    random = rng.random
    if random() < spec.protection_missing_share:
        return ""
    first, last = PROTECTION_AGES[0][1:] if random() < PROTECTION_AGES[0][0] \
        else PROTECTION_AGES[1][1:]
    days = first + min(int(random() * (last - first + 1)), last - first)
    return (date.fromisoformat(registered) - timedelta(days=days)).isoformat()


def generate(spec: SyntheticSpec) -> list[dict[str, str]]:
    """Rows of `candidates.csv` (strings as written), sorted by case then person id.

    Stops after the first case that brings the persons to `spec.persons` or more.
    """
    rng = Random(spec.seed)
    # A stream of its own: the protection dates leave the other columns as they were.
    protection_rng = Random(f"protection-{spec.seed}")
    random = rng.random
    tables = _Tables.of(spec)
    languages = tables.languages
    rows: list[dict[str, str]] = []
    case_number = 0
    while len(rows) < spec.persons:
        case_number += 1
        case_id = f"C{case_number:06d}"
        case = _draw_case(rng, spec, tables)
        minor = TRUE if case.unaccompanied_minor else FALSE
        granted = _protection(protection_rng, spec, case.registered) \
            if case.status == "beneficiary" else ""
        vulnerable_share = VULNERABLE_FAMILY if len(case.nationalities) > 1 else VULNERABLE_SINGLE
        for nationality in case.nationalities:
            primary, extras = languages[nationality]
            spoken = [primary.pick(rng)]
            for code, probability in extras:
                if code not in spoken and random() < probability:
                    spoken.append(code)
            rows.append({
                "person_id": f"P{len(rows) + 1:07d}",
                "case_id": case_id,
                "location": case.location,
                "status": case.status,
                "consent": case.consent,
                "security_cleared": FALSE if random() < spec.not_cleared_share else TRUE,
                "nationality": nationality,
                "languages": ";".join(spoken),
                "vulnerable": TRUE if case.unaccompanied_minor or random() < vulnerable_share
                else FALSE,
                "unaccompanied_minor": minor,
                "family_links": case.family_links,
                "other_links": case.other_links,
                "preferences": case.preferences,
                "registered": case.registered,
                "protection_granted": granted,
            })
    return rows


def add_protection_dates(rows: Iterable[Mapping[str, str]], seed: int = 1,
                         spec: SyntheticSpec | None = None) -> list[dict[str, str]]:
    """The rows of an existing candidates table with `protection_granted` filled for its
    beneficiaries as `generate` draws it (per case, in order of first appearance, from the
    seed's protection stream; a case without `registered` counts from `spec.end`); other
    rows get an empty cell, and a date already given is kept. Deterministic by seed: for
    adding the column to a table made before it existed (illustrative dates)."""
    spec = spec or SyntheticSpec(persons=1, seed=seed)
    rng = Random(f"protection-{seed}")
    drawn: dict[str, str] = {}
    out = []
    for row in rows:
        row = dict(row)
        if row.get("status", "") == "beneficiary" and not row.get("protection_granted"):
            case = row["case_id"]
            if case not in drawn:
                drawn[case] = _protection(rng, spec, row.get("registered")
                                          or spec.end.isoformat())
            row["protection_granted"] = drawn[case]
        row.setdefault("protection_granted", "")
        out.append(row)
    return out


def write_candidates(rows: Iterable[Mapping[str, str]], path: Path) -> None:
    """Write rows as `candidates.csv` (contract column order, UTF-8, `\\n`), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with partial.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(CANDIDATE_COLUMNS)
            writer.writerows([row[column] for column in CANDIDATE_COLUMNS] for row in rows)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def parse_shares(text: str) -> dict[str, float]:
    """`"CY=0.05,EL=0.2"` -> `{"CY": 0.05, "EL": 0.2}`; ValueError on a malformed item."""
    shares: dict[str, float] = {}
    for item in text.split(","):
        code, equals, value = item.strip().partition("=")
        code = code.strip()
        if not equals or not code:
            raise ValueError(f"--locations item {item.strip()!r} is not CODE=SHARE")
        if not STATE_CODE.fullmatch(code):
            raise ValueError(f"--locations code {code!r} is not two capital letters (e.g. EL)")
        if code in shares:
            raise ValueError(f"--locations names {code} twice")
        try:
            shares[code] = float(value)
        except ValueError:
            raise ValueError(f"--locations share of {code} is not a number: {value!r}") from None
    return shares


class _UsageError(Exception):
    """A command-line problem: reported on one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m planner.inputs.synthetic",
                     description="Write synthetic relocation candidates (candidates.csv).")
    parser.add_argument("--persons", type=int, required=True, help="target number of persons")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--locations", help="person shares per benefitting state, summing to 1 "
                        "(default CY=0.05,EL=0.2,IT=0.35,ES=0.4)")
    parser.add_argument("--receiving", help="comma-separated states that may appear in links "
                        "and preferences (default: the 22 EU states of the 2026 pool)")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    try:
        args = parser.parse_args(argv)
        locations = (parse_shares(args.locations) if args.locations is not None
                     else dict(DEFAULT_LOCATIONS))
        receiving = (tuple(code.strip() for code in args.receiving.split(","))
                     if args.receiving is not None else DEFAULT_RECEIVING)
        spec = SyntheticSpec(persons=args.persons, seed=args.seed, locations=locations,
                             receiving=receiving)
    except (_UsageError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    rows = generate(spec)
    try:
        write_candidates(rows, args.out)
    except OSError as error:
        print(f"{parser.prog}: error: cannot write {args.out}: {error}", file=sys.stderr)
        return 2
    cases = len({row["case_id"] for row in rows})
    print(f"wrote {len(rows)} persons in {cases} cases to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
