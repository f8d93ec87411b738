"""Visit loop and console (issues 13 and 15): the alert's evidence on the task, a revisit time
for "nobody home", review items for alerts without a known house, away reports (外出报备).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task_evidence") as batch:
        batch.add_column(sa.Column("evidence", sa.Text, nullable=False, server_default="{}"))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("revisit_at", sa.DateTime(timezone=True)))
    op.create_table(
        "alert_reviews",
        sa.Column("edge_id", sa.String(64), primary_key=True),
        sa.Column("msg_id", sa.String(36), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("compound_id", sa.String(64)),
        sa.Column("house_named", sa.String(64)),
        sa.Column("resident_id", sa.String(64)),
        sa.Column("community_id", sa.String(64)),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolved_by", sa.String(80)),
        sa.Column("resolution", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_alert_reviews_open", "alert_reviews", ["resolved_at", "community_id"])
    op.create_table(
        "away_reports",
        sa.Column("report_id", sa.String(64), primary_key=True),
        sa.Column("house_id", sa.String(64), sa.ForeignKey("houses.house_id"), nullable=False),
        sa.Column("resident_id", sa.String(64), sa.ForeignKey("residents.resident_id")),
        sa.Column("away_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("back_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_away_reports_house", "away_reports", ["house_id", "back_on"])


def downgrade() -> None:
    op.drop_index("ix_away_reports_house", "away_reports")
    op.drop_table("away_reports")
    op.drop_index("ix_alert_reviews_open", "alert_reviews")
    op.drop_table("alert_reviews")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("revisit_at")
    with op.batch_alter_table("task_evidence") as batch:
        batch.drop_column("evidence")
