"""Tables of the hub's ingest side."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
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
    UniqueConstraint("edge_id", "msg_id", name="uq_edge_message"),
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
)
