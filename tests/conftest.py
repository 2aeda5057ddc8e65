"""Shared test helpers: write small instance folders from Python literals."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

BASE_TOML = """name = "test pool"
cycle = 2026

[pool]
relocations = {relocations}
financial_eur = {financial}
rounding = "{rounding}"
{extra}
"""

STATE_COLUMNS = ["code", "name", "population", "gdp_eur_million", "participates",
                 "benefitting", "status", "deduction", "share"]


def write_csv(path: Path, rows: list[dict[str, object]], columns: list[str] | None = None) -> None:
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def state(code: str, population: float = 1_000_000, gdp: float = 10_000, **extra: object
          ) -> dict[str, object]:
    return {"code": code, "name": f"State {code}", "population": population,
            "gdp_eur_million": gdp, **extra}


def pledge(pid: str, state_code: str, measure: str, min_: object = "", max_: object = "",
           **extra: object) -> dict[str, object]:
    return {"pledge_id": pid, "state": state_code, "measure": measure, "min": min_,
            "max": max_, **extra}


MakeInstance = Callable[..., Path]


@pytest.fixture
def make_instance(tmp_path: Path) -> MakeInstance:
    """make_instance(states, pledges, needs=None, relocations=100, financial=2_000_000,
    rounding="ceil", extra_toml="") -> the folder."""

    def make(states: list[dict[str, object]], pledges: list[dict[str, object]],
             needs: list[dict[str, object]] | None = None, relocations: int = 100,
             financial: float = 2_000_000, rounding: str = "ceil", extra_toml: str = "",
             name: str = "inst") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "instance.toml").write_text(BASE_TOML.format(
            relocations=relocations, financial=financial, rounding=rounding, extra=extra_toml))
        write_csv(folder / "member_states.csv", states,
                  STATE_COLUMNS + list(dict.fromkeys(k for s in states for k in s
                                                     if k not in STATE_COLUMNS)))
        write_csv(folder / "pledges.csv", pledges,
                  ["pledge_id", "state", "measure", "min", "max"]
                  + sorted({k for p in pledges for k in p} - {"pledge_id", "state", "measure",
                                                               "min", "max"}))
        if needs is not None:
            write_csv(folder / "needs.csv", needs, ["state", "measure", "amount"])
        return folder

    return make
