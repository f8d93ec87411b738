"""District scale (issue 19): indexes on the foreign keys and columns that scoped reads filter
and order by, and the full list of ids an audited list read returned.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (name, table, columns): mirrored in hub/store/schema.py.
INDEXES = (
    ("ix_areas_parent", "areas", ["parent_id"]),
    ("ix_compounds_community", "compounds", ["community_id"]),
    ("ix_houses_grid", "houses", ["grid_id", "house_id"]),
    ("ix_houses_compound", "houses", ["compound_id"]),
    ("ix_residents_house", "residents", ["house_id"]),
    ("ix_workers_grid", "workers", ["grid_id"]),
    ("ix_tasks_house_kind_open", "tasks", ["house_id", "kind", "open"]),
    ("ix_tasks_worker_open", "tasks", ["worker_id", "open"]),
    ("ix_tasks_due", "tasks", ["due_at", "task_id"]),
    ("ix_tasks_created", "tasks", ["created_at"]),
    ("ix_task_transitions_task", "task_transitions", ["task_id", "pk"]),
    ("ix_task_transitions_at", "task_transitions", ["at"]),
    ("ix_consents_resident", "consents", ["resident_id"]),
    ("ix_face_templates_resident", "face_templates", ["resident_id"]),
    ("ix_invitations_resident", "invitations", ["resident_id"]),
    ("ix_audit_log_community", "audit_log", ["community_id", "pk"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    # Every id a list read returned (a JSON list; a page holds at most 200): object_id keeps
    # its first 200 characters for the log's own list and search.
    op.add_column("audit_log", sa.Column("object_ids", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("object_ids")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
