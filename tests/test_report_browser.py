"""report.html in a real browser: Debian's headless Chromium loads the eu-2026 report from disk
without console errors or any request leaving file://, the screenshot is not blank, and the
numbers the page shows are the CSVs'.

`make browser` (run by .ci/run) installs chromium and chromium-driver where they are missing;
the tests install nothing (`make test` installs no system package): where the browser is
missing they skip, saying why.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import browser
import pytest

from models.results import Summary
from planner.outputs.fileio import fmt

pytestmark = [pytest.mark.browser, pytest.mark.solver, pytest.mark.cli]


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, browser.Page, Path]:
    reason = browser.skip_reason()
    if reason:
        pytest.skip(f"headless Chromium cannot run here: {reason}")
    work = tmp_path_factory.mktemp("browser")
    png = work / "report.png"
    out, page = browser.shoot_eu_2026(png, work)  # the code path of `make screenshot`
    return out, page, png


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float:
    """A number as the page shows it: separators dropped, a percent made a fraction."""
    clean = text.replace(",", "").replace("\u00a0", "").strip()
    return float(clean[:-1]) / 100 if clean.endswith("%") else float(clean)


def test_page_loads_without_console_errors(shown) -> None:
    _, page, _ = shown
    assert [e for e in page.console if e["level"] == "SEVERE"] == []


def test_page_requests_nothing_but_itself(shown) -> None:
    out, page, _ = shown
    assert (out / "report.html").resolve().as_uri() in page.requests
    assert [u for u in page.requests if not u.startswith(("file://", "data:"))] == []
    text = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert not re.search(r"<script[^>]*\bsrc\b", text, re.I)


def test_screenshot_is_not_blank(shown) -> None:
    _, _, png = shown
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    colours, inked = browser.colour_count(png)
    # Text, key-figure boxes and the first chart's four measures: far from one white colour.
    assert colours > 100, colours
    assert inked > 0.05, inked


def test_numbers_in_the_page_equal_the_csvs(shown) -> None:
    out, page, _ = shown
    cells = {(c["table"], c["row"], c["col"]): (c["value"], c["text"]) for c in page.cells}
    checked = 0

    def check(table: str, row: str, col: str, csv_text: str, tolerance: float) -> None:
        nonlocal checked
        value, text = cells[table, row, col]
        assert value == csv_text, (table, row, col, value, csv_text)
        assert abs(number(text) - float(csv_text)) <= tolerance, (table, row, col, text)
        checked += 1

    allocation = rows(out / "allocation.csv")
    for row in allocation:
        for col in ("obligation", "value", "balance"):
            check("allocation", row["state"], col, row[col], 0.005)
    for row in rows(out / "coverage.csv"):
        if row["ratio"]:  # shown to 0.1 %
            check("coverage", f"{row['beneficiary']}/{row['measure']}", "ratio", row["ratio"],
                  0.0005)
    summary = Summary.model_validate_json((out / "summary.json").read_text(encoding="utf-8"))
    for col, value in summary.totals.model_dump().items():
        check("summary", "totals", col, fmt(value), 0.005)
    # (The ratios: 12 before issue 14; offsets assigned to no benefitting state, without
    # responsibility.csv, have no coverage row.)
    ratios = sum(1 for row in rows(out / "coverage.csv") if row["ratio"])
    assert checked == 3 * len(allocation) + ratios + len(summary.totals.model_dump())
    # The totals agree with the per-state rows the page shows.
    assert sum(number(cells["allocation", r["state"], "value"][1]) for r in allocation) == \
        number(cells["summary", "totals", "value"][1]) == 12_609  # 13,294 owed - 685 short


def test_the_checks_catch_a_page_that_fetches(shown, tmp_path: Path) -> None:
    """The same report with one image from outside: the browser refuses it (the page's
    Content-Security-Policy), says so in the console, and the request is seen."""
    out, _, _ = shown
    text = (out / "report.html").read_text(encoding="utf-8")
    bad = tmp_path / "report.html"
    bad.write_text(text.replace("<body>", '<body><img src="http://127.0.0.1:9/x.png">', 1),
                   encoding="utf-8")
    with browser.chromium() as driver:
        page = browser.load(driver, bad)
    assert "http://127.0.0.1:9/x.png" in page.requests
    assert any(e["level"] == "SEVERE" and "Content Security Policy" in e["message"]
               for e in page.console)


def test_comparison_report_in_the_browser(shown, tmp_path: Path) -> None:
    """A comparison's page (hand-made runs, its CSVs written as `planner compare` writes
    them): no console error, nothing fetched, and its numbers the CSVs'."""
    from test_report import THREE_RUNS, hand_comparison

    comparison = hand_comparison(tmp_path, THREE_RUNS)
    png = tmp_path / "comparison.png"
    page = browser.shoot(comparison / "report.html", png)
    assert [e for e in page.console if e["level"] == "SEVERE"] == []
    assert page.requests == [(comparison / "report.html").resolve().as_uri()]
    cells = {(c["table"], c["row"], c["col"]): (c["value"], c["text"]) for c in page.cells}
    for row in rows(comparison / "kpis.csv"):
        if row["unit"] in ("ratio", "index"):
            continue  # shown as % or rounded
        for col in ("value", "delta"):
            if row["variant"] == "base" and col == "delta":
                continue  # the base's change against itself is not shown
            value, text = cells["kpis", f"{row['variant']}/{row['kpi']}", col]
            if row[col] == "":  # not given (no candidates, or no base figure): a dash
                assert (value, text) == ("", "\u2013")
                continue
            assert value == row[col] and number(text) == float(row[col])
    for row in rows(comparison / "states.csv"):
        value, text = cells["states", f"{row['variant']}/{row['state']}", "obligation"]
        assert value == row["obligation"] and number(text) == float(row["obligation"])
    assert browser.colour_count(png)[0] > 20


def only_chromium_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Chromium absent, its driver present, whatever this machine has."""
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    (tmp_path / "chromedriver").touch()
    monkeypatch.setattr(browser, "CHROMEDRIVER", tmp_path / "chromedriver")


def test_skip_reason_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    only_chromium_missing(monkeypatch, tmp_path)
    monkeypatch.setattr(browser.shutil, "which", lambda _: None)
    assert browser.ensure_installed() == (
        f"{tmp_path / 'chromium'} not installed, and apt-get is not available to install "
        "chromium chromium-driver")


def test_skipping_installs_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Where Chromium is missing the tests skip and say how to get it; apt-get is not run."""
    only_chromium_missing(monkeypatch, tmp_path)

    def no_apt(*args: str) -> None:
        raise AssertionError(f"a test ran apt-get {' '.join(args)}")

    monkeypatch.setattr(browser, "_apt", no_apt)
    assert browser.skip_reason() == (
        f"{tmp_path / 'chromium'} not installed (`make browser` installs chromium and "
        "chromium-driver with apt-get, as root)")


def test_make_test_installs_no_system_package() -> None:
    """`make test` (dry run: its commands printed, none run) neither calls apt-get nor the
    browser's installer; .ci/run does, before `make test`."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = browser.ROOT
    done = subprocess.run(["make", "-n", "test"], cwd=root, capture_output=True, text=True,
                          check=True)
    assert "apt-get" not in done.stdout and "browser.py install" not in done.stdout
    assert "pytest" in done.stdout
    ci = (root / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert ci.index("make browser") < ci.index("make test")
