"""What-if overrides without writing files: `--set KEY=VALUE` (issue 17, item 4).

A list of `KEY=VALUE` assignments is read as one variant (`planner.inputs.variants.Variant`),
applied over the instance or over a variant file, so that it is validated exactly as a
variant is, with the same messages. KEY is dotted:

* a key of instance.toml: `pool.relocations=30000`, `offsets.refused_by=IT;ES`; a free table
  such as `key.weights` is replaced by the keys given together, as a variant file replaces it
  (`key.weights.population=0.6 key.weights.gdp_eur_million=0.4`), except that some of the
  key's weights alone keep the others in proportion, rescaled to what is left
  (`key.weights.population=0.6` over 50/50: 60/40; `planner.inputs.variants.rescaled_weights`);
* a cell of member_states.csv: `member_states.PL.deduction=0`;
* a cell of pledges.csv: `pledges.FR-2.max=60000000` (the row whose pledge_id is FR-2);
* a replacement table: `tables.pledges=variants/pledges-all-relocation.csv`.

VALUE is typed by the schema (`models.instance.InstanceConfig`): text where the key is text
(`name`, `pool.rounding=none`), a `;`-list where it is a list, else a TOML value (`30000`,
`0.6`, `true`, `2025-12-19`, `["FR-IT", "FR-EL"]`); a cell of a table is its CSV text. Every
problem names the assignment as the user wrote it (`--set pool.relocations=-5:
pool.relocations: must be greater than 0, got -5`) instead of a file and line.
"""

from __future__ import annotations

import json
import tomllib
import types
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator

from models.instance import InstanceConfig
from planner.inputs.reader import Reader
from planner.inputs.variants import Variant, variant_of_raw

SET_FILE = "--set"
ROW_TABLES = ("member_states", "pledges")  # KEY = TABLE.ROW.COLUMN names a cell
# One assignment: (label, "KEY=VALUE"); the label names it in problems ("--set").
Assignment = tuple[str, str]


def assignments(values: Sequence[str | Assignment], label: str = SET_FILE
                ) -> list[Assignment]:
    """Plain `KEY=VALUE` texts labelled with `label`; labelled ones kept as they are."""
    return [(label, value) if isinstance(value, str) else value for value in values]


def sets_variant(reader: Reader, name: str, given: Sequence[Assignment],
                 under: Variant | None) -> Variant:
    """The assignments as one variant applied over `under` (a variant file, or None: the
    instance); the problem of each one that cannot be read is reported."""
    raw: dict[str, Any] = {}
    text, places, at = _text(given)
    seen: dict[str, int] = {}
    for (_, written), line in zip(given, at, strict=True):
        key, sep, value = written.partition("=")
        key = key.strip()
        parts = key_parts(key)
        if not sep or not key or not all(parts):
            reader.problem(SET_FILE, line, key or "-", "expected KEY=VALUE with a dotted KEY "
                           "such as pool.relocations=30000")
        elif key in seen:
            reader.problem(SET_FILE, line, key, f"set twice (first by {places[seen[key]]})")
        elif not _put(raw, parts, typed_value(parts, value.strip())):
            reader.problem(SET_FILE, line, key, "conflicts with another KEY=VALUE that "
                           "sets a table above or inside this key")
        seen.setdefault(key, line)
    variant = variant_of_raw(reader, name, SET_FILE, text, raw, places)
    variant.under = under
    return variant


def _text(given: Sequence[Assignment]) -> tuple[str, dict[int, str], list[int]]:
    """The assignments as the lines of a TOML text, so that a problem's dotted key finds its
    line (`planner.inputs.reader.toml_text_line`): the top-level keys first, then two lines
    each, the table header of the key's parent and `key = value`. Also each line's place
    (the assignment as given, `--set pool.relocations=30000`) and each assignment's line."""
    split = [(f"{label} {written}", key_parts(written.partition("=")[0].strip()),
              json.dumps(written.partition("=")[2].strip())) for label, written in given]
    lines: list[str] = []
    places: dict[int, str] = {}
    at: dict[int, int] = {}
    for top in (True, False):
        for number, (place, parts, value) in enumerate(split):
            if (len(parts) == 1) != top:
                continue
            if not top:
                lines.append(f"[{'.'.join(parts[:-1])}]")
                places[len(lines)] = place
            lines.append(f"{parts[-1]} = {value}")
            at[number] = len(lines)
            places[len(lines)] = place
    return "\n".join(lines), places, [at[n] for n in range(len(split))]


def key_parts(key: str) -> tuple[str, ...]:
    """A dotted KEY's parts; TABLE.ROW.COLUMN keeps a row id with dots in it whole."""
    parts = tuple(part.strip() for part in key.split("."))
    if parts[0] in ROW_TABLES and len(parts) > 3:
        return parts[0], ".".join(parts[1:-1]), parts[-1]
    return parts


def _put(raw: dict[str, Any], parts: tuple[str, ...], value: Any) -> bool:
    """Set raw[p0][p1]...= value; False when a value is already where a table goes."""
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return False
    if parts[-1] in node:
        return False
    node[parts[-1]] = value
    return True


_NOT_TOML = object()


def _toml_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return _NOT_TOML


def typed_value(parts: tuple[str, ...], text: str) -> Any:
    """VALUE as the schema reads KEY (module docstring); a table's cell stays its text."""
    if parts[0] in ROW_TABLES or parts[0] == "tables":
        return text
    annotation, metadata = _annotation(parts)
    bare = _bare(annotation)
    value = _toml_value(text)
    if _textual(bare):
        return value if isinstance(value, str) else text
    if get_origin(bare) is tuple and value is _NOT_TOML:
        if _reads_text(annotation, metadata):
            return text  # the model's own `;`-list rule (models.instance.parse_list)
        return [part.strip() for part in text.split(";") if part.strip()]
    return text if value is _NOT_TOML else value


def _reads_text(annotation: Any, metadata: list[Any]) -> bool:
    """Whether the field reads a text itself (a BeforeValidator, such as the `;`-lists)."""
    while get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        metadata = [*metadata, *get_args(annotation)[1:]]
    return any(isinstance(m, BeforeValidator) for m in metadata)


def _textual(bare: Any) -> bool:
    return bare is str or get_origin(bare) is Literal or (
        isinstance(bare, type) and issubclass(bare, Enum))


def _bare(annotation: Any) -> Any:
    """The type under Annotated[...] and `| None`."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            others = [a for a in get_args(annotation) if a is not type(None)]
            if len(others) != 1:
                return annotation
            annotation = others[0]
        else:
            return annotation


def _annotation(parts: tuple[str, ...]) -> tuple[Any, list[Any]]:
    """The type instance.toml gives the dotted key and its field's metadata (None, [] when
    the schema has no such key)."""
    node: Any = InstanceConfig
    annotation: Any = None
    metadata: list[Any] = []
    for part in parts:
        if isinstance(node, type) and issubclass(node, BaseModel):
            info = node.model_fields.get(part)
            if info is None:
                return None, []
            annotation, metadata = info.annotation, list(info.metadata)
        elif get_origin(node) is dict:
            annotation, metadata = get_args(node)[1], []
        else:
            return None, []
        node = _bare(annotation)
    return annotation, metadata


@dataclass(frozen=True)
class RunInputs:
    """What one run reads (picklable, for `planner compare`'s workers): `name` is the run's
    name (summary.json `variant`, its folder in a comparison), `variant` the
    `variants/NAME.toml` applied (None: the instance alone), `sets` the assignments over
    them."""

    name: str = "base"
    variant: str | None = None
    sets: tuple[Assignment, ...] = ()

    @staticmethod
    def named(name: str, sets: Sequence[str | Assignment] = ()) -> RunInputs:
        """The base ("base") or the variant file `name`, with `sets` over it."""
        return RunInputs(name, None if name == "base" else name, tuple(assignments(sets)))
