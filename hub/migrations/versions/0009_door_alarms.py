"""Door alarms (issue 18): the alarms edges raise, for the centre's console.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "door_alarms",
        sa.Column("alarm_id", sa.String(36), primary_key=True),
        sa.Column("edge_id", sa.String(64), nullable=False),
        sa.Column("compound_id", sa.String(64), nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("silent", sa.Boolean, nullable=False),
        sa.Column("gate", sa.String(64), nullable=False),
        sa.Column("lane", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_seconds", sa.Float),
        sa.Column("event_id", sa.String(36)),
        sa.Column("house_id", sa.String(64)),
        sa.Column("resident_id", sa.String(64)),
        sa.Column("pass_id", sa.String(64)),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_by", sa.String(80)),
        sa.Column("ack_note", sa.String(500), nullable=False),
    )
    op.create_index(
        "ix_door_alarms_community_state",
        "door_alarms",
        ["community_id", "state", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_door_alarms_community_state", "door_alarms")
    op.drop_table("door_alarms")
