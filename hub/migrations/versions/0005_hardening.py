"""Hardening (issue 14): store epochs and edge alarms; dead letters name the message they
refused; logins throttled per address; roster snapshots in parts, built outside ingest; passage
daily counts.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("edge_messages") as batch:
        batch.add_column(sa.Column("epoch", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_edge_messages_edge_epoch_seq", "edge_messages", ["edge_id", "epoch", "seq"])
    with op.batch_alter_table("edges") as batch:
        batch.add_column(sa.Column("epoch", sa.String(64)))
        batch.add_column(sa.Column("status_seq", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("warnings", sa.Text, nullable=False, server_default="[]"))
    op.create_table(
        "edge_epochs",
        sa.Column("edge_id", sa.String(64), primary_key=True),
        sa.Column("epoch", sa.String(64), primary_key=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "edge_alarms",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("edge_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_edge_alarms_edge_at", "edge_alarms", ["edge_id", "at"])
    with op.batch_alter_table("edge_compounds") as batch:
        batch.add_column(sa.Column("snapshot_wanted_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("roster_outbox") as batch:
        batch.add_column(sa.Column("parts", sa.Integer, nullable=False, server_default="1"))
    op.create_table(
        "passage_counts",
        sa.Column("edge_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("gate", sa.String(64), primary_key=True),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("method", sa.String(8), primary_key=True),
        sa.Column("decision", sa.String(8), primary_key=True),
        sa.Column("passages", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "roster_parts",
        sa.Column("edge_id", sa.String(64), primary_key=True),
        sa.Column("roster_version", sa.BigInteger, primary_key=True),
        sa.Column("part", sa.Integer, primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True)),
    )
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("edge_id", sa.String(64)))
        batch.add_column(sa.Column("msg_id", sa.String(36)))
    op.create_index("ix_dead_letters_received_at", "dead_letters", ["received_at"])
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])


def downgrade() -> None:
    op.drop_table("roster_parts")
    op.drop_table("passage_counts")
    with op.batch_alter_table("roster_outbox") as batch:
        batch.drop_column("parts")
    with op.batch_alter_table("edge_compounds") as batch:
        batch.drop_column("snapshot_wanted_at")
    op.drop_index("ix_edge_alarms_edge_at", "edge_alarms")
    op.drop_table("edge_alarms")
    op.drop_table("edge_epochs")
    with op.batch_alter_table("edges") as batch:
        batch.drop_column("warnings")
        batch.drop_column("status_seq")
        batch.drop_column("epoch")
    op.drop_index("ix_edge_messages_edge_epoch_seq", "edge_messages")
    with op.batch_alter_table("edge_messages") as batch:
        batch.drop_column("epoch")
    op.drop_index("ix_login_failures_client_at", "login_failures")
    op.drop_index("ix_dead_letters_received_at", "dead_letters")
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("msg_id")
        batch.drop_column("edge_id")
