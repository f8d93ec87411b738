"""CSV import of the registry: validate every row first, then insert all of it or nothing.

The report lists every problem as (row, field, reason); row 1 is the header, so the first data
row is row 2, as a spreadsheet shows it. References may point at rows earlier in the same file.
A community admin may only import objects inside their own community.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import Connection, Table, select

from hub.auth import Principal
from hub.store.schema import areas, compounds, edge_compounds, houses, residents, workers

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"0", "false", "no", "n", "否", ""}
LEVELS = ("district", "street", "community", "grid")
_PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}


@dataclass(frozen=True)
class Problem:
    row: int
    field: str
    reason: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    imported: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = True
    kind: str = "text"  # text | id | bool | int
    max_len: int = 200


KINDS: dict[str, tuple[Table, str, tuple[Column, ...]]] = {
    "areas": (
        areas,
        "area_id",
        (
            Column("area_id", kind="id"),
            Column("level"),
            Column("name", max_len=128),
            Column("parent_id", required=False, kind="id"),
        ),
    ),
    "compounds": (
        compounds,
        "compound_id",
        (Column("compound_id", kind="id"), Column("community_id", kind="id"), Column("name")),
    ),
    "houses": (
        houses,
        "house_id",
        (
            Column("house_id", kind="id"),
            Column("compound_id", kind="id"),
            Column("grid_id", kind="id"),
            Column("building", required=False, max_len=32),
            Column("unit", required=False, max_len=32),
            Column("address"),
            Column("vacant", required=False, kind="bool"),
        ),
    ),
    "residents": (
        residents,
        "resident_id",
        (
            Column("resident_id", kind="id"),
            Column("house_id", kind="id"),
            Column("name", max_len=128),
            Column("phone", required=False, max_len=32),
            Column("care_recipient", required=False, kind="bool"),
            Column("active", required=False, kind="bool"),
        ),
    ),
    "workers": (
        workers,
        "worker_id",
        (
            Column("worker_id", kind="id"),
            Column("name", max_len=128),
            Column("grid_id", kind="id"),
            Column("leader", required=False, kind="bool"),
        ),
    ),
    "edges": (
        edge_compounds,
        "edge_id",
        (
            Column("edge_id", kind="id"),
            Column("compound_id", kind="id"),
            # The roster version an edge already holds (seeded before it joined the hub).
            Column("roster_version", required=False, kind="int"),
        ),
    ),
}
_BOOL_DEFAULTS = {"active": True}


_CHUNK = 1000  # rows read, checked and inserted together

# The ids a row of each kind refers to: (field, kind referred to).
_REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "areas": (("parent_id", "areas"),),
    "compounds": (("community_id", "areas"),),
    "houses": (("compound_id", "compounds"), ("grid_id", "areas")),
    "residents": (("house_id", "houses"),),
    "workers": (("grid_id", "areas"),),
    "edges": (("compound_id", "compounds"),),
}


class _Lookup:
    """The registry rows this file refers to, plus the rows accepted so far from this file.

    Areas are read whole (a district has hundreds); every other kind only for the ids the file
    names, a chunk at a time (issue 19: a million residents are not read to import ten).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.area_level: dict[str, str] = {}
        self.area_parent: dict[str, str | None] = {}
        for row in conn.execute(select(areas.c.area_id, areas.c.level, areas.c.parent_id)):
            self.area_level[row.area_id] = row.level
            self.area_parent[row.area_id] = row.parent_id
        self.compound_community: dict[str, str] = {}
        self.house_grid: dict[str, str] = {}
        self.ids: dict[str, set[str]] = {kind: set() for kind in KINDS}
        self.ids["areas"] = set(self.area_level)
        self._looked_up: dict[str, set[str]] = {kind: set() for kind in KINDS}

    def fetch(self, kind: str, wanted: set[str]) -> None:
        """Look up the ids of ``kind`` not looked up yet (existing rows join ``ids``)."""
        if kind == "areas":
            return
        table, key, _ = KINDS[kind]
        todo = sorted(wanted - self._looked_up[kind] - self.ids[kind])
        self._looked_up[kind].update(todo)
        for start in range(0, len(todo), 500):
            batch = todo[start : start + 500]
            if kind == "compounds":
                for r in self.conn.execute(
                    select(compounds.c.compound_id, compounds.c.community_id).where(
                        compounds.c.compound_id.in_(batch)
                    )
                ):
                    self.compound_community[r.compound_id] = r.community_id
                    self.ids[kind].add(r.compound_id)
            elif kind == "houses":
                for r in self.conn.execute(
                    select(houses.c.house_id, houses.c.grid_id).where(houses.c.house_id.in_(batch))
                ):
                    self.house_grid[r.house_id] = r.grid_id
                    self.ids[kind].add(r.house_id)
            else:
                self.ids[kind].update(
                    str(v)
                    for v in self.conn.scalars(select(table.c[key]).where(table.c[key].in_(batch)))
                )

    def community_of_grid(self, grid_id: str) -> str | None:
        return self.area_parent.get(grid_id)

    def community_of_area(self, area_id: str | None) -> str | None:
        seen = 0
        while area_id is not None and seen < 5:
            if self.area_level.get(area_id) == "community":
                return area_id
            area_id = self.area_parent.get(area_id)
            seen += 1
        return None


def _parse(
    columns: tuple[Column, ...], raw: dict[str, str], line: int, problems: list[Problem]
) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    ok = True
    for column in columns:
        text = (raw.get(column.name) or "").strip()
        if not text and column.required:
            problems.append(Problem(line, column.name, "required"))
            ok = False
            continue
        if len(text) > column.max_len:
            problems.append(Problem(line, column.name, f"longer than {column.max_len} characters"))
            ok = False
        elif column.kind == "id" and text and not _ID.match(text):
            problems.append(Problem(line, column.name, "not a valid id (letters, digits, ._:-)"))
            ok = False
        elif column.kind == "int" and text and not text.isdigit():
            problems.append(Problem(line, column.name, "not a whole number"))
            ok = False
        elif column.kind == "int":
            values[column.name] = int(text) if text else None
            continue
        elif column.kind == "bool":
            lowered = text.lower()
            if lowered in _TRUE:
                values[column.name] = True
            elif lowered in _FALSE:
                values[column.name] = _BOOL_DEFAULTS.get(column.name, False) if not text else False
            else:
                problems.append(Problem(line, column.name, "not yes/no (true/false, 1/0)"))
                ok = False
            continue
        values[column.name] = text or None
    return values if ok else None


def _check_references(
    kind: str, values: dict[str, Any], lookup: _Lookup, principal: Principal, line: int
) -> list[Problem]:
    problems: list[Problem] = []

    def need(field_name: str, target: str, label: str) -> bool:
        if values[field_name] not in lookup.ids[target]:
            problems.append(Problem(line, field_name, f"no such {label}: {values[field_name]}"))
            return False
        return True

    community: str | None = None
    if kind == "areas":
        level = values["level"]
        if level not in LEVELS:
            problems.append(Problem(line, "level", f"must be one of {', '.join(LEVELS)}"))
        elif level == "district":
            if values["parent_id"]:
                problems.append(Problem(line, "parent_id", "a district has no parent"))
        elif not values["parent_id"]:
            problems.append(Problem(line, "parent_id", f"a {level} needs a parent"))
        elif need("parent_id", "areas", "area"):
            parent_level = lookup.area_level.get(values["parent_id"])
            if parent_level != _PARENT_LEVEL[level]:
                problems.append(
                    Problem(
                        line, "parent_id", f"a {level}'s parent must be a {_PARENT_LEVEL[level]}"
                    )
                )
        community = (
            values["area_id"]
            if level == "community"
            else lookup.community_of_area(values["parent_id"])
        )
    elif kind == "compounds":
        if (
            need("community_id", "areas", "area")
            and lookup.area_level.get(values["community_id"]) != "community"
        ):
            problems.append(Problem(line, "community_id", "not a community"))
        community = values["community_id"]
    elif kind == "houses":
        if need("compound_id", "compounds", "compound") and need("grid_id", "areas", "area"):
            if lookup.area_level.get(values["grid_id"]) != "grid":
                problems.append(Problem(line, "grid_id", "not a grid"))
            elif lookup.community_of_grid(values["grid_id"]) != lookup.compound_community.get(
                values["compound_id"]
            ):
                problems.append(
                    Problem(
                        line, "grid_id", "the grid and the compound are in different communities"
                    )
                )
        community = lookup.compound_community.get(values["compound_id"])
    elif kind == "residents":
        if need("house_id", "houses", "house"):
            community = lookup.community_of_grid(lookup.house_grid.get(values["house_id"], ""))
    elif kind == "workers":
        if need("grid_id", "areas", "area"):
            if lookup.area_level.get(values["grid_id"]) != "grid":
                problems.append(Problem(line, "grid_id", "not a grid"))
            community = lookup.community_of_grid(values["grid_id"])
    elif kind == "edges" and need("compound_id", "compounds", "compound"):
        community = lookup.compound_community.get(values["compound_id"])
    if not problems and not principal.sees_community(community):
        problems.append(Problem(line, "", "outside your community"))
    return problems


def _remember(kind: str, values: dict[str, Any], lookup: _Lookup) -> None:
    if kind == "areas":
        lookup.area_level[values["area_id"]] = values["level"]
        lookup.area_parent[values["area_id"]] = values["parent_id"]
    elif kind == "compounds":
        lookup.compound_community[values["compound_id"]] = values["community_id"]
    elif kind == "houses":
        lookup.house_grid[values["house_id"]] = values["grid_id"]


def _row_for_table(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    row = dict(values)
    if kind == "houses":
        row.setdefault("vacant", False)
        row["building"] = row.get("building") or ""
        row["unit"] = row.get("unit") or ""
    elif kind == "residents":
        row.setdefault("care_recipient", False)
        row.setdefault("active", True)
        row["phone"] = row.get("phone") or ""
    elif kind == "workers":
        row.setdefault("leader", False)
    elif kind == "edges":
        row["roster_version"] = row.get("roster_version") or 0
    return row


def import_csv(
    conn: Connection,
    kind: str,
    source: str | Callable[[], TextIO],
    principal: Principal,
    progress: Callable[[int, int], None] | None = None,
    total_rows: int | None = None,
) -> ImportReport:
    """Check every row; when all are valid insert them in the caller's transaction.

    ``source`` is the CSV text or a function that opens it (a file: it is read twice, a chunk
    at a time, so memory follows the chunk and the file's own ids, not the file or the
    registry). ``total_rows`` (if known) scales ``progress``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; one of {', '.join(KINDS)}")
    table, key, columns = KINDS[kind]
    report = ImportReport(kind)

    header: list[str] = []

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        handle = io.StringIO(source) if isinstance(source, str) else source()
        with handle:
            reader = csv.DictReader(_without_bom(handle))
            header[:] = list(reader.fieldnames or [])
            for index, raw in enumerate(reader):
                yield index + 2, raw

    lookup = _Lookup(conn)
    done = 0
    checking = rows()
    first_chunk = list(itertools.islice(checking, _CHUNK))
    missing = [c.name for c in columns if c.required and c.name not in header]
    unknown = [h for h in header if h not in {c.name for c in columns}]
    for name in missing:
        report.problems.append(Problem(1, name, "column missing from the header"))
    for name in unknown:
        report.problems.append(Problem(1, name, "unknown column"))
    if report.problems:
        return report
    total = total_rows or 0
    chunk = first_chunk
    while chunk:
        parsed: list[tuple[int, dict[str, Any]]] = []
        for line, raw in chunk:
            if None in raw:
                report.problems.append(Problem(line, "", "more values than columns"))
                continue
            values = _parse(columns, raw, line, report.problems)
            if values is not None:
                parsed.append((line, values))
        lookup.fetch(kind, {v[key] for _, v in parsed})
        for field_name, target in _REFERENCES[kind]:
            lookup.fetch(target, {v[field_name] for _, v in parsed if v[field_name]})
        for line, values in parsed:
            if values[key] in lookup.ids[kind]:
                report.problems.append(Problem(line, key, f"already exists: {values[key]}"))
                continue
            problems = _check_references(kind, values, lookup, principal, line)
            if problems:
                report.problems.extend(problems)
                continue
            lookup.ids[kind].add(values[key])
            _remember(kind, values, lookup)
        report.rows += len(chunk)
        if progress is not None:
            progress(report.rows, 2 * max(total, report.rows))
        chunk = list(itertools.islice(checking, _CHUNK))
    if report.problems:
        return report
    # Every row is valid: read the file again and insert it, a chunk at a time.
    inserting = rows()
    while batch := list(itertools.islice(inserting, _CHUNK)):
        values_list = [_parse(columns, raw, line, []) for line, raw in batch]
        conn.execute(table.insert(), [_row_for_table(kind, v) for v in values_list if v])
        done += len(batch)
        if progress is not None:
            progress(report.rows + done, 2 * report.rows)
    report.imported = done
    return report


def _without_bom(handle: TextIO) -> Iterator[str]:
    first = True
    for line in handle:
        yield line.lstrip("\ufeff") if first else line
        first = False
