"""The sheets of the xlsx exports, laid out for an analyst who hands the workbook on.

Every sheet: a bold, filled header row, frozen, with a filter; columns wide enough for their
text as shown; numbers as numbers, each with the number format of its unit (thousands
separators, EUR, % for shares and ratios). The unit of a table's column is its row model's
(models.results: `json_schema_extra["unit"]`), so the formats follow the schema of record.
The values are exactly the CSVs' (a format changes only how a number is shown); no cell is a
formula.

- a table sheet: one row per CSV row (planner.outputs.formats);
- `summary`: summary.json as labelled sections (run, pool, totals, offsets, distribution,
  matching, warnings), each figure with its unit; summary.json itself stays the
  machine-readable copy;
- `by_state` (a comparison's tables.xlsx): one row per state, and per run (the base first)
  its share, obligation in persons and EUR, mix (relocation, offset, financial, alternative)
  and shortfall from the run's allocation.csv, then, for each variant, the difference against
  the base; conditional formatting marks increases (green) and decreases (orange).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from models.results import AllocationRow, Summary

Cell = float | int | bool | str | list[str] | None
MAX_WIDTH = 60
HEADER_FILL = "DDEBF7"
SECTION_FILL = "F2F2F2"
INCREASE_FILL, DECREASE_FILL = "C6EFCE", "FCE4D6"
TINY = 1e-9  # a difference below it is no change (floating-point noise)
UNIT_FORMATS = {"share": "0.0000%", "ratio": "0.0%", "EUR": '#,##0" EUR"',
                "persons": "#,##0", "relocation-equivalents": "#,##0.00", "index": "0.000"}
EUR_MEASURES = ("financial", "alternative")


def unit_format(unit: str | None, row: dict[str, Cell]) -> str | None:
    """The number format of a cell of `unit` in `row` (`measure`: the row's measure decides,
    persons or EUR; `unit`: the row's `unit` column)."""
    if unit == "measure":
        unit = "EUR" if row.get("measure") in EUR_MEASURES else "persons"
    elif unit == "unit":
        unit = str(row.get("unit"))
    return UNIT_FORMATS.get(unit) if unit else None


def shown(value: Cell, number_format: str | None, text: str) -> str:
    """About the text Excel shows for `value` in `number_format` (for the column's width)."""
    if not isinstance(value, int | float) or isinstance(value, bool) or number_format is None:
        return text
    if number_format.endswith("%"):
        return f"{value * 100:.4f}%"
    return f"{value:,.2f} EUR" if "EUR" in number_format else f"{value:,.2f}"


def _header(sheet: Any, row: int, names: Sequence[str]) -> list[int]:
    from openpyxl.styles import Font, PatternFill

    for c, name in enumerate(names, start=1):
        cell = sheet.cell(row, c, name)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
    return [len(n) for n in names]


def _put(sheet: Any, r: int, c: int, value: Cell, number_format: str | None) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if value is None or value == "":
        return  # empty stays empty
    if isinstance(value, str):
        # XML cannot hold control characters at all: the only change to any value.
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = sheet.cell(r, c, value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even "=1+1" or "#N/A": never a formula or error
    elif number_format is not None and not isinstance(value, bool):
        cell.number_format = number_format


def _finish(sheet: Any, widths: Sequence[int], header_row: int) -> None:
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = f"{'A' if header_row == 1 else 'B'}{header_row + 1}"
    last = get_column_letter(max(len(widths), 1))
    sheet.auto_filter.ref = f"A{header_row}:{last}{max(sheet.max_row, header_row)}"
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), MAX_WIDTH)


def rows_sheet(workbook: Any, title: str, header: Sequence[str],
               rows: Sequence[Sequence[Cell]],
               formats: Callable[[int, int], str | None] | None = None,
               text: Callable[[Cell], str] = str) -> None:
    """A sheet of `rows` under `header`; `formats(r, c)` the number format of row r's cell c."""
    sheet = workbook.create_sheet(title[:31])  # Excel's limit on sheet names
    widths = _header(sheet, 1, header)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            number_format = formats(r, c) if formats is not None else None
            written = text(value)  # the CSV's text, or the number as Excel shows it
            widths[c] = max(widths[c], len(written), len(shown(value, number_format, written)))
            _put(sheet, r + 2, c + 1, text(value) if isinstance(value, list) else value,
                 number_format)
    _finish(sheet, widths, 1)


# --- summary -------------------------------------------------------------------------------

SummaryRow = tuple[str, Cell, str]  # label, value, unit ("" for text; SECTION: a heading)
RE = "relocation-equivalents"
SECTION = "section"


def _section(title: str, items: Sequence[SummaryRow]) -> list[SummaryRow]:
    return [(title, None, SECTION), *items] if items else []


def _pool_rows(s: Summary) -> list[SummaryRow]:
    rows: list[SummaryRow] = []
    if s.proposal is not None:
        p = s.proposal
        rows += [("Council's pool (Art. 57): relocations", p.pool_relocations, "persons"),
                 ("Council's pool (Art. 57): financial", p.pool_financial_eur, "EUR"),
                 ("Commission proposal (Art. 12): relocations", p.relocations, "persons"),
                 ("Commission proposal (Art. 12): financial", p.financial_eur, "EUR")]
    if s.key is not None:
        k = s.key
        rows += [("EUR per relocation-equivalent", k.eur_per_relocation, "EUR"),
                 ("Key weights (Annex I)", ", ".join(f"{c} {w:g}" for c, w in k.weights.items()),
                  ""),
                 ("Rounding of obligations", k.rounding, "")]
        rows += [(f"Official share of {code} (computed {o.computed:.4%})", o.official, "share")
                 for code, o in k.official_shares.items()]
    return rows


def _totals_rows(s: Summary) -> list[SummaryRow]:
    t = s.totals
    return [("Obligations", t.obligation, RE), ("Planned contributions", t.value, RE),
            ("Shortfall (owed, not planned)", t.shortfall, RE),
            ("Surplus (planned beyond obligations; apart from the shortfall)", t.surplus, RE),
            ("Relocation places", t.relocation, "persons"),
            ("Responsibility offsets", t.offset, "persons"),
            ("Financial contributions", t.financial_eur, "EUR"),
            ("Alternative measures", t.alternative_eur, "EUR")]


def _offsets_rows(s: Summary) -> list[SummaryRow]:
    o = s.offsets
    if o is None:
        return []
    return [("Pledged relocations", o.pledged_relocations, "persons"),
            ("Voluntary threshold (Art. 63(1))", o.voluntary_threshold, "persons"),
            ("Voluntary offsets allowed pool-wide", "yes" if o.voluntary_allowed else "no", ""),
            ("Mandatory threshold (Art. 63(3))", o.mandatory_threshold, "persons"),
            ("Which number binds", o.mandatory_binding, ""),
            ("Mandatory offsets triggered", "yes" if o.mandatory_triggered else "no", ""),
            ("Gap", o.gap, "persons"), ("Gap after voluntary offsets", o.remaining_gap, "persons"),
            ("Gap no state's cap takes", o.unallocated, "persons")]


def _distribution_rows(s: Summary) -> list[SummaryRow]:
    d = s.distribution
    if d is None:
        return []
    return [("Search-and-rescue states", ", ".join(d.sar_states) or "none", ""),
            ("Their indicative share", d.sar_share, "share"),
            ("Target", d.sar_target_value, RE), ("Received", d.sar_received_value, RE),
            ("Lowest coverage of a stated need", d.min_coverage, "ratio")]


def _matching_rows(s: Summary) -> list[SummaryRow]:
    m = s.matching
    if not m.ran:
        return []
    return [("Candidates", m.persons_total, "persons"),
            ("Eligible", m.persons_eligible, "persons"),
            ("Placed", m.persons_assigned, "persons"),
            ("Family units placed", m.cases_assigned, "cases"),
            ("Families split", m.family_splits, "cases"), ("Places", m.places, "persons"),
            ("At most placeable", m.bound, "persons"),
            *((f"Not placed: {reason.replace('_', ' ')}", n, "persons")
              for reason, n in m.unassigned_by_reason.items())]


def summary_rows(s: Summary) -> list[SummaryRow]:
    """summary.json as labelled sections, each figure with its unit (no timings: they
    would make every rerun differ)."""
    solver = f"{s.solver.name} {s.solver.version}"
    info = list(s.proposal.information) if s.proposal is not None else []
    return [*_section("Run", [("Instance", s.instance, ""), ("Variant", s.variant, ""),
                              ("Status", s.status, ""), ("Solver", solver, ""),
                              ("Planner version", s.version, ""),
                              ("Input (SHA-256)", s.input_sha256, "")]),
            *_section("Pool and key", _pool_rows(s)),
            *_section("Totals", _totals_rows(s)),
            *_section("Responsibility offsets (Art. 63)", _offsets_rows(s)),
            *_section("Distribution (Art. 60(2))", _distribution_rows(s)),
            *_section("Matching", _matching_rows(s)),
            *_section("Warnings", [(w, None, "") for w in s.warnings]),
            *_section("Information", [(i, None, "") for i in info])]


def summary_sheet(workbook: Any, s: Summary) -> None:
    """The `summary` sheet: item, value, unit; each section's heading bold on a grey fill."""
    from openpyxl.styles import Font, PatternFill

    rows = [(label, value, "" if unit == SECTION else unit)
            for label, value, unit in summary_rows(s)]
    rows_sheet(workbook, "summary", ("item", "value", "unit"), rows,
               lambda r, c: UNIT_FORMATS.get(rows[r][2]) if c == 1 else None)
    sheet = workbook["summary"]
    for r, (_, _, unit) in enumerate(summary_rows(s), start=2):
        if unit == SECTION:
            sheet.cell(r, 1).font = Font(bold=True)
            sheet.cell(r, 1).fill = PatternFill("solid", fgColor=SECTION_FILL)


# --- a comparison by state -----------------------------------------------------------------

BY_STATE = (("share", "share", "share"), ("obligation", "obligation (persons)", RE),
            ("obligation_eur", "obligation (EUR)", "EUR"),
            ("relocation", "relocation (persons)", "persons"),
            ("offset", "offset (persons)", "persons"),
            ("financial_eur", "financial (EUR)", "EUR"),
            ("alternative_eur", "alternative (EUR)", "EUR"), ("shortfall", "shortfall", RE))


def by_state_cells(runs: Sequence[tuple[str, Sequence[AllocationRow]]]
                   ) -> tuple[list[str], list[str], list[str], list[list[Cell]]]:
    """The by-state table: group (run) and label of each column, its unit, and one row per
    state (every state of any run, by code). A run's values are its allocation.csv's (empty
    where it has no row for the state); a variant's differences are its value minus the
    base's, a missing row counting 0 (as comparison/states.csv counts it)."""
    tables = [(name, {r.state: r for r in rows}) for name, rows in runs]
    codes = sorted({code for _, table in tables for code in table})
    groups, labels, units = ["state"], ["state"], [""]
    for i, (name, _) in enumerate(tables):
        parts = [(name, label, unit) for _, label, unit in BY_STATE]
        if i:
            parts += [(f"{name} - {tables[0][0]}", f"difference: {label}", unit)
                      for _, label, unit in BY_STATE]
        groups += [g for g, _, _ in parts]
        labels += [lab for _, lab, _ in parts]
        units += [u for _, _, u in parts]
    cells: list[list[Cell]] = []
    for code in codes:
        row: list[Cell] = [code]
        base = tables[0][1].get(code)
        for i, (_, table) in enumerate(tables):
            own = table.get(code)
            row += [float(getattr(own, f)) if own is not None else None for f, _, _ in BY_STATE]
            if i:
                row += [_value(own, f) - _value(base, f) for f, _, _ in BY_STATE]
        cells.append(row)
    return groups, labels, units, cells


def _value(row: AllocationRow | None, field: str) -> float:
    return float(getattr(row, field)) if row is not None else 0.0


def by_state_sheet(workbook: Any, runs: Sequence[tuple[str, Sequence[AllocationRow]]]) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    groups, labels, units, cells = by_state_cells(runs)
    sheet = workbook.create_sheet("by_state")
    first = 1  # one merged, bold, centred cell over each run's columns (row 1)
    for last in range(1, len(groups)):
        if last + 1 < len(groups) and groups[last + 1] == groups[first]:
            continue
        cell = sheet.cell(1, first + 1, groups[first])
        cell.font, cell.alignment = Font(bold=True), Alignment(horizontal="center")
        if last > first:
            sheet.merge_cells(start_row=1, start_column=first + 1, end_row=1, end_column=last + 1)
        first = last + 1
    widths = _header(sheet, 2, labels)
    for r, row in enumerate(cells, start=3):
        for c, value in enumerate(row, start=1):
            number_format = UNIT_FORMATS.get(units[c - 1])
            widths[c - 1] = max(widths[c - 1], len(shown(value, number_format, str(value))))
            _put(sheet, r, c, value, number_format)
    _finish(sheet, widths, 2)
    increase = PatternFill("solid", start_color=INCREASE_FILL, end_color=INCREASE_FILL)
    decrease = PatternFill("solid", start_color=DECREASE_FILL, end_color=DECREASE_FILL)
    for c, label in enumerate(labels, start=1):
        if label.startswith("difference: ") and cells:
            cells_ref = f"{get_column_letter(c)}3:{get_column_letter(c)}{len(cells) + 2}"
            sheet.conditional_formatting.add(cells_ref, CellIsRule(
                operator="greaterThan", formula=[repr(TINY)], fill=increase))
            sheet.conditional_formatting.add(cells_ref, CellIsRule(
                operator="lessThan", formula=[repr(-TINY)], fill=decrease))
