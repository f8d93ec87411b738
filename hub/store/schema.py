"""Tables of the hub's ingest side."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
)

metadata = MetaData()

edge_messages = Table(
    "edge_messages",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("edge_id", String(64), nullable=False),
    Column("msg_id", String(36), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),
    # The edge store's epoch ("" from edges that send none): seq restarts with a new epoch.
    Column("epoch", String(64), nullable=False, server_default=""),
    UniqueConstraint("edge_id", "msg_id", name="uq_edge_message"),
    Index("ix_edge_messages_edge_epoch_seq", "edge_id", "epoch", "seq"),
)

edges = Table(
    "edges",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("max_seq", BigInteger, nullable=False, default=0),
    Column("received", BigInteger, nullable=False, default=0),
    Column("state", String(16), nullable=False, default="unknown"),
    Column("last_status_at", DateTime(timezone=True)),
    Column("outbox_depth", BigInteger, nullable=False, default=0),
    Column("software", String(64), nullable=False, default=""),
    # Every message of this edge with seq <= contiguous_seq is stored: readers that must see an
    # edge's messages in order and without holes read up to here, ordered by seq.
    Column("contiguous_seq", BigInteger, nullable=False, server_default="0"),
    # The edge store's current epoch; contiguous_seq and max_seq count within it.
    Column("epoch", String(64)),
    # Highest seq a status (or last will) reported, and the status's warnings (JSON list).
    Column("status_seq", BigInteger, nullable=False, server_default="0"),
    Column("warnings", Text, nullable=False, server_default="[]"),
)

# Passages as counts (hub.passages, keep=daily_counts): no person, one row per edge, local day,
# gate, direction, method and decision.
passage_counts = Table(
    "passage_counts",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD in the site's time zone
    Column("gate", String(64), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("method", String(8), primary_key=True),
    Column("decision", String(8), primary_key=True),
    Column("passages", BigInteger, nullable=False),
)

# Every epoch an edge's store has had, and when the hub first saw it.
edge_epochs = Table(
    "edge_epochs",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("epoch", String(64), primary_key=True),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
)

# What the hub noticed about an edge that someone should look at: a new store epoch, a seq
# used twice, a gap a last will revealed, a warning the edge raised (disk budget, store).
edge_alarms = Table(
    "edge_alarms",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("edge_id", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_edge_alarms_edge_at", "edge_id", "at"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("topic", String(256), nullable=False),
    Column("field", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("size", Integer, nullable=False),
    # Only the first 4 KiB are kept: enough to debug, bounded against floods of huge payloads.
    Column("payload_head", LargeBinary, nullable=False),
    # Set when the message decoded (refused by scope, or the database refused to store it):
    # the hub acknowledged it to its edge, so it is not sent again.
    Column("edge_id", String(64)),
    Column("msg_id", String(36)),
    Index("ix_dead_letters_received_at", "received_at"),
)


# ------------------------------------------------------------------------------ registry (#7)

areas = Table(
    "areas",
    metadata,
    Column("area_id", String(64), primary_key=True),
    Column("level", String(16), nullable=False),  # district | street | community | grid
    Column("name", String(128), nullable=False),
    Column("parent_id", String(64), ForeignKey("areas.area_id")),
    Index("ix_areas_parent", "parent_id"),  # 0007
)

compounds = Table(
    "compounds",
    metadata,
    Column("compound_id", String(64), primary_key=True),
    Column("community_id", String(64), ForeignKey("areas.area_id"), nullable=False),
    Column("name", String(128), nullable=False),
    Index("ix_compounds_community", "community_id"),  # 0007
)

houses = Table(
    "houses",
    metadata,
    Column("house_id", String(64), primary_key=True),
    Column("compound_id", String(64), ForeignKey("compounds.compound_id"), nullable=False),
    Column("grid_id", String(64), ForeignKey("areas.area_id"), nullable=False),
    Column("address", String(200), nullable=False),
    Column("vacant", Boolean, nullable=False),
    Column("building", String(32), nullable=False, server_default=""),
    Column("unit", String(32), nullable=False, server_default=""),
    # Scoped reads (issue 19, 0007): a grid's houses in id order, a compound's houses.
    Index("ix_houses_grid", "grid_id", "house_id"),
    Index("ix_houses_compound", "compound_id"),
)

residents = Table(
    "residents",
    metadata,
    Column("resident_id", String(64), primary_key=True),
    Column("house_id", String(64), ForeignKey("houses.house_id"), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("care_recipient", Boolean, nullable=False),
    Column("name", String(128), nullable=False, server_default=""),
    Column("phone", String(32), nullable=False, server_default=""),
    Index("ix_residents_house", "house_id"),  # 0007
)

workers = Table(
    "workers",
    metadata,
    Column("worker_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("grid_id", String(64), ForeignKey("areas.area_id"), nullable=False),
    Column("leader", Boolean, nullable=False),
    Index("ix_workers_grid", "grid_id"),  # 0007
)

edge_compounds = Table(
    "edge_compounds",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("compound_id", String(64), ForeignKey("compounds.compound_id"), nullable=False),
    Column("roster_version", BigInteger, nullable=False),
    # An edge refused a delta: a full snapshot is built for it outside ingest (hub duties).
    Column("snapshot_wanted_at", DateTime(timezone=True)),
)

# ------------------------------------------------------------------------------ tasks (#7)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("house_id", String(64), ForeignKey("houses.house_id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("open", Boolean, nullable=False),
    Column("resident_id", String(64)),
    Column("worker_id", String(64), ForeignKey("workers.worker_id")),
    Column("assignee", String(80), nullable=False),  # worker, grid leader or community centre
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("outcome", String(32)),
    # "Nobody home": the task stays open and comes back to the worker at this time (#13, #15).
    Column("revisit_at", DateTime(timezone=True)),
    # One open task per house and kind; closed tasks keep their history.
    Index(
        "uq_open_task",
        "house_id",
        "kind",
        unique=True,
        sqlite_where=Column("open") == True,  # noqa: E712 - SQL expression
        postgresql_where=Column("open") == True,  # noqa: E712
    ),
    # 0007: open tasks of a house and kind, a worker's open tasks, lists by due time,
    # reports by creation time.
    Index("ix_tasks_house_kind_open", "house_id", "kind", "open"),
    Index("ix_tasks_worker_open", "worker_id", "open"),
    Index("ix_tasks_due", "due_at", "task_id"),
    Index("ix_tasks_created", "created_at"),
)

task_evidence = Table(
    "task_evidence",
    metadata,
    Column("task_id", String(64), ForeignKey("tasks.task_id"), primary_key=True),
    Column("edge_id", String(64), primary_key=True),
    Column("msg_id", String(36), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("confidence", Float, nullable=False),
    # The alert's evidence as the edge sent it (JSON of gridgate_wire.AlertEvidence, #13).
    Column("evidence", Text, nullable=False, server_default="{}"),
)

task_transitions = Table(
    "task_transitions",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("task_id", String(64), ForeignKey("tasks.task_id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Index("ix_task_transitions_task", "task_id", "pk"),  # 0007
    Index("ix_task_transitions_at", "at"),
)

# An alert whose house is missing or unknown: the community centre reviews it (#13).
alert_reviews = Table(
    "alert_reviews",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("msg_id", String(36), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("compound_id", String(64)),
    Column("house_named", String(64)),  # as the edge named it; may be unregistered or empty
    Column("resident_id", String(64)),
    Column("community_id", String(64)),  # the compound's community, when the compound is known
    Column("confidence", Float, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(80)),
    Column("resolution", Text, nullable=False, server_default=""),
    Index("ix_alert_reviews_open", "resolved_at", "community_id"),
)

# A resident (or a whole household) told the centre they will be away (外出报备, #13).
away_reports = Table(
    "away_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("house_id", String(64), ForeignKey("houses.house_id"), nullable=False),
    Column("resident_id", String(64), ForeignKey("residents.resident_id")),  # None: household
    Column("away_from", DateTime(timezone=True), nullable=False),
    Column("back_on", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False),
    Column("recorded_by", String(80), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_away_reports_house", "house_id", "back_on"),
)

# ------------------------------------------------------- people, access, sync, privacy (#7)

consents = Table(
    "consents",
    metadata,
    Column("consent_id", String(64), primary_key=True),
    Column("resident_id", String(64), ForeignKey("residents.resident_id"), nullable=False),
    Column("purpose", String(32), nullable=False),  # "face" is the only purpose the edge uses
    Column("version", String(32), nullable=False),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("guardian_id", String(64)),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("recorded_by", String(80), nullable=False),
    Index("ix_consents_resident", "resident_id"),  # 0007
)

# A resident's face consent in force: the edges may hold templates only while one exists.
CURRENT_FACE_CONSENT = and_(consents.c.purpose == "face", consents.c.withdrawn_at.is_(None))

resident_credentials = Table(
    "resident_credentials",
    metadata,
    Column("resident_id", String(64), ForeignKey("residents.resident_id"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # card | qr | pin
    # Only the sha256 is kept, as on the edge: a stolen database cannot open a gate.
    Column("secret_sha256", String(64), primary_key=True),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(24), nullable=False),  # admin | community_admin | grid_worker
    Column("area_id", String(64), ForeignKey("areas.area_id")),
    Column("worker_id", String(64), ForeignKey("workers.worker_id")),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    # sha256 of the bearer token: a database dump holds no usable session.
    Column("token_sha256", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.user_id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("username", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_login_failures_username_at", "username", "at"),
    Index("ix_login_failures_client_at", "client", "at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column(
        "pk", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("action", String(16), nullable=False),  # read | create | update | delete | export
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(200), nullable=False),
    Column("community_id", String(64)),
    Column("detail", Text, nullable=False),
    # Every id a list read returned, as a JSON list (object_id keeps the first 200 characters).
    Column("object_ids", Text),
    Index("ix_audit_log_community", "community_id", "pk"),  # 0007
)

roster_outbox = Table(
    "roster_outbox",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("roster_version", BigInteger, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False),
    Column("acked_at", DateTime(timezone=True)),
    Column("error", Text, nullable=False),
    # A snapshot too large for one message is split: payload is part 1, roster_parts the rest.
    Column("parts", Integer, nullable=False, server_default="1"),
)

roster_parts = Table(
    "roster_parts",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("roster_version", BigInteger, primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("last_sent_at", DateTime(timezone=True)),
)

invitations = Table(
    "invitations",
    metadata,
    Column("invitation_id", String(36), primary_key=True),
    Column("resident_id", String(64), ForeignKey("residents.resident_id"), nullable=False),
    Column("consent_id", String(64), ForeignKey("consents.consent_id"), nullable=False),
    Column("code_sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # sent | enrolled | refused
    Column("reason", String(200), nullable=False),
    Index("ix_invitations_resident", "resident_id"),  # 0007
)

face_templates = Table(
    "face_templates",
    metadata,
    # Counts only: which edge holds templates of which resident. The templates never leave it.
    Column("edge_id", String(64), primary_key=True),
    Column("resident_id", String(64), primary_key=True),
    Column("templates", Integer, nullable=False),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    Index("ix_face_templates_resident", "resident_id"),  # 0007
)

erasures = Table(
    "erasures",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("msg_id", String(36), primary_key=True),
    Column("resident_id", String(64), nullable=False),
    Column("templates_deleted", Integer, nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=False),
)

# ------------------------------------------------------------------------ visitor passes (#18)

# A pass for a host house: the visitor's name and phone are for the guard room and the house,
# and stay at the hub; edges get the projection hub.passes.edge_pass builds (no phone).
visitor_passes = Table(
    "visitor_passes",
    metadata,
    Column("pass_id", String(64), primary_key=True),
    Column("compound_id", String(64), ForeignKey("compounds.compound_id"), nullable=False),
    Column("house_id", String(64), ForeignKey("houses.house_id"), nullable=False),
    Column("kind", String(16), nullable=False),  # visitor | carer | domestic_helper
    Column("origin", String(16), nullable=False),  # centre | guard_room
    Column("display_name", String(64), nullable=False),
    Column("visitor_name", String(64), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=False),
    Column("max_uses", Integer),
    Column("gates", Text),  # JSON list, NULL for every gate
    Column("schedule", Text),  # JSON PassSchedule, NULL for any time
    Column("secrets", Text, nullable=False),  # JSON list of salted hashes, never the values
    Column("issued_by", String(80), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", String(80)),
    Column("revoke_reason", String(200), nullable=False, server_default=""),
    # A walk-in: the edge that registered it and the walk_in_pass message it came in.
    Column("edge_id", String(64)),
    Column("msg_id", String(36)),
    Index("ix_visitor_passes_house", "house_id", "valid_until"),
    Index("ix_visitor_passes_compound", "compound_id", "valid_until"),
)

# Per edge: the pass list version last issued (like edge_compounds.roster_version), and when
# the edge refused a delta and wants a full list.
edge_pass_lists = Table(
    "edge_pass_lists",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("pass_version", BigInteger, nullable=False),
    Column("full_wanted_at", DateTime(timezone=True)),
)

# Every pass update, kept until its edge acknowledges it (like roster_outbox).
pass_outbox = Table(
    "pass_outbox",
    metadata,
    Column("edge_id", String(64), primary_key=True),
    Column("pass_version", BigInteger, primary_key=True),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False),
    Column("acked_at", DateTime(timezone=True)),
    Column("error", Text, nullable=False),
)
