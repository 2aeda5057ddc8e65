"""The comparison's report.html answers "what would my state owe under proposal X" (issue 17,
item 5): pick a state (radio buttons and CSS, no script, no server) and see its obligation in
persons and EUR, its mix and its shortfall under each proposal side by side, with each
variant's difference against the base; every figure is the runs' allocation.csv's."""

from __future__ import annotations

import csv
import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HANG_S

pytestmark = [pytest.mark.solver, pytest.mark.cli]

REPO = Path(__file__).resolve().parents[1]
EU_2026 = REPO / "instances" / "eu-2026"
PLANNER = Path(sys.executable).parent / "planner"
RUNS = ("base", "estonia-deduction", "key-2015")
FIELDS = ("share", "obligation", "obligation_eur", "relocation", "offset", "financial_eur",
          "alternative_eur", "shortfall")


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("picker") / "compare"
    done = subprocess.run([str(PLANNER), "compare", str(EU_2026), "--variant", RUNS[1],
                           "--variant", RUNS[2], "--out", str(out), "-q", "--jobs", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=HANG_S, check=False)
    assert done.returncode == 0, done.stderr
    return out


def allocation(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "allocation.csv").open(encoding="utf-8", newline="") as handle:
        return {r["state"]: r for r in csv.DictReader(handle)}


def panel(page: str, code: str) -> str:
    start = page.index(f'<div class="panel" id="panel-{code}"')
    return page[start:page.index("</table></div></div>", start)]


def test_a_panel_per_state_with_the_allocation_csv_figures(compared: Path) -> None:
    page = (compared / "comparison" / "report.html").read_text(encoding="utf-8")
    tables = {run: allocation(compared / run) for run in RUNS}
    codes = sorted(set().union(*tables.values()))
    section = page[page.index('<section id="pick-a-state">'):]
    section = section[:section.index("</section>")]
    assert re.findall(r'<input type="radio" name="pick-state" id="pick-(\w+)"', section) == codes
    assert section.count(" checked>") == 1  # the first state shows when the page opens
    for code in codes:
        text = panel(page, code)
        found = {(m[0], m[1]): m[2] for m in re.findall(
            r'data-table="allocation" data-row="([^"/]+)/' + code
            + r'" data-col="(\w+)" data-value="([^"]*)"', text)}
        want = {(run, f): tables[run][code][f] for run in RUNS if code in tables[run]
                for f in FIELDS}
        assert found == want, code
        # The CSS shows this panel, and only it, while its radio button is checked.
        assert f"#pick-{code}:checked~#panel-{code}{{display:block}}" in page
    assert ".picker>.panel{display:none" in page
    assert "<script" not in page


def test_the_difference_against_the_base_is_shown_beside_each_variant(compared: Path) -> None:
    """Estonia's 50 % deduction (the estonia-deduction variant) halves its obligation: the
    panel shows base, the variant, and the signed change, in persons and in EUR."""
    base, half = allocation(compared / "base")["EE"], allocation(compared / RUNS[1])["EE"]
    change = float(half["obligation"]) - float(base["obligation"])
    change_eur = float(half["obligation_eur"]) - float(base["obligation_eur"])
    assert change < 0 and change_eur == change * 20_000
    text = html.unescape(panel((compared / "comparison" / "report.html").read_text(
        encoding="utf-8"), "EE"))
    row = re.search(r"<tr><td>obligation \(persons\)</td>(.*?)</tr>", text)
    assert row is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(1))
    assert cells[:3] == [f"{float(base['obligation']):,.0f}", f"{float(half['obligation']):,.0f}",
                         f"{change:,.0f}"]
    row_eur = re.search(r"<tr><td>obligation \(EUR\)</td>(.*?)</tr>", text)
    assert row_eur is not None
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row_eur.group(1))[2] == f"{change_eur:,.0f}"
