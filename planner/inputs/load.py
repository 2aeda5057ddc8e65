"""Read an instance folder into validated models, collecting every problem at once.

Files -> rows (with their line numbers) -> pydantic models -> cross-row checks (`checks`).
Nothing here raises on the first problem: each reader appends to a shared list and the
caller raises one `InputError` with all of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from models.cases import Case
from models.instance import (
    Instance,
    InstanceConfig,
    Ledger,
    MemberState,
    Need,
    Origin,
    Pledge,
    Responsibility,
)
from planner.errors import InputError, Problem
from planner.inputs import checks
from planner.inputs.candidates import build_cases, read_candidates
from planner.inputs.ledger import read_ledger, transfer_dates
from planner.inputs.numbers import NumberFormat
from planner.inputs.overrides import Assignment, RunInputs, assignments, sets_variant
from planner.inputs.protection import rule_of
from planner.inputs.reader import (
    CsvTable,
    Reader,
    cell_message,
    numeric_annotation,
    parse_rows,
    parse_toml,
    toml_line,
    toml_text_line,
)
from planner.inputs.variants import apply_pledges, apply_states, read_variant

INSTANCE_FILES = ("instance.toml", "member_states.csv", "pledges.csv", "needs.csv",
                  "responsibility.csv", "candidates.csv", "transfers.csv", "rejections.csv")

def read_config(reader: Reader) -> InstanceConfig | None:
    name = "instance.toml"
    text = reader.read_text(name, required=True)
    if text is None:
        return None
    if not text.strip():
        reader.problem(name, 0, "-", "file is empty (name, cycle and [pool] are required)")
        return None
    raw = parse_toml(reader, name, text)
    if raw is None:
        return None
    if reader.variant is not None:
        raw = reader.variant.merged(raw)
    # pydantic takes true for 1: in instance.toml a boolean where a number belongs is a slip.
    flags = list(_booleans_for_numbers(raw, InstanceConfig, ()))
    for flag in flags:
        reader.problem(name, toml_text_line(text, flag), ".".join(flag),
                       f"not a number: {str(_get(raw, flag)).lower()}")
    try:
        config = InstanceConfig.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
            if error["type"] == "value_error" and any(f[:len(loc)] == loc for f in flags):
                continue  # a table's own check of a boolean taken for 1: reported above
            message = "required key is missing" if error["type"] == "missing" else \
                cell_message(error)
            reader.problem(name, toml_text_line(text, loc), ".".join(map(str, loc)) or "-", message)
        return None
    return None if flags else config


def _booleans_for_numbers(raw: dict[str, Any], model: type[BaseModel], loc: tuple[str, ...]
                          ) -> Iterator[tuple[str, ...]]:
    """Where a TOML boolean stands for a number field of `model` (or a number in a table of
    numbers such as key.weights)."""
    for key, value in raw.items():
        info = model.model_fields.get(key)
        if info is None:
            continue
        annotation = info.annotation
        if isinstance(value, dict):
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                yield from _booleans_for_numbers(value, annotation, (*loc, key))
            elif get_origin(annotation) is dict and numeric_annotation(get_args(annotation)[1]):
                yield from ((*loc, key, k) for k, v in value.items() if isinstance(v, bool))
        elif isinstance(value, bool) and numeric_annotation(annotation):
            yield (*loc, key)


def _get(raw: dict[str, Any], loc: tuple[str, ...]) -> Any:
    for key in loc:
        raw = raw[key]
    return raw


def input_sha256(folder: Path, files: dict[str, str] | None = None,
                 variant: str | None = None, overrides: str = "") -> str:
    """One digest over the instance's input files, by name then content (a variant's
    replacement tables in place of the instance's, then the variant's own file, then the
    `--set` overrides as given, when any)."""
    files = files or {}
    digest = hashlib.sha256()
    for name in INSTANCE_FILES:
        path = folder / files.get(name, name)
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    if variant is not None:
        digest.update(variant.encode() + b"\0" + (folder / variant).read_bytes() + b"\0")
    if overrides:
        digest.update(b"--set\0" + overrides.encode() + b"\0")
    return digest.hexdigest()


def load_instance(folder: Path | str, variant: str | None = None,
                  sets: Sequence[str | Assignment] = (), name: str = "") -> Instance:
    """Read and validate an instance folder, or one of its variants (`variants/NAME.toml`
    applied over it, see `planner.inputs.variants`), with the `sets` (`KEY=VALUE`,
    `planner.inputs.overrides`) over them; raise `InputError` with every problem found.
    `name`: the run's name where the sets make a variant of their own (`--variant-set`)."""

    reader = _open(Path(folder), variant, sets, name)
    config = read_config(reader)
    if config is not None:
        reader.numbers = number_format(config)
    weights = config.key.weights if config else {}
    extra = tuple(c for c in weights if c not in MemberState.model_fields)
    states_table = reader.read_table("member_states.csv", True,
                                     ("code", "name", "population", "gdp_eur_million"),
                                     (*_columns(MemberState), *extra))
    pledges_table = reader.read_table("pledges.csv", True, ("state", "measure"),
                                      _columns(Pledge))
    needs_table = reader.read_table("needs.csv", False, ("state", "measure", "amount"))
    states, codes = _read_states(reader, states_table, extra)
    pledges = _read_pledges(reader, pledges_table)
    needs = parse_rows(reader, "needs.csv", needs_table, Need) \
        if needs_table is not None and needs_table.usable else []

    checks.run_all(reader, config, states, pledges, needs, codes)
    responsibility = read_responsibility(reader, states, pledges, codes)
    checks.refused_by(reader, config, states, codes)
    cycle = config.cycle if config else None
    dates: dict[str, dt.date] = {}
    cases, transfers, rejections, transfer_lines = read_matching_inputs(reader, states, codes,
                                                                        cycle, config, dates)
    # The ledger records the adopted pool's year; a variant is another proposal, so it is
    # neither read nor checked against the variant's pledges (planner.inputs.ledger).
    days = config.cycle_days if config else None
    ledger = read_ledger(reader, states, pledges, codes, days, dates, bool(transfers)) \
        if reader.variant is None else Ledger(transfer_dates=dates)
    if reader.variant is not None:
        reader.problems = reader.variant.relocate(reader.problems, reader)
    if reader.problems or config is None:
        raise InputError(sorted(set(reader.problems), key=lambda p: _problem_order(p, reader)))
    return Instance(
        name=reader.folder.name,
        config=config,
        states=tuple(sorted((s for _, s in states), key=lambda s: s.code)),
        pledges=tuple(sorted((p for _, p in pledges), key=lambda p: p.pledge_id)),
        needs=tuple(sorted((n for _, n in needs), key=lambda n: (n.state, n.measure))),
        responsibility=responsibility,
        cases=cases,
        transfers=transfers,
        rejections=rejections,
        input_sha256=_digest(reader),
        origin=Origin(folder=str(reader.folder), transfer_lines=transfer_lines),
        ledger=ledger,
    )


def load_inputs(folder: Path | str, inputs: RunInputs) -> Instance:
    """`load_instance` for one run's inputs (`planner.inputs.overrides.RunInputs`)."""
    return load_instance(folder, inputs.variant, inputs.sets, inputs.name)


def _digest(reader: Reader) -> str:
    chain = reader.variant.chain() if reader.variant is not None else []
    files = [v.file for v in chain if not v.places]
    sets = "\n".join(v.text for v in chain if v.places)
    return input_sha256(reader.folder, reader.files, files[0] if files else None, sets)


def _open(folder: Path, variant: str | None, sets: Sequence[str | Assignment] = (),
          name: str = "") -> Reader:
    """A reader of the instance folder, with its variant's file read, the `sets` over it and
    the replacement tables named; `InputError` when the folder or the variant cannot be
    read."""
    reader = Reader(folder)
    if not reader.folder.is_dir():
        raise InputError([Problem(str(reader.folder), 0, "-", "instance folder not found")])
    if variant is not None:
        reader.variant = read_variant(reader, variant)
        if reader.variant is None:
            raise InputError(reader.problems)
    if sets:
        reader.variant = sets_variant(reader, name or variant or "base", assignments(sets),
                                      reader.variant)
    if reader.variant is not None:
        reader.files = {k: v for each in reader.variant.chain() for k, v in each.tables.items()}
    return reader


def _read_states(reader: Reader, table: CsvTable | None, extra: tuple[str, ...]
                 ) -> tuple[list[tuple[int, MemberState]], set[str] | None]:
    """member_states.csv's rows (a variant's changes applied) with the key's extra weight
    columns (`extra`, each required in the file), and every state code it names (None when
    not known: file missing or broken, or a code that is not one)."""
    if table is None:
        return [], None
    if table.usable and reader.variant is not None:
        for variant in reader.variant.chain():
            apply_states(reader, variant, table, (*_columns(MemberState), *extra))
    for column in extra:
        if column not in table.header:
            reader.problem("instance.toml", toml_line(reader, ("key", "weights")),
                           f"key.weights.{column}",
                           f"names column {column!r}, which member_states.csv does not have")
    if table.usable and not table.named:
        reader.problem("member_states.csv", 0, "-", "no states (one row per state is "
                       "required)")
    elif table.usable:
        columns = tuple(c for c in extra if c in table.header)
        return (parse_rows(reader, "member_states.csv", table, MemberState, columns),
                table.codes("code"))
    return [], None


def _read_pledges(reader: Reader, table: CsvTable | None) -> list[tuple[int, Pledge]]:
    """pledges.csv's rows; without a pledge_id column, each row's id is its line number
    (contract: "no (row number)")."""
    if table is None or not table.usable:
        return []
    if "pledge_id" not in table.header:
        for line, row in table.rows:
            row["pledge_id"] = str(line)
    if reader.variant is not None:
        for variant in reader.variant.chain():
            apply_pledges(reader, variant, table, _columns(Pledge))
    return parse_rows(reader, "pledges.csv", table, Pledge)


def read_responsibility(reader: Reader, states: list[tuple[int, MemberState]],
                        pledges: list[tuple[int, Pledge]], codes: set[str] | None
                        ) -> tuple[Responsibility, ...] | None:
    """responsibility.csv (optional; Art. 63, rules section 5), checked row by row
    (planner.inputs.checks.responsibility_rows); None when the instance has no such file."""

    name = "responsibility.csv"
    if not reader.path(name).exists():
        return None
    table = reader.read_table(name, False, ("state", "benefitting", "persons"))
    rows = parse_rows(reader, name, table, Responsibility) \
        if table is not None and table.usable else []
    checks.responsibility_rows(reader, states, rows, codes)
    checks.offset_minimums(reader, pledges, rows)
    return tuple(sorted((r for _, r in rows), key=lambda r: (r.state, r.benefitting)))


def number_format(config: InstanceConfig) -> NumberFormat:
    """The number format instance.toml declares (`[input]`), or the default one."""
    given = config.input.model_fields_set if "input" in config.model_fields_set else set()
    return NumberFormat(config.input.decimal, config.input.thousands, declared=bool(given))


def _columns(model: type[BaseModel]) -> tuple[str, ...]:
    """The CSV columns of a row model (`indicators` holds the key's extra columns)."""
    return tuple(c for c in model.model_fields if c != "indicators")


Pairs = tuple[tuple[str, str], ...]  # (case_id, state)


def read_matching_inputs(reader: Reader, states: list[tuple[int, MemberState]],
                         codes: set[str] | None, cycle: int | None = None,
                         config: InstanceConfig | None = None,
                         dates: dict[str, dt.date] | None = None
                         ) -> tuple[tuple[Case, ...] | None, Pairs, Pairs, dict[str, int]]:
    """candidates.csv (column-wise), transfers.csv and rejections.csv, cross-checked: the
    cases, the transfers (in the file's order), the rejections, and each transferred case's
    line in transfers.csv.

    `codes` are all the state codes member_states.csv names, None when they are not known
    (file missing or broken, or a code that is not one); `states` are the rows that parsed,
    the only ones whose benefitting status is known. `dates`, when given, receives the
    transfers' dates (transfers.csv's optional `date` column, planner.inputs.ledger)."""
    from models.candidates import CasePair, Transfer

    benefitting = {s.code for _, s in states if s.benefitting}
    others = {s.code for _, s in states if not s.benefitting}
    frame = read_candidates(reader, codes, benefitting, others, cycle)
    # tolist: iterating an Arrow-backed column yields its cells one by one, 20 times slower.
    known_cases = set(frame["case_id"].tolist()) if frame is not None else set()
    pairs: dict[str, list[tuple[str, str, int]]] = {}
    for name in ("transfers.csv", "rejections.csv"):
        table = reader.read_table(name, False, ("case_id", "state"),
                                  _columns(Transfer if name == "transfers.csv" else CasePair))
        pairs[name] = []
        if table is None or not table.usable:
            continue
        if name == "transfers.csv" and dates is not None:
            dates.update(transfer_dates(reader, table, config.cycle_days if config else None))
        if table.rows and not (reader.folder / "candidates.csv").exists():
            reader.problem(name, 0, "-", "names cases, but the instance has no candidates.csv")
            continue
        for line, case_id, state in parse_pairs(reader, name, table):
            if codes is not None and state not in codes:
                reader.problem(name, line, "state", f"unknown state {state}")
            elif name == "transfers.csv" and state in benefitting:
                reader.problem(name, line, "state", f"{state} is benefitting this cycle "
                               "and receives no relocations (rules section 4)")
            if frame is not None and case_id not in known_cases:
                reader.problem(name, line, "case_id", f"unknown case {case_id!r}")
            pairs[name].append((case_id, state, line))
    _check_repeats(reader, pairs)
    # Beneficiaries' protection dates against pool.adopted (Art. 56(2)(a)(ii)).
    cases = tuple(build_cases(frame, rule_of(config))) if frame is not None else None
    # In file order, so that problems found later about transfers (places) come line by line.
    transfers = sorted(pairs["transfers.csv"], key=lambda p: p[2])
    return (cases, tuple((case_id, state) for case_id, state, _ in transfers),
            tuple((case_id, state) for case_id, state, _ in sorted(pairs["rejections.csv"])),
            {case_id: line for case_id, _, line in transfers})


def _check_repeats(reader: Reader, pairs: dict[str, list[tuple[str, str, int]]]) -> None:
    """A case transferred once only, and never refused by the state it was transferred to."""
    first: dict[str, tuple[str, int]] = {}
    for case_id, state, line in pairs["transfers.csv"]:
        if case_id in first:
            reader.problem("transfers.csv", line, "case_id", f"case {case_id!r} is already "
                           f"transferred on line {first[case_id][1]}")
        first.setdefault(case_id, (state, line))
    for case_id, state, line in pairs["rejections.csv"]:
        if first.get(case_id, ("", 0))[0] == state:
            reader.problem("rejections.csv", line, "state", f"case {case_id!r} was transferred "
                           f"to {state} (transfers.csv line {first[case_id][1]}), so {state} "
                           "cannot have refused it")


def parse_pairs(reader: Reader, name: str, table: CsvTable) -> list[tuple[int, str, str]]:
    """The rows of transfers.csv or rejections.csv as (line, case_id, state), checked by
    `models.candidates.CasePair` once per distinct state (a monthly re-run lists tens of
    thousands of transfers over a few states). A case id is only required to be non-empty, so
    a row's problems depend on its state cell and on whether its case id is empty: that pair
    is validated once, with the messages `parse_rows` would give."""
    from models.candidates import CasePair

    checked: dict[tuple[bool, str], str | list[tuple[str, str]]] = {}
    parsed: list[tuple[int, str, str]] = []
    for line, row in table.rows:
        case_id, state = row.get("case_id", ""), row.get("state", "")
        key = (case_id == "", state)
        if key not in checked:
            data = {k: v for k, v in (("case_id", "-" if case_id else ""), ("state", state))
                    if v != ""}
            try:
                checked[key] = CasePair.model_validate(data).state
            except ValidationError as exc:
                checked[key] = [(str(e["loc"][0]) if e["loc"] else "-", cell_message(e))
                                for e in exc.errors()]
        outcome = checked[key]
        if isinstance(outcome, str):
            parsed.append((line, case_id, outcome))
        else:
            for column, message in outcome:
                reader.problem(name, line, column, message)
    return parsed


_FILE_ORDER = {name: i for i, name in enumerate(INSTANCE_FILES)}


def _problem_order(problem: Problem, reader: Reader) -> tuple[int, int, str, int, str, str]:
    """Files in INSTANCE_FILES order (a replacement table in its table's place, a variant's
    own file right after instance.toml), then line by line."""
    names = {reader.display(name): name for name in INSTANCE_FILES}
    if reader.variant is not None:
        for variant in reader.variant.chain():
            names[reader.display(variant.file)] = names[variant.file] = "instance.toml"
    name = names.get(problem.file, Path(problem.file).name)
    rank = _FILE_ORDER.get(name, len(_FILE_ORDER))
    return (rank, int(name != Path(problem.file).name), problem.file, problem.line,
            problem.column, problem.message)
