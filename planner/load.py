"""Read an instance folder into validated models, collecting every problem at once.

Files -> rows (with their line numbers) -> pydantic models -> cross-row checks (`checks`).
Nothing here raises on the first problem: each reader appends to a shared list and the
caller raises one `InputError` with all of them.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from models.instance import Instance, InstanceConfig, MemberState, Need, Pledge
from planner.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)

INSTANCE_FILES = ("instance.toml", "member_states.csv", "pledges.csv", "needs.csv",
                  "candidates.csv", "transfers.csv", "rejections.csv")


@dataclass
class Table:
    """A CSV file as read: its header and its rows keyed by column, with line numbers."""

    display: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


@dataclass
class Reader:
    """Reads the files of one instance folder, naming them as the user named the folder."""

    folder: Path
    problems: list[Problem] = field(default_factory=list)

    def display(self, name: str) -> str:
        return str(self.folder / name)

    def problem(self, name: str, line: int, column: str, message: str) -> None:
        self.problems.append(Problem(self.display(name), line, column, message))

    def read_text(self, name: str, required: bool) -> str | None:
        path = self.folder / name
        if not path.exists():
            if required:
                self.problem(name, 0, "-", "required file is missing")
            return None
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = exc.object[:exc.start].count(b"\n") + 1
            self.problem(name, line, "-", f"not UTF-8 text (byte {exc.start}): save the file "
                         "as UTF-8")
            return None
        except OSError as exc:
            self.problem(name, 0, "-", f"cannot be read: {exc.strerror}")
            return None
        return text

    def read_table(self, name: str, required: bool, columns: tuple[str, ...]) -> Table | None:
        """Read a CSV file; check it is non-empty and has the required columns."""
        text = self.read_text(name, required)
        if text is None:
            return None
        lines = text.splitlines()
        if not any(line.strip() for line in lines):
            self.problem(name, 0, "-", "file is empty (a header row is required)")
            return None
        first = lines[0]
        # A spreadsheet saved with `;` as separator: accept it when the header has no comma.
        delimiter = ";" if ";" in first and "," not in first else ","
        reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
        header = [h.strip() for h in next(reader)]
        table = Table(self.display(name), header)
        for position, column in enumerate(header):
            if not column:
                self.problem(name, 1, f"#{position + 1}", "empty column name in the header")
            elif header.index(column) != position:
                self.problem(name, 1, column, "column appears twice in the header")
        missing = [c for c in columns if c not in header]
        for column in missing:
            self.problem(name, 1, column, "required column is missing")
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                self.problem(
                    name, line, "-", f"row has {len(cells)} fields, the header has {len(header)}"
                )
                continue
            table.rows.append((line, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
        return None if missing else table


def _num(limit: object) -> str:
    return format(limit, "g") if isinstance(limit, int | float) else str(limit)


def _message(error: Any) -> str:
    """A pydantic error in the user's words."""
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx", {})
    shown = repr(value) if isinstance(value, str) else value
    messages = {
        "missing": "required value is empty",
        "float_parsing": f"not a number: {shown}",
        "int_parsing": f"not a whole number: {shown}",
        "int_from_float": f"not a whole number: {shown}",
        "bool_parsing": f"not a boolean (true/false, yes/no, 1/0): {shown}",
        "bool_type": f"not a boolean (true/false, yes/no, 1/0): {shown}",
        "greater_than": f"must be greater than {_num(ctx.get('gt'))}, got {value}",
        "greater_than_equal": f"must be at least {_num(ctx.get('ge'))}, got {value}",
        "less_than_equal": f"must be at most {_num(ctx.get('le'))}, got {value}",
        "finite_number": f"must be a finite number, got {shown}",
        "enum": f"{shown} is not one of: {ctx.get('expected', '')}",
        "literal_error": f"{shown} is not one of: {ctx.get('expected', '')}",
        "string_pattern_mismatch": f"{shown} is not a two-letter state code",
        "extra_forbidden": "unknown key",
        "string_too_short": "must not be empty",
    }
    if kind in messages:
        return messages[kind]
    text = str(error.get("msg", kind))
    return text.removeprefix("Value error, ")


def parse_rows(reader: Reader, name: str, table: Table, model: type[M],
               extra: tuple[str, ...] = ()) -> list[tuple[int, M]]:
    """Validate each row into `model`; empty cells are 'not given' so defaults apply."""
    fields = set(model.model_fields)
    parsed: list[tuple[int, M]] = []
    for line, row in table.rows:
        data: dict[str, Any] = {k: v for k, v in row.items() if k in fields and v != ""}
        indicators: dict[str, float] = {}
        for column in extra:
            try:
                indicators[column] = float(row.get(column, ""))
            except ValueError:
                reader.problem(name, line, column, f"not a number: {row.get(column, '')!r}")
        if extra:
            data["indicators"] = indicators
        try:
            parsed.append((line, model.model_validate(data)))
        except ValidationError as exc:
            for error in exc.errors():
                column = str(error["loc"][0]) if error["loc"] else "-"
                reader.problem(name, line, column, _message(error))
    return parsed


def _toml_line(text: str, loc: tuple[Any, ...]) -> int:
    """The line of a dotted key in a TOML text (tomllib keeps no positions)."""
    section, key = ".".join(str(p) for p in loc[:-1]), str(loc[-1]) if loc else ""
    current, lines = "", text.splitlines()
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]", line)
        if header:
            current = header.group(1)
            if current == ".".join(str(p) for p in loc):
                return number
            continue
        name = line.split("=", 1)[0].strip().strip('"')
        if "=" in line and name == key and current == section:
            return number
        if "=" in line and current == "" and section and name == section.split(".")[0]:
            return number
    for number, raw in enumerate(lines, start=1):  # fall back to the section's header
        if section and re.fullmatch(rf"\[\s*{re.escape(section)}\s*\]", raw.strip()):
            return number
    return 1


def read_config(reader: Reader) -> InstanceConfig | None:
    name = "instance.toml"
    text = reader.read_text(name, required=True)
    if text is None:
        return None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        line = int(found.group(1)) if found else 1
        reader.problem(name, line, "-", f"not valid TOML: {str(exc).split(' (at')[0]}")
        return None
    try:
        return InstanceConfig.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
            message = "required key is missing" if error["type"] == "missing" else \
                _message(error)
            reader.problem(name, _toml_line(text, loc), ".".join(map(str, loc)) or "-", message)
        return None


def input_sha256(folder: Path) -> str:
    """One digest over the instance's input files, by name then content."""
    digest = hashlib.sha256()
    for name in INSTANCE_FILES:
        path = folder / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_instance(folder: Path | str) -> Instance:
    """Read and validate an instance folder; raise `InputError` with every problem found."""
    from planner import checks

    reader = Reader(Path(folder))
    if not reader.folder.is_dir():
        raise InputError([Problem(str(reader.folder), 0, "-", "instance folder not found")])
    config = read_config(reader)
    states_table = reader.read_table("member_states.csv", True,
                                     ("code", "name", "population", "gdp_eur_million"))
    pledges_table = reader.read_table("pledges.csv", True, ("state", "measure"))
    needs_table = reader.read_table("needs.csv", False, ("state", "measure", "amount"))

    states: list[tuple[int, MemberState]] = []
    if states_table is not None:
        weights = config.key.weights if config else {}
        extra = tuple(c for c in weights if c not in MemberState.model_fields)
        for column in extra:
            if column not in states_table.header:
                reader.problem("instance.toml", _weight_line(reader), f"key.weights.{column}",
                               f"names column {column!r}, which member_states.csv does not have")
        extra = tuple(c for c in extra if c in states_table.header)
        states = parse_rows(reader, "member_states.csv", states_table, MemberState, extra)
    pledges: list[tuple[int, Pledge]] = []
    if pledges_table is not None:
        if "pledge_id" not in pledges_table.header:
            # Default pledge id: the row's line number (contract: "no (row number)").
            for line, row in pledges_table.rows:
                row["pledge_id"] = str(line)
        pledges = parse_rows(reader, "pledges.csv", pledges_table, Pledge)
    needs = parse_rows(reader, "needs.csv", needs_table, Need) if needs_table else []

    codes = None if states_table is None else {
        row.get("code", "").upper() for _, row in states_table.rows} - {""}
    checks.run_all(reader, config, states, pledges, needs, codes)
    cases, transfers, rejections = read_matching_inputs(reader, states, codes)
    if reader.problems or config is None:
        raise InputError(sorted(set(reader.problems), key=_problem_order))
    return Instance(
        name=reader.folder.name,
        config=config,
        states=tuple(sorted((s for _, s in states), key=lambda s: s.code)),
        pledges=tuple(sorted((p for _, p in pledges), key=lambda p: p.pledge_id)),
        needs=tuple(sorted((n for _, n in needs), key=lambda n: (n.state, n.measure))),
        cases=cases,
        transfers=transfers,
        rejections=rejections,
        source=str(reader.folder),
        input_sha256=input_sha256(reader.folder),
    )


Pairs = tuple[tuple[str, str, int], ...]


def read_matching_inputs(reader: Reader, states: list[tuple[int, MemberState]],
                         codes: set[str] | None) -> tuple[tuple[Any, ...] | None, Pairs, Pairs]:
    """candidates.csv (column-wise), transfers.csv and rejections.csv, cross-checked."""
    from models.candidates import CasePair
    from planner.candidates import build_cases, read_candidates

    frame = None
    if codes is not None:
        frame = read_candidates(reader, codes, {s.code for _, s in states if s.benefitting})
    known_cases = set(frame["case_id"]) if frame is not None else set()
    pairs: dict[str, list[tuple[str, str, int]]] = {}
    for name in ("transfers.csv", "rejections.csv"):
        table = reader.read_table(name, False, ("case_id", "state"))
        pairs[name] = []
        if table is None:
            continue
        if frame is None and table.rows and (reader.folder / "candidates.csv").exists() is False:
            reader.problem(name, 0, "-", "needs candidates.csv")
            continue
        for line, pair in parse_rows(reader, name, table, CasePair):
            if codes is not None and pair.state not in codes:
                reader.problem(name, line, "state", f"unknown state {pair.state}")
            if frame is not None and pair.case_id not in known_cases:
                reader.problem(name, line, "case_id", f"unknown case {pair.case_id!r}")
            pairs[name].append((pair.case_id, pair.state, line))
    first: dict[str, int] = {}
    for case_id, _, line in pairs["transfers.csv"]:
        if case_id in first:
            reader.problem("transfers.csv", line, "case_id",
                           f"case {case_id!r} is already transferred on line {first[case_id]}")
        first.setdefault(case_id, line)
    cases = tuple(build_cases(frame)) if frame is not None else None
    return (cases, tuple(sorted(pairs["transfers.csv"])),
            tuple(sorted(pairs["rejections.csv"])))


def _weight_line(reader: Reader) -> int:
    text = reader.read_text("instance.toml", required=False) or ""
    return _toml_line(text, ("key", "weights"))


_FILE_ORDER = {name: i for i, name in enumerate(INSTANCE_FILES)}


def _problem_order(problem: Problem) -> tuple[int, str, int, str, str]:
    rank = _FILE_ORDER.get(Path(problem.file).name, len(_FILE_ORDER))
    return (rank, problem.file, problem.line, problem.column, problem.message)
