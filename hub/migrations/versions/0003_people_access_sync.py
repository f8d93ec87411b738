"""Consents, credentials, users and sessions, audit log, roster outbox, invitations, template
counts.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.String(64)
_TS = sa.DateTime(timezone=True)
_PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")

_APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_log_no_{op} BEFORE {op} ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
_APPEND_ONLY_PG = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""


def upgrade() -> None:
    with op.batch_alter_table("houses") as batch:
        batch.add_column(sa.Column("building", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("unit", sa.String(32), nullable=False, server_default=""))
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("name", sa.String(128), nullable=False, server_default=""))
        batch.add_column(sa.Column("phone", sa.String(32), nullable=False, server_default=""))
    op.create_table(
        "consents",
        sa.Column("consent_id", _ID, primary_key=True),
        sa.Column("resident_id", _ID, sa.ForeignKey("residents.resident_id"), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("granted_at", _TS, nullable=False),
        sa.Column("guardian_id", _ID),
        sa.Column("withdrawn_at", _TS),
        sa.Column("recorded_by", sa.String(80), nullable=False),
    )
    op.create_table(
        "resident_credentials",
        sa.Column("resident_id", _ID, sa.ForeignKey("residents.resident_id"), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("secret_sha256", sa.String(64), primary_key=True),
    )
    op.create_table(
        "users",
        sa.Column("user_id", _ID, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("area_id", _ID, sa.ForeignKey("areas.area_id")),
        sa.Column("worker_id", _ID, sa.ForeignKey("workers.worker_id")),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("user_id", _ID, sa.ForeignKey("users.user_id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("revoked_at", _TS),
    )
    op.create_table(
        "login_failures",
        sa.Column("pk", _PK, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("at", _TS, nullable=False),
    )
    op.create_index("ix_login_failures_username_at", "login_failures", ["username", "at"])
    op.create_table(
        "audit_log",
        sa.Column("pk", _PK, primary_key=True, autoincrement=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(200), nullable=False),
        sa.Column("community_id", _ID),
        sa.Column("detail", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_APPEND_ONLY_PG)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(_APPEND_ONLY_SQLITE.format(op=verb))
    op.create_table(
        "roster_outbox",
        sa.Column("edge_id", _ID, primary_key=True),
        sa.Column("roster_version", sa.BigInteger, primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_sent_at", _TS),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("acked_at", _TS),
        sa.Column("error", sa.Text, nullable=False),
    )
    op.create_table(
        "invitations",
        sa.Column("invitation_id", sa.String(36), primary_key=True),
        sa.Column("resident_id", _ID, sa.ForeignKey("residents.resident_id"), nullable=False),
        sa.Column("consent_id", _ID, sa.ForeignKey("consents.consent_id"), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
    )
    op.create_table(
        "face_templates",
        sa.Column("edge_id", _ID, primary_key=True),
        sa.Column("resident_id", _ID, primary_key=True),
        sa.Column("templates", sa.Integer, nullable=False),
        sa.Column("enrolled_at", _TS, nullable=False),
    )
    op.create_table(
        "erasures",
        sa.Column("edge_id", _ID, primary_key=True),
        sa.Column("msg_id", sa.String(36), primary_key=True),
        sa.Column("resident_id", _ID, nullable=False),
        sa.Column("templates_deleted", sa.Integer, nullable=False),
        sa.Column("deleted_at", _TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "erasures",
        "face_templates",
        "invitations",
        "roster_outbox",
        "audit_log",
        "login_failures",
        "sessions",
        "users",
        "resident_credentials",
        "consents",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("phone")
        batch.drop_column("name")
    with op.batch_alter_table("houses") as batch:
        batch.drop_column("unit")
        batch.drop_column("building")
