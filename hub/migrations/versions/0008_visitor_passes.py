"""Visitor passes (issue 18): passes for a host house, each edge's pass list version, and the
pass updates kept until their edge acknowledges them.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visitor_passes",
        sa.Column("pass_id", sa.String(64), primary_key=True),
        sa.Column(
            "compound_id", sa.String(64), sa.ForeignKey("compounds.compound_id"), nullable=False
        ),
        sa.Column("house_id", sa.String(64), sa.ForeignKey("houses.house_id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("visitor_name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_uses", sa.Integer),
        sa.Column("gates", sa.Text),
        sa.Column("schedule", sa.Text),
        sa.Column("secrets", sa.Text, nullable=False),
        sa.Column("issued_by", sa.String(80), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_by", sa.String(80)),
        sa.Column("revoke_reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("edge_id", sa.String(64)),
        sa.Column("msg_id", sa.String(36)),
    )
    op.create_index("ix_visitor_passes_house", "visitor_passes", ["house_id", "valid_until"])
    op.create_index("ix_visitor_passes_compound", "visitor_passes", ["compound_id", "valid_until"])
    op.create_table(
        "edge_pass_lists",
        sa.Column("edge_id", sa.String(64), primary_key=True),
        sa.Column("pass_version", sa.BigInteger, nullable=False),
        sa.Column("full_wanted_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "pass_outbox",
        sa.Column("edge_id", sa.String(64), primary_key=True),
        sa.Column("pass_version", sa.BigInteger, primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("acked_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pass_outbox")
    op.drop_table("edge_pass_lists")
    op.drop_index("ix_visitor_passes_compound", "visitor_passes")
    op.drop_index("ix_visitor_passes_house", "visitor_passes")
    op.drop_table("visitor_passes")
