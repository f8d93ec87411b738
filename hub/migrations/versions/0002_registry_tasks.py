"""Registry (areas, compounds, houses, residents, workers, edges) and house-visit tasks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.String(64)
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("area_id", _ID, primary_key=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("parent_id", _ID, sa.ForeignKey("areas.area_id")),
    )
    op.create_table(
        "compounds",
        sa.Column("compound_id", _ID, primary_key=True),
        sa.Column("community_id", _ID, sa.ForeignKey("areas.area_id"), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
    )
    op.create_table(
        "houses",
        sa.Column("house_id", _ID, primary_key=True),
        sa.Column("compound_id", _ID, sa.ForeignKey("compounds.compound_id"), nullable=False),
        sa.Column("grid_id", _ID, sa.ForeignKey("areas.area_id"), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("vacant", sa.Boolean, nullable=False),
    )
    op.create_table(
        "residents",
        sa.Column("resident_id", _ID, primary_key=True),
        sa.Column("house_id", _ID, sa.ForeignKey("houses.house_id"), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("care_recipient", sa.Boolean, nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("worker_id", _ID, primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("grid_id", _ID, sa.ForeignKey("areas.area_id"), nullable=False),
        sa.Column("leader", sa.Boolean, nullable=False),
    )
    op.create_table(
        "edge_compounds",
        sa.Column("edge_id", _ID, primary_key=True),
        sa.Column("compound_id", _ID, sa.ForeignKey("compounds.compound_id"), nullable=False),
        sa.Column("roster_version", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("task_id", _ID, primary_key=True),
        sa.Column("house_id", _ID, sa.ForeignKey("houses.house_id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("resident_id", _ID),
        sa.Column("worker_id", _ID, sa.ForeignKey("workers.worker_id")),
        sa.Column("assignee", sa.String(80), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(32)),
    )
    op.create_index(
        "uq_open_task",
        "tasks",
        ["house_id", "kind"],
        unique=True,
        sqlite_where=sa.text("open = 1"),
        postgresql_where=sa.text("open"),
    )
    op.create_table(
        "task_evidence",
        sa.Column("task_id", _ID, sa.ForeignKey("tasks.task_id"), primary_key=True),
        sa.Column("edge_id", _ID, primary_key=True),
        sa.Column("msg_id", sa.String(36), primary_key=True),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
    )
    op.create_table(
        "task_transitions",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("task_id", _ID, sa.ForeignKey("tasks.task_id"), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("from_state", sa.String(16)),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "task_transitions",
        "task_evidence",
        "tasks",
        "edge_compounds",
        "workers",
        "residents",
        "houses",
        "compounds",
        "areas",
    ):
        op.drop_table(table)
