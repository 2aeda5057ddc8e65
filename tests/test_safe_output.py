"""Safe text out (issue #12, item 8, the output side): whatever text reaches the tables (the
loader refuses much of it; these tests inject it directly, past the loader), the terminal and
the reports show it inert: control characters and ANSI/OSC escapes escaped, never raw; rich
markup and emoji codes printed as written; HTML escaped, with the exact text kept only in the
`data-*` attributes that programs compare with the CSVs."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import csv_dicts
from rich.console import Console
from test_report import THREE_RUNS, allocation, hand_comparison, hand_made, parse

from models.results import CoverageRow, MatchabilityRow, Matching, SolverInfo, Summary, Totals
from planner import comparison as compare
from planner.optimise.tables import Tables
from planner.outputs import registry
from planner.report.display import visible
from planner.report.html import write_report
from planner.report.terminal import terminal_text

pytestmark = pytest.mark.cli

ESC = "\x1b"
RED = f"{ESC}[31mRED{ESC}[0m"  # an ANSI colour
TITLE = f"{ESC}]0;pwned\x07"  # an OSC sequence: retitles the terminal window
CLEAR = f"{ESC}[2J{ESC}[H"  # clears the screen
RLO = "\u202e"  # right-to-left override: reorders what follows
MARKUP = "[bold red]x[/bold red] :warning:"  # rich markup and an emoji code


def hidden(text: str) -> set[str]:
    """The characters of `text` that act rather than show (newlines between lines aside)."""
    return {c for c in text if c != "\n" and unicodedata.category(c) in
            ("Cc", "Cf", "Cs", "Zl", "Zp")}


def test_visible_escapes_only_what_acts() -> None:
    assert visible(RED) == "\\x1b[31mRED\\x1b[0m"
    assert visible(TITLE) == "\\x1b]0;pwned\\x07"
    assert visible(f"a\tb\nc\r{RLO}d\u200be\x85\u2028") == \
        "a\\tb\\nc\\r\\u202ed\\u200be\\x85\\u2028"
    assert visible("\U000e0001") == "\\U000e0001"  # a tag character (format, astral)
    for kept in ("Ελλάδα", "ø-ü-ß", "\U0001f30d", "名前", "a b\u00a0c", MARKUP, "=cmd|'"):
        assert visible(kept) == kept


def injected() -> Tables:
    """A run's tables with input text injected in every text the terminal shows."""
    return Tables(
        plan=[], distribution=[], totals=injected_summary().totals,
        allocation=[allocation(f"X{RED}", "contributor", 10, relocation=4),
                    allocation(MARKUP, "benefitting", 0)],
        coverage=[CoverageRow(beneficiary=f"{MARKUP}{CLEAR}", measure="relocation", need=10,
                              need_stated=True, received=4, ratio=0.4)],
        matchability=[MatchabilityRow(kind="restriction", subject=f"P{TITLE}",
                                      criterion="nationalities", value=2,
                                      text=f"pledge P{TITLE} {MARKUP}: 2 persons")])


def injected_summary() -> Summary:
    return Summary(
        instance=f"inst{CLEAR}{MARKUP}", variant="base", status="optimal",
        totals=Totals(obligation=10, relocation=4, offset=0, financial_eur=0,
                      alternative_eur=0, value=4, shortfall=6),
        matching=Matching(ran=True, persons_total=3, bottlenecks=[f"IT{RLO}: {RED}\r\nnext"]),
        warnings=[f"pledge {TITLE}{MARKUP}", f"{RLO}gnirts"], input_sha256="0" * 64,
        version="test", solver=SolverInfo(requested="highs", name="highs", version="x"))


@pytest.mark.parametrize("tty", [False, True])
def test_terminal_table_shows_injected_text_inert(monkeypatch: pytest.MonkeyPatch, tty: bool
                                                  ) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    text = terminal_text(injected(), injected_summary(), f"/tmp/out{RED}", tty, "utf-8")
    # A terminal gets rich's own colours (SGR sequences) and nothing else that acts.
    own = re.sub(f"{ESC}\\[[0-9;]*m", "", text) if tty else text
    assert hidden(own) == set()
    assert (ESC in text) is tty
    flat = "".join(own.split())  # rich wraps and pads; the texts are still all there
    for shown in (f"X{visible(RED)}", f"inst{visible(CLEAR)}{MARKUP}",
                  f"{MARKUP}{visible(CLEAR)}", f"bottleneck:IT{visible(RLO)}:{visible(RED)}",
                  f"restrictioncost:pledgeP{visible(TITLE)}{MARKUP}".replace(" ", ""),
                  f"warning:pledge{visible(TITLE)}{MARKUP}".replace(" ", ""),
                  f"warning:{visible(RLO)}gnirts", f"/tmp/out{visible(RED)}"):
        assert shown.replace(" ", "") in flat, shown
    assert "\\r\\nnext" in flat
    assert "⚠" not in text  # the emoji code stays a code


def test_compare_table_shows_run_names_and_warnings_inert() -> None:
    evil = replace(THREE_RUNS[1], name=f"v{RED}{MARKUP}", summary=injected_summary())
    buffer = io.StringIO()
    compare.print_comparison(Console(file=buffer, width=200, force_terminal=False),
                             [THREE_RUNS[0], evil], f"out{TITLE}")
    text = buffer.getvalue()
    assert hidden(text) == set()
    assert f"v{visible(RED)}{MARKUP}" in text
    assert f"warning (v{visible(RED)}{MARKUP}): pledge {visible(TITLE)}{MARKUP}" in text
    assert f"results: out{visible(TITLE)} (one folder per run" in text


class Text(HTMLParser):
    """What a browser shows of a page: its text, outside tags and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def page_text(path: Path) -> str:
    reader = Text()
    reader.feed(path.read_text(encoding="utf-8"))
    return "".join(reader.parts)


def rewrite(path: Path, change: dict[str, dict[str, str]], key: str) -> None:
    """Set cells of a CSV: `change` maps a row's `key` column to its new cells."""
    import csv

    rows = csv_dicts(path)
    for row in rows:
        row.update(change.get(row[key], {}))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_run_report_shows_injected_text_inert(tmp_path: Path) -> None:
    folder = hand_made(tmp_path / "run")
    pid = f"<script>A-1{RED}{RLO}"
    rewrite(folder / registry.PLAN.file, {"A-1": {"pledge_id": pid}}, "pledge_id")
    rewrite(folder / registry.ALLOCATION.file, {"A": {"name": f"State{CLEAR}{TITLE}"}}, "state")
    rewrite(folder / registry.MATCHABILITY.file, {"C": {"text": f"C{RED}: 1 person"}}, "subject")
    summary = Summary.model_validate_json((folder / "summary.json").read_text())
    summary.warnings = [f"{RLO}warned {RED}"]
    (folder / "summary.json").write_text(summary.model_dump_json(), encoding="utf-8")
    write_report(folder)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert hidden(page_text(folder / "report.html")) == set()
    assert "<script>" not in page
    cells = parse(folder / "report.html").cells
    # The exact text stays where programs read it, shown escaped.
    assert cells["plan", pid, "pledge_id"] == (pid, visible(pid))
    assert cells["allocation", "A", "name"] == (f"State{CLEAR}{TITLE}",
                                                visible(f"State{CLEAR}{TITLE}"))
    assert f"<li class=\"warn\">{visible(RLO)}warned {visible(RED)}</li>" in page
    # The bottleneck's chart label too.
    assert f">C{visible(RED)}: 1 person</text>" in page


def test_comparison_report_shows_injected_text_inert(tmp_path: Path) -> None:
    runs = [THREE_RUNS[0], replace(THREE_RUNS[1], name=f"v{RLO}x", summary=injected_summary())]
    comparison = hand_comparison(tmp_path, runs)
    rewrite(comparison / "states.csv", {"A": {"state": f"A{RED}"}}, "state")
    from planner.report.html_compare import write_comparison_report

    write_comparison_report(comparison)
    assert hidden(page_text(comparison / "report.html")) == set()
    page = (comparison / "report.html").read_text(encoding="utf-8")
    cells = parse(comparison / "report.html").cells
    assert cells["states", f"base/A{RED}", "obligation"][0] == "60"
    assert f"<td>A{visible(RED)}</td>" in page
    assert f"v{visible(RLO)}x: pledge {visible(TITLE)}" in page
    assert f'<a href="../v%E2%80%AEx/report.html">v{visible(RLO)}x</a>' in page


def test_raw_text_is_only_in_data_attributes(tmp_path: Path) -> None:
    """Outside the `data-*` attributes (exact, as the CSVs are), no raw ESC anywhere in the
    page: not in the SVG charts' text, titles or comments either."""
    folder = hand_made(tmp_path / "run")
    rewrite(folder / registry.MATCHABILITY.file, {"C": {"text": f"C{RED}"}}, "subject")
    write_report(folder)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert ESC in page
    outside = re.sub(r'data-[a-z]+="[^"]*"', "", page)
    assert ESC not in outside


def test_paths_with_escapes_are_shown_inert_by_the_command(tmp_path: Path) -> None:
    """A folder named with an ANSI escape: `validate`'s valid line, its problem lines and
    `run`'s progress lines show `\\x1b`, never the raw ESC (the user's own path, but a
    terminal must not act on what a listing of folders made)."""
    import shutil
    import subprocess
    import sys

    from conftest import HANG_S

    folder = tmp_path / "x\x1b[2Jy"
    shutil.copytree(Path("tests/data/bad/ok-base"), folder)
    planner = Path(sys.executable).parent / "planner"
    valid = subprocess.run([str(planner), "validate", str(folder)], capture_output=True,
                           text=True, timeout=HANG_S, check=False)
    assert valid.returncode == 0 and "\x1b" not in valid.stdout
    assert "x\\x1b[2Jy: valid" in valid.stdout
    (folder / "pledges.csv").write_text("pledge_id,state,measure,min,max\nA,ZZ,financial,0,1\n")
    bad = subprocess.run([str(planner), "run", str(folder), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=HANG_S, check=False)
    assert bad.returncode == 2 and "\x1b" not in bad.stderr
    assert "x\\x1b[2Jy/pledges.csv:2: state: unknown state ZZ" in bad.stderr
    assert "[planner] loading " in bad.stderr
