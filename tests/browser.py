"""Headless Chromium for the report: install it where missing, load a page, read it, shoot it.

Used by tests/test_report_browser.py (which installs nothing: it skips with `skip_reason()`), by
`make browser` (`python tests/browser.py install`, run by .ci/run, never by `make test`) and by
`make screenshot` (`python tests/browser.py screenshot`, which writes docs/report.png from a
real run of instances/eu-2026), so the README's picture comes from the test's own code path.
Only Debian's chromium and chromium-driver are used: never a downloaded browser.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ("chromium", "chromium-driver")
ROOT = Path(__file__).resolve().parent.parent
# Flags this machine needs: no sandbox as root, no GPU, and no traffic of Chromium's own.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")


def missing() -> str | None:
    """Why the browser cannot be driven here, or None when it can."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if absent:
        return f"{' and '.join(absent)} not installed"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[dev]')"
    return None


def skip_reason() -> str | None:
    """Why the browser test skips here, or None when it can run. Only looks: installing is for
    `make browser` (CI), never for a test."""
    reason = missing()
    if reason is None or "selenium" in reason:
        return reason
    return f"{reason} (`make browser` installs {' and '.join(PACKAGES)} with apt-get, as root)"


def _apt(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], capture_output=True, text=True, env=env,
                          timeout=1200, check=False)


def ensure_installed() -> str | None:
    """Install Debian's chromium and chromium-driver where missing (as root, with apt-get,
    without questions). None when the browser is ready, else the reason it is not."""
    reason = missing()
    if reason is None or "selenium" in reason:
        return reason
    if shutil.which("apt-get") is None:
        return f"{reason}, and apt-get is not available to install {' '.join(PACKAGES)}"
    if os.geteuid() != 0:
        return f"{reason}, and installing {' '.join(PACKAGES)} with apt-get needs root"
    try:
        done = _apt("install", "-y", "-q", *PACKAGES)
        if done.returncode != 0:  # a fresh machine may have no package lists yet
            _apt("update", "-q")
            done = _apt("install", "-y", "-q", *PACKAGES)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{reason}; apt-get install {' '.join(PACKAGES)} failed: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"{reason}; apt-get install {' '.join(PACKAGES)} failed: {last}"
    return missing()


@dataclass
class Page:
    """What a loaded page showed and did."""

    console: list[dict[str, Any]] = field(default_factory=list)  # browser log entries
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    cells: list[dict[str, str]] = field(default_factory=list)  # every [data-value] element


READ_CELLS = """return Array.from(document.querySelectorAll('[data-value]')).map(e => ({
  table: e.dataset.table, row: e.dataset.row, col: e.dataset.col,
  value: e.dataset.value, text: e.innerText}));"""


@contextmanager
def chromium(width: int = 1280, height: int = 1600) -> Iterator[Any]:
    """A headless Chromium (selenium WebDriver) with a fresh profile, closed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="report-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def load(driver: Any, html: Path) -> Page:
    """Open `html` from disk and collect its console messages, requests and numbers."""
    url = html.resolve().as_uri()
    driver.get(url)
    page = Page(console=driver.get_log("browser"))
    sent = [m["params"] for m in (json.loads(e["message"])["message"]
                                  for e in driver.get_log("performance"))
            if m.get("method") == "Network.requestWillBeSent"]
    # The page's requests are those of its document's loader: the new-tab page that Chromium
    # showed in the same tab before (chrome://) had its own.
    loaders = {s.get("loaderId") for s in sent if s["request"]["url"] == url}
    page.requests = [s["request"]["url"] for s in sent if s.get("loaderId") in loaders]
    page.cells = driver.execute_script(READ_CELLS)
    return page


def screenshot(driver: Any, png: Path) -> Path:
    """The visible part of the page (window size), as PNG."""
    png.parent.mkdir(parents=True, exist_ok=True)
    if not driver.save_screenshot(str(png)):
        raise RuntimeError(f"the browser could not write {png}")
    return png


def colour_count(png: Path) -> tuple[int, float]:
    """Distinct colours, and the share of pixels that are not white: a blank page has 1 and 0."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 24) or []
        white = sum(n for n, c in colours if c == (255, 255, 255))
        return len(colours), 1 - white / (rgb.width * rgb.height)


def shoot(html: Path, png: Path) -> Page:
    """Load `html` in a fresh headless Chromium, read it, and screenshot it into `png`."""
    with chromium() as driver:
        page = load(driver, html)
        screenshot(driver, png)
    return page


def shoot_eu_2026(png: Path, work: Path) -> tuple[Path, Page]:
    """Plan instances/eu-2026 into `work`/base with the `planner` command, then shoot its
    report. The README's picture and the browser test both come from here."""
    out = work / "base"
    planner = Path(sys.executable).with_name("planner")  # the command a user runs
    subprocess.run([str(planner), "run", str(ROOT / "instances/eu-2026"), "--out", str(out),
                    "-q"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return out, shoot(out / "report.html", png)


def open_explanation(driver: Any, state: str) -> Any:
    """Open `state`'s explanation in a loaded run report by a click on its summary, as a
    reader does, and bring it to the top of the window; the <details> element."""
    from selenium.webdriver.common.by import By

    details = driver.find_element(By.ID, f"explain-{state}")
    driver.execute_script("arguments[0].scrollIntoView()", details)
    details.find_element(By.TAG_NAME, "summary").click()
    driver.execute_script("arguments[0].scrollIntoView()", details)
    return details


def shoot_explanation(png: Path, work: Path, state: str = "FR") -> tuple[Path, Page]:
    """Plan instances/eu-2026 with the `planner` command and shoot its report with `state`'s
    explanation opened (the README's picture of the section, docs/explain.png)."""
    out = work / "base"
    planner = Path(sys.executable).with_name("planner")
    subprocess.run([str(planner), "run", str(ROOT / "instances/eu-2026"), "--out", str(out),
                    "-q"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    with chromium(1100, 830) as driver:
        page = load(driver, out / "report.html")
        open_explanation(driver, state)
        screenshot(driver, png)
    return out, page


def main(argv: list[str]) -> int:
    if argv[:1] == ["install"]:
        reason = ensure_installed()
        print(f"browser: {reason}; the browser test will skip" if reason else
              f"browser: {CHROMIUM} and {CHROMEDRIVER} ready")
        return 0  # never fails the build: the test skips and says why
    if argv[:1] in (["screenshot"], ["screenshot-explain"]):
        reason = ensure_installed()
        if reason:
            print(f"screenshot: {reason}", file=sys.stderr)
            return 1
        explain = argv[0] == "screenshot-explain"
        default = "docs/explain.png" if explain else "docs/report.png"
        target = Path(argv[1]) if len(argv) > 1 else ROOT / default
        with tempfile.TemporaryDirectory() as work:
            (shoot_explanation if explain else shoot_eu_2026)(target, Path(work))
        print(f"screenshot: {target}")
        return 0
    print("usage: python tests/browser.py install | screenshot [PNG] | screenshot-explain [PNG]",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
