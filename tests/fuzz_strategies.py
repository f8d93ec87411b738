"""Hypothesis strategies for edge-to-hub traffic: valid, mutated and hostile (issue 14).

Each drawn item is a :class:`Sent`: topic, payload bytes, and whether it carries something the
codec must refuse (``fatal``); :func:`resolve` says what the hub must do with it. The registry
the scope rules refer to is :func:`tests.hub_helpers.seed`'s: edge-A serves compound cA (houses
HA1, HA2; residents RA1, RA2), edge-B serves cB (HB1; RB1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from gridgate_wire import edge_topic
from gridgate_wire.uuid7 import uuid7
from tests.hardening_helpers import CHANNEL_OF

OWN_EDGE = "edge-A"
ROGUE_EDGE = "edge-rogue"
OWN_HOUSES = ("HA1", "HA2")
OWN_RESIDENTS = ("RA1", "RA2")
FOREIGN_HOUSES = ("HB1",)
FOREIGN_RESIDENTS = ("RB1",)
UNKNOWN = ("H-none", "R-none")
KINDS = tuple(CHANNEL_OF)
INT64 = 2**63 - 1
INT32 = 2**31 - 1


@dataclass(frozen=True)
class Sent:
    kind: str
    topic: str
    payload: bytes
    fatal: bool  # the codec must refuse it, whatever else it holds
    edge_id: str
    msg_id: str


# Text a database stores: no NUL, no lone surrogate (those are the hostile cases below).
def text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=max_size
    )


ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,40}\Z")
times = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.isoformat().replace("+00:00", "Z"))
unit = st.floats(0.0, 1.0, allow_nan=False)
# Mostly the edge's own houses and residents, so most valid messages are in scope.
houses = st.sampled_from((*OWN_HOUSES, *OWN_HOUSES, *OWN_HOUSES, *FOREIGN_HOUSES, UNKNOWN[0]))
residents_ = st.sampled_from(
    (*OWN_RESIDENTS, *OWN_RESIDENTS, *OWN_RESIDENTS, *FOREIGN_RESIDENTS, UNKNOWN[1])
)


def _common(draw: st.DrawFn, kind: str, edge_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "v": 1,
        "id": str(uuid7()),
        "ts": draw(times),
        "type": kind,
        "edge_id": edge_id,
    }
    body["seq"] = draw(st.integers(0 if kind == "edge_status" else 1, INT64))
    return body


@st.composite
def valid_body(draw: st.DrawFn, kind: str, edge_id: str) -> dict[str, Any]:
    body = _common(draw, kind, edge_id)
    if kind == "edge_event":
        body.update(
            occurred_at=draw(times),
            gate=draw(ids),
            lane=draw(st.integers(0, 255)),
            direction=draw(st.sampled_from(["in", "out", "unknown"])),
            method=draw(st.sampled_from(["face", "card", "qr", "pin"])),
            subject=draw(st.sampled_from(["resident", "stranger", "unknown"])),
            resident_id=draw(st.none() | residents_),
            house_id=draw(st.none() | houses),
            score=draw(st.none() | st.floats(-1.0, 1.0, allow_nan=False)),
            quality=draw(st.none() | unit),
            decision=draw(st.sampled_from(["grant", "deny"])),
            reason=draw(text(200)),
            tailgating=draw(st.booleans()),
        )
    elif kind == "edge_alert":
        count = st.integers(0, INT64)
        body.update(
            kind=draw(st.sampled_from(["move_out", "vacancy", "new_occupant", "welfare_check"])),
            compound_id=draw(st.sampled_from(["cA", "cA", "cA", "cB"])),
            house_id=draw(st.none() | houses),
            building_id=draw(st.none() | ids),
            resident_id=draw(st.none() | residents_),
            detected_at=draw(times),
            confidence=draw(unit),
            evidence={
                "first_seen": draw(st.none() | times),
                "last_seen": draw(st.none() | times),
                "days_observed": draw(count),
                "days_seen": draw(count),
                "passages": draw(count),
                "nights": draw(count),
                "co_passages": draw(count),
                "hours_unseen": draw(st.none() | st.floats(0, 1e300, allow_nan=False)),
                "note": draw(text(500)),
            },
        )
    elif kind == "edge_status":
        body.update(
            state=draw(st.sampled_from(["online", "offline"])),
            software=draw(text(64)),
            outbox_depth=draw(st.integers(0, INT64)),
            disk_budget_used=draw(unit),
            gallery_size=draw(st.integers(0, INT32)),
            cameras_online=draw(st.integers(0, 10_000)),
            warnings=draw(st.lists(text(200), max_size=20)),
        )
    elif kind == "roster_ack":
        body.update(
            roster_version=draw(st.integers(1, INT64)),
            applied=draw(st.booleans()),
            error=draw(text(500)),
        )
    elif kind == "enrolment_confirmation":
        body.update(
            invitation_id=str(uuid7()),
            resident_id=draw(residents_),
            consent_id=draw(ids),
            status=draw(st.sampled_from(["enrolled", "refused"])),
            templates=draw(st.integers(0, 100)),
            engine=draw(text(64)),
            reason=draw(text(200)),
        )
    else:
        body.update(
            erasure_id=draw(st.none() | st.builds(lambda: str(uuid7()))),
            resident_id=draw(residents_),
            templates_deleted=draw(st.integers(0, INT32)),
            deleted_at=draw(times),
        )
    return body


def in_scope(body: dict[str, Any]) -> bool:
    """The hub's scope rules, written out independently of :mod:`hub.scope`."""
    if body["edge_id"] != OWN_EDGE:
        return False
    kind = body["type"]
    resident = body.get("resident_id")
    house = body.get("house_id")
    if kind == "edge_event":
        return resident not in FOREIGN_RESIDENTS and house not in FOREIGN_HOUSES
    if kind == "edge_alert":
        return (
            body["compound_id"] == "cA"
            and house in (*OWN_HOUSES, None)
            and resident in (*OWN_RESIDENTS, None)
        )
    if kind in ("enrolment_confirmation", "erasure_confirmation"):
        return resident in OWN_RESIDENTS
    return True


# Values no receiver may store, as JSON text: each makes any message invalid wherever it goes.
FATAL = st.sampled_from(
    [
        "9" * 25,
        "-" + "9" * 4400,
        "9" * 5000,
        str(2**63),
        str(-(2**63) - 1),
        "1" + "0" * 400,
        "[" * 40 + "]" * 40,
        '{"a":' * 30 + "1" + "}" * 30,
        "NaN",
        "Infinity",
        "-Infinity",
        '"\\u0000"',
        '"a\\u0000b"',
        '"\\ud800"',
        '"x\\udfff"',
    ]
)
# Values that may or may not fit the field they land in: only the codec can tell.
MAYBE = st.sampled_from(
    ["null", "true", "false", '"x"', "{}", "[]", "1.5", "-1", "0", str(INT32 + 1), str(INT64)]
)


def _fields(body: dict[str, Any]) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = [(k,) for k in body if k not in ("type", "v")]
    evidence = body.get("evidence")
    if isinstance(evidence, dict):
        paths += [("evidence", k) for k in evidence]
    return paths


_MARK = "\u0001hostile\u0001"


@st.composite
def sent(draw: st.DrawFn, kind: str) -> Sent:
    rogue = draw(st.integers(0, 19)) == 0
    edge_id = ROGUE_EDGE if rogue else OWN_EDGE
    body = draw(valid_body(kind, edge_id))
    topic = edge_topic(edge_id, CHANNEL_OF[kind])
    fatal = False
    mutation = draw(st.integers(0, 11))
    payload_text: str | None = None
    if mutation <= 4:  # valid as drawn
        pass
    elif mutation in (5, 6):  # a fatal value in any field, nested ones included
        path = draw(st.sampled_from(_fields(body)))
        target = body if len(path) == 1 else body[path[0]]
        target[path[-1]] = _MARK
        payload_text = json.dumps(body).replace(json.dumps(_MARK), draw(FATAL))
        fatal = True
    elif mutation == 7:  # a value of the wrong kind
        path = draw(st.sampled_from(_fields(body)))
        target = body if len(path) == 1 else body[path[0]]
        target[path[-1]] = _MARK
        payload_text = json.dumps(body).replace(json.dumps(_MARK), draw(MAYBE))
    elif mutation == 8:  # a field removed (some have defaults)
        del body[draw(st.sampled_from([p[0] for p in _fields(body)]))]
    elif mutation == 9:  # unknown field, or unknown version
        if draw(st.booleans()):
            body["zz_" + draw(st.text("abc", min_size=1, max_size=5))] = 1
        else:
            body["v"] = draw(st.sampled_from([0, 2, 99, "1", None]))
        fatal = True
    elif mutation == 10:  # broken bytes: truncated JSON, or bad UTF-8 inside a string
        raw = json.dumps(body).encode()
        if draw(st.booleans()):
            payload = raw[: draw(st.integers(0, len(raw) - 2))]
        else:
            payload = raw.replace(b'"type"', b'"ty\xffpe"', 1)
        return Sent(kind, topic, payload, True, edge_id, str(body.get("id")))
    else:  # sent on another edge's topic
        topic = edge_topic("edge-B", CHANNEL_OF[kind])
        fatal = True
    payload_bytes = (payload_text or json.dumps(body)).encode()
    return Sent(kind, topic, payload_bytes, fatal, edge_id, str(body.get("id")))


def storms(per_kind: int) -> st.SearchStrategy[list[Sent]]:
    """One batch: ``per_kind`` messages of every edge-to-hub kind, shuffled."""
    parts = st.tuples(
        *(st.lists(sent(kind), min_size=per_kind, max_size=per_kind) for kind in KINDS)
    )
    return parts.map(lambda p: [item for part in p for item in part]).flatmap(st.permutations)


def resolve(item: Sent) -> str:
    """What the hub must do with ``item``: store, status (update the edge), ignored, or dead."""
    from gridgate_wire import DecodeError, EdgeStatus, decode_from_topic

    try:
        message = decode_from_topic(item.topic, item.payload)
    except DecodeError:
        return "dead"
    assert not item.fatal, f"the codec accepted a message it must refuse: {item}"
    if isinstance(message, EdgeStatus):
        return "status" if message.edge_id == OWN_EDGE else "ignored"
    return "store" if in_scope(message.model_dump(mode="json")) else "dead"
