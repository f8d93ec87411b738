"""Hardening (issue 14): dead letters name the message they refused; logins throttled per address.

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
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("edge_id", sa.String(64)))
        batch.add_column(sa.Column("msg_id", sa.String(36)))
    op.create_index("ix_dead_letters_received_at", "dead_letters", ["received_at"])
    op.create_index("ix_login_failures_client_at", "login_failures", ["client", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_client_at", "login_failures")
    op.drop_index("ix_dead_letters_received_at", "dead_letters")
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("msg_id")
        batch.drop_column("edge_id")
