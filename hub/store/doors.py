"""Tables of the doors (issue 18): the door alarms edges raise, kept for the centre's console.

They share :data:`hub.store.schema.metadata`; the package imports this module, so any import
of the schema registers them too (migrations and ``metadata.create_all`` see one schema).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, String, Table

from hub.store.schema import metadata

# One row per raised alarm (its message id is the alarm id); a clearing message updates the
# row it names. ``state``: open -> acknowledged (by a centre user, audited); ``cleared_at`` is
# the edge's word that the condition ended (a held door closed), independent of the state.
door_alarms = Table(
    "door_alarms",
    metadata,
    Column("alarm_id", String(36), primary_key=True),
    Column("edge_id", String(64), nullable=False),
    Column("compound_id", String(64), nullable=False),
    Column("community_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # held_open | forced_open | tailgating | duress
    Column("priority", Integer, nullable=False),  # 0 urgent (duress), 1 high, 2 normal
    Column("silent", Boolean, nullable=False),
    Column("gate", String(64), nullable=False),
    Column("lane", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("open_seconds", Float),
    Column("event_id", String(36)),
    Column("house_id", String(64)),
    Column("resident_id", String(64)),
    Column("pass_id", String(64)),
    Column("note", String(200), nullable=False),
    Column("state", String(16), nullable=False),  # open | acknowledged
    Column("cleared_at", DateTime(timezone=True)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", String(80)),
    Column("ack_note", String(500), nullable=False),
    Index("ix_door_alarms_community_state", "community_id", "state", "occurred_at"),
)
