"""What an edge may speak about: its own compound's houses, residents and passes, nothing else.

The broker's ACL pins each edge to its own topics, so the topic's edge id is the sender. The
registry says which compound that edge serves (``edge_compounds``); a message that names a house
or resident of another compound, or comes from an edge the registry does not know, is refused
here, before any service (tasks, privacy, sync, passes, door alarms) acts on it. The checks run
a few ``IN`` queries per batch, not one per message.

Gates are the edge's own names (the hub holds no gate list), so a door alarm or release is the
edge's by the topic it came on; what it names besides the gate (the house, resident or pass of
a duress PIN, a walk-in's host house) is checked like the rest. A pass id the hub does not know
yet is allowed where a walk-in may still be on its way (a passage, a duress alarm), never one of
another compound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection, select

from gridgate_wire import (
    DoorAlarm,
    DoorRelease,
    EdgeAlert,
    EdgeEvent,
    EdgeMessage,
    EdgeStatus,
    EnrolmentConfirmation,
    ErasureConfirmation,
    WalkInPass,
)
from hub.store.schema import edge_compounds, houses, residents, visitor_passes

Unregistered = Literal["dead_letter", "accept_events"]
_CHUNK = 500


@dataclass
class Verdict:
    """Per message index: why it is refused (field, reason); statuses to ignore silently."""

    refused: dict[int, tuple[str, str]] = field(default_factory=dict)
    ignored: set[int] = field(default_factory=set)


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _compound_of_edges(conn: Connection, edge_ids: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(edge_ids)):
        for edge_id, compound_id in conn.execute(
            select(edge_compounds.c.edge_id, edge_compounds.c.compound_id).where(
                edge_compounds.c.edge_id.in_(chunk)
            )
        ):
            found[str(edge_id)] = str(compound_id)
    return found


def _compound_of_houses(conn: Connection, house_ids: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(house_ids)):
        for house_id, compound_id in conn.execute(
            select(houses.c.house_id, houses.c.compound_id).where(houses.c.house_id.in_(chunk))
        ):
            found[str(house_id)] = str(compound_id)
    return found


def _compound_of_residents(conn: Connection, resident_ids: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(resident_ids)):
        for resident_id, compound_id in conn.execute(
            select(residents.c.resident_id, houses.c.compound_id)
            .join(houses, houses.c.house_id == residents.c.house_id)
            .where(residents.c.resident_id.in_(chunk))
        ):
            found[str(resident_id)] = str(compound_id)
    return found


def _compound_of_passes(conn: Connection, pass_ids: set[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(pass_ids)):
        for pass_id, compound_id in conn.execute(
            select(visitor_passes.c.pass_id, visitor_passes.c.compound_id).where(
                visitor_passes.c.pass_id.in_(chunk)
            )
        ):
            found[str(pass_id)] = str(compound_id)
    return found


@dataclass(frozen=True)
class _Names:
    compound: str | None = None
    house: str | None = None
    resident: str | None = None
    visitor_pass: str | None = None


def _named(message: EdgeMessage) -> _Names:
    """What a message names that must belong to the sending edge's compound."""
    if isinstance(message, EdgeAlert):
        return _Names(message.compound_id, message.house_id, message.resident_id)
    if isinstance(message, EdgeEvent):
        return _Names(None, message.house_id, message.resident_id, message.pass_id)
    if isinstance(message, EnrolmentConfirmation | ErasureConfirmation):
        return _Names(resident=message.resident_id)
    if isinstance(message, DoorAlarm):
        return _Names(None, message.house_id, message.resident_id, message.pass_id)
    if isinstance(message, WalkInPass):
        return _Names(
            house=message.visitor_pass.house_id, visitor_pass=message.visitor_pass.pass_id
        )
    return _Names()


# Kinds an edge the registry does not know may still send under ``accept_events``: they name
# nothing the hub acts on for a community (passages are stored, not acted on).
_NAMES_PEOPLE = (
    EdgeAlert,
    EnrolmentConfirmation,
    ErasureConfirmation,
    DoorAlarm,
    DoorRelease,
    WalkInPass,
)


def check(
    conn: Connection,
    messages: Sequence[EdgeMessage | EdgeStatus],
    unregistered: Unregistered = "dead_letter",
) -> Verdict:
    verdict = Verdict()
    edge_compound = _compound_of_edges(conn, {m.edge_id for m in messages})
    houses_named: set[str] = set()
    residents_named: set[str] = set()
    passes_named: set[str] = set()
    for message in messages:
        if isinstance(message, EdgeMessage) and message.edge_id in edge_compound:
            names = _named(message)
            if names.house is not None:
                houses_named.add(names.house)
            if names.resident is not None:
                residents_named.add(names.resident)
            if names.visitor_pass is not None:
                passes_named.add(names.visitor_pass)
    house_compound = _compound_of_houses(conn, houses_named)
    resident_compound = _compound_of_residents(conn, residents_named)
    pass_compound = _compound_of_passes(conn, passes_named)
    for index, message in enumerate(messages):
        own = edge_compound.get(message.edge_id)
        if own is None:
            if unregistered == "accept_events" and not isinstance(message, _NAMES_PEOPLE):
                continue
            if isinstance(message, EdgeStatus):
                verdict.ignored.add(index)
            else:
                verdict.refused[index] = ("edge_id", "edge is not registered at the hub")
            continue
        if isinstance(message, EdgeStatus):
            continue
        names = _named(message)
        # A passage may name a resident the hub does not know (yet): it is stored, not acted
        # on. Everything else must name the edge's own houses and residents.
        allowed = {own, None} if isinstance(message, EdgeEvent) else {own}
        if names.compound is not None and names.compound != own:
            verdict.refused[index] = ("compound_id", f"not the edge's compound ({own})")
        elif names.house is not None and house_compound.get(names.house) not in allowed:
            verdict.refused[index] = ("house_id", "not a house of the edge's compound")
        elif names.resident is not None and resident_compound.get(names.resident) not in allowed:
            verdict.refused[index] = ("resident_id", "not a resident of the edge's compound")
        elif names.visitor_pass is not None and pass_compound.get(names.visitor_pass) not in {
            own,
            None,
        }:
            verdict.refused[index] = ("pass_id", "a pass of another compound")
    return verdict
