"""What an edge may speak about: its own compound's houses and residents, nothing else.

The broker's ACL pins each edge to its own topics, so the topic's edge id is the sender. The
registry says which compound that edge serves (``edge_compounds``); a message that names a house
or resident of another compound, or comes from an edge the registry does not know, is refused
here, before any service (tasks, privacy, sync) acts on it. The checks run a few ``IN`` queries
per batch, not one per message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Connection, select

from gridgate_wire import (
    EdgeAlert,
    EdgeEvent,
    EdgeMessage,
    EdgeStatus,
    EnrolmentConfirmation,
    ErasureConfirmation,
)
from hub.store.schema import edge_compounds, houses, residents

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


def _named(message: EdgeMessage) -> tuple[str | None, str | None, str | None]:
    """(compound, house, resident) a message names."""
    if isinstance(message, EdgeAlert):
        return message.compound_id, message.house_id, message.resident_id
    if isinstance(message, EdgeEvent):
        return None, message.house_id, message.resident_id
    if isinstance(message, EnrolmentConfirmation | ErasureConfirmation):
        return None, None, message.resident_id
    return None, None, None


# Kinds an edge the registry does not know may still send under ``accept_events``: they name
# nothing the hub acts on for a community (passages are stored, not acted on).
_NAMES_PEOPLE = (EdgeAlert, EnrolmentConfirmation, ErasureConfirmation)


def check(
    conn: Connection,
    messages: Sequence[EdgeMessage | EdgeStatus],
    unregistered: Unregistered = "dead_letter",
) -> Verdict:
    verdict = Verdict()
    edge_compound = _compound_of_edges(conn, {m.edge_id for m in messages})
    houses_named: set[str] = set()
    residents_named: set[str] = set()
    for message in messages:
        if isinstance(message, EdgeMessage) and message.edge_id in edge_compound:
            _, house, resident = _named(message)
            if house is not None:
                houses_named.add(house)
            if resident is not None:
                residents_named.add(resident)
    house_compound = _compound_of_houses(conn, houses_named)
    resident_compound = _compound_of_residents(conn, residents_named)
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
        compound, house, resident = _named(message)
        # A passage may name a resident the hub does not know (yet): it is stored, not acted
        # on. Everything else must name the edge's own houses and residents.
        allowed = {own, None} if isinstance(message, EdgeEvent) else {own}
        if compound is not None and compound != own:
            verdict.refused[index] = ("compound_id", f"not the edge's compound ({own})")
        elif house is not None and house_compound.get(house) not in allowed:
            verdict.refused[index] = ("house_id", "not a house of the edge's compound")
        elif resident is not None and resident_compound.get(resident) not in allowed:
            verdict.refused[index] = ("resident_id", "not a resident of the edge's compound")
    return verdict
