"""In headless Chromium (issue 17, items 3 and 5): a run report's per-state explanation opens on
a click, and in a comparison's report.html a click on a state shows its panel, and only its,
with no script (the page allows none). Skips where the browser is missing, saying why."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import browser
import pytest
from conftest import HANG_S

pytestmark = [pytest.mark.browser, pytest.mark.solver, pytest.mark.cli]

REPO = Path(__file__).resolve().parents[1]
EU_2026 = REPO / "instances" / "eu-2026"
PLANNER = Path(sys.executable).parent / "planner"


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = browser.skip_reason()
    if reason:
        pytest.skip(f"headless Chromium cannot run here: {reason}")
    out = tmp_path_factory.mktemp("explain-browser") / "compare"
    done = subprocess.run([str(PLANNER), "compare", str(EU_2026), "--variant",
                           "estonia-deduction", "--out", str(out), "-q", "--jobs", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=HANG_S, check=False)
    assert done.returncode == 0, done.stderr
    return out


def shown_panels(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [p.get_attribute("data-state") for p in
            driver.find_elements(By.CSS_SELECTOR, ".picker > .panel") if p.is_displayed()]


def test_picking_a_state_shows_its_panel_only(compared: Path) -> None:
    from selenium.webdriver.common.by import By

    with browser.chromium() as driver:
        page = browser.load(driver, compared / "comparison" / "report.html")
        assert [e for e in page.console if e["level"] == "SEVERE"] == []
        assert shown_panels(driver) == ["AT"]  # the first state, checked when the page opens
        label = driver.find_element(By.CSS_SELECTOR, 'label[for="pick-EE"]')
        driver.execute_script("arguments[0].scrollIntoView()", label)
        label.click()
        assert shown_panels(driver) == ["EE"]
        rows = driver.find_elements(By.CSS_SELECTOR, "#panel-EE tbody tr")
        texts = {r.find_elements(By.TAG_NAME, "td")[0].text:
                 [c.text for c in r.find_elements(By.TAG_NAME, "td")[1:]] for r in rows}
    with (compared / "base" / "allocation.csv").open(encoding="utf-8", newline="") as handle:
        base = next(r for r in csv.DictReader(handle) if r["state"] == "EE")
    with (compared / "estonia-deduction" / "allocation.csv").open(encoding="utf-8",
                                                                   newline="") as handle:
        half = next(r for r in csv.DictReader(handle) if r["state"] == "EE")
    change = float(half["obligation"]) - float(base["obligation"])
    assert texts["obligation (persons)"] == [f"{float(base['obligation']):,.0f}",
                                             f"{float(half['obligation']):,.0f}", f"{change:,.0f}"]


def test_an_explanation_opens_on_a_click(compared: Path) -> None:
    with browser.chromium() as driver:
        browser.load(driver, compared / "base" / "report.html")
        from selenium.webdriver.common.by import By

        closed = driver.find_element(By.ID, "explain-AT")
        assert closed.get_attribute("open") is None
        details = browser.open_explanation(driver, "AT")
        assert details.get_attribute("open") is not None
        assert "deduction 100% (Arts 61-62; status significant)" in details.text
