"""The planner's own files written and read back: one CSV pair (`write_table`, `read_table`)
through each table's row model (planner.outputs.registry), and summary.json.

Writing fixes one text per value (`fmt`), so that equal plans give byte-identical files.
Reading validates every row by its model, so a reader gets typed rows exactly as the writer
had them; `count_rows` reads only the columns it is asked for, for the candidate tables of
which the report shows counts only. The independent verifier does not use this module: it
reads the files on its own (planner.verifier.verify).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Iterator, Sequence
from enum import Enum
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

from pydantic import BaseModel, TypeAdapter, ValidationError

from models.results import Summary
from planner.errors import PlanError
from planner.outputs.registry import OutputFile

M = TypeVar("M", bound=BaseModel)


class TableError(PlanError):
    """A file of the planner's own is not as its model says (`FILE:LINE: COLUMN: message`)."""


def fmt(value: object) -> str:
    """One fixed text form per value, so that equal plans give byte-identical files."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Nine decimals at most, then the shortest text that reads back as the same number.
        rounded = round(value, 9) + 0.0  # + 0.0 turns -0.0 into 0.0
        text = repr(rounded)
        if "e" in text or "inf" in text or "nan" in text:
            text = f"{rounded:.9f}".rstrip("0").rstrip(".")
        return text.removesuffix(".0")
    if isinstance(value, tuple | list):
        return ";".join(fmt(v) for v in value)
    return str(value)


# Types whose equal values always have the same `fmt` text (within one type; 0.0 and -0.0
# both give "0"), so a column of one of them is formatted once per distinct value.
_CACHEABLE = (float, int, bool, type(None), Enum)


def fmt_column(values: list[object]) -> list[object]:
    """`fmt` of every value of one column, the same texts computed column-wise: a column of
    exact strings as it is, numbers and enums once per distinct value, tuples of strings
    joined once per distinct tuple; anything else through `fmt` cell by cell."""
    kinds = set(map(type, values))
    if kinds <= {str}:  # fmt(text) is str(text): the text itself
        return values
    if (len(kinds) == 1 or kinds <= {float, type(None)}) \
            and all(issubclass(kind, _CACHEABLE) for kind in kinds):
        # Not across types: True == 1 == 1.0 but their texts differ.
        texts = {value: fmt(value) for value in set(values)}
        return [texts[value] for value in values]
    if kinds == {tuple}:
        parts = cast(list[tuple[object, ...]], values)
        if all(type(part) is str for value in parts for part in value):
            joined = {value: ";".join(cast(tuple[str, ...], value)) for value in set(parts)}
            return [joined[value] for value in parts]
    return [fmt(value) for value in values]


def create_file(path: Path, private: bool) -> int:
    """A new (or emptied) file; a private one is 0600 from its creation, whatever the umask
    or an earlier file's mode, never readable by others even for a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
    if private:
        os.fchmod(fd, 0o600)
    return fd


def table_bytes(table: OutputFile[M], rows: Sequence[M]) -> bytes:
    """The file's bytes: the rows under the model's columns, each cell as `fmt` writes it
    (formatted a column at a time: a call per cell took 0.24 s for the 27,500 persons of a
    monthly run). The one writer of the tables, on disk (`write_table`) or in memory
    (planner.pipeline.render)."""
    columns = list(table.model.model_fields)
    texts = [fmt_column([getattr(row, c) for row in rows]) for c in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*texts, strict=True))
    return buffer.getvalue().encode("utf-8")


def write_file(path: Path, data: bytes, private: bool) -> None:
    """Create `path`; a private one is 0600 from its creation, never readable by others."""
    with open(create_file(path, private), "wb") as handle:
        handle.write(data)


def write_table(path: Path, table: OutputFile[M], rows: Sequence[M]) -> None:
    write_file(path, table_bytes(table, rows), table.personal)


def _rows(path: Path, table: OutputFile[Any]) -> Iterator[tuple[int, list[str]]]:
    """The data rows' line numbers (the file's: the last line of a row that spans several)
    and fields, one row at a time, once the header is the model's; a row of another width
    (a blank line too) is an error at its line."""
    names = list(table.model.model_fields)
    if not path.is_file():
        raise TableError(f"{path.name}: missing")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        if next(reader, []) != names:
            raise TableError(f"{path.name}: columns differ from {table.model.__name__}")
        for fields in reader:
            if len(fields) != len(names):
                raise TableError(f"{path.name}:{reader.line_num}: {len(fields)} fields, "
                                 f"{len(names)} columns")
            yield reader.line_num, fields


def read_table(path: Path, table: OutputFile[M]) -> list[M]:
    """A table the planner wrote, each row validated by the table's model."""
    names = list(table.model.model_fields)
    rows = []
    for line, fields in _rows(path, table):
        try:
            rows.append(table.model.model_validate(dict(zip(names, fields, strict=True))))
        except ValidationError as exc:
            error = exc.errors()[0]
            raise TableError(f"{path.name}:{line}: {error['loc'][0]}: {error['msg']}") from exc
    return rows


def count_rows(path: Path, table: OutputFile[Any], columns: Sequence[str]
               ) -> Counter[tuple[Any, ...]]:
    """How many rows hold each combination of the named columns' values, each value validated
    by its field's type, once per distinct text (reading every row through the model took
    ~0.3 s for 27,000 candidates). For a table of which the reader needs counts only: the
    candidate tables of the report."""
    names = list(table.model.model_fields)
    missing = [c for c in columns if c not in names]
    if missing:
        raise TableError(f"{path.name}: no column {', '.join(missing)}")
    pick = itemgetter(*(names.index(c) for c in columns))
    rows = (fields for _, fields in _rows(path, table))
    counts = Counter(map(pick, rows) if len(columns) > 1 else ((pick(f),) for f in rows))
    for i, column in enumerate(columns):
        texts = list({combo[i] for combo in counts})
        values = _validated(path, table, column, texts)
        if values != texts or set(map(type, values)) - {str}:  # not the texts themselves
            typed = dict(zip(texts, values, strict=True))
            remapped: Counter[tuple[Any, ...]] = Counter()
            for combo, n in counts.items():  # two texts of one value ("1", "1.0") add up
                remapped[(*combo[:i], typed[combo[i]], *combo[i + 1:])] += n
            counts = remapped
    return counts


def _validated(path: Path, table: OutputFile[Any], column: str, texts: list[str]
               ) -> list[Any]:
    """The texts of a column as its field's type makes them, in one validation. A text the
    field refuses is an error at the first line holding one."""
    info = table.model.model_fields[column]
    kind: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    adapter: TypeAdapter[list[Any]] = TypeAdapter(list[kind], config=table.model.model_config)
    try:
        return adapter.validate_python(texts)
    except ValidationError as exc:
        refused = {texts[int(e["loc"][0])]: e["msg"] for e in exc.errors()}
        at = list(table.model.model_fields).index(column)
        line, text = next((n, f[at]) for n, f in _rows(path, table) if f[at] in refused)
        raise TableError(f"{path.name}:{line}: {column}: {refused[text]}") from exc


def summary_bytes(summary: Summary) -> bytes:
    # `replan` is written only by a re-plan: an annual plan's file stays as it was.
    data = summary.model_dump(mode="json", exclude={"replan"} if summary.replan is None
                              else None)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def write_summary(path: Path, summary: Summary) -> None:
    path.write_bytes(summary_bytes(summary))


def read_summary(path: Path) -> Summary:
    return Summary.model_validate(json.loads(path.read_text(encoding="utf-8")))
