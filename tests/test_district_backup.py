"""Backup and restore of a hub database (issue 19, docs/PRODUCTION.md): SQLite's online backup
while the database is open, pg_dump / pg_restore on PostgreSQL; the restored database migrates
and holds the same registry, and its audit log is still append-only."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DatabaseError

from hub.config import DatabaseConfig
from hub.store.db import make_engine, migrate
from hub.store.schema import audit_log, houses, residents
from tests.conftest import PG_ADMIN_URL
from tests.hub_helpers import login, offline_api, seed


def _counts(engine: Any) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return (
            int(conn.scalar(select(func.count()).select_from(houses)) or 0),
            int(conn.scalar(select(func.count()).select_from(residents)) or 0),
            int(conn.scalar(select(func.count()).select_from(audit_log)) or 0),
        )


def _restore(engine: Any, tmp_path: Path) -> tuple[str, Any]:
    """A copy of ``engine``'s database: (url, a call that drops it)."""
    url = engine.url
    if engine.dialect.name == "sqlite":
        target = tmp_path / "restored.sqlite3"
        with sqlite3.connect(url.database) as source, sqlite3.connect(target) as copy:
            source.backup(copy)  # the online backup API: safe while the hub has it open
        return f"sqlite:///{target}", lambda: None
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore not installed")
    dump = tmp_path / "hub.dump"
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), plain], check=True)
    name = f"gridgate_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    restored = url.set(database=name)
    target = restored.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_restore", "--no-owner", "-d", target, str(dump)], check=True)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return restored.render_as_string(hide_password=False), drop


def test_backup_restores_a_working_hub_database(engine: Any, tmp_path: Path) -> None:
    seeded = seed(engine)
    with offline_api(engine) as (client, _):
        admin = login(client, seeded.users["admin"])
        assert client.get("/api/v1/residents", headers=admin).status_code == 200  # audited
    before = _counts(engine)
    url, drop = _restore(engine, tmp_path)
    restored = make_engine(DatabaseConfig(url=url))
    try:
        migrate(restored)  # the restored revision is current: nothing to do, no error
        assert _counts(restored) == before
        with offline_api(restored) as (client, _):
            admin = login(client, seeded.users["admin"])
            listed = client.get("/api/v1/residents", headers=admin).json()
            assert {r["resident_id"] for r in listed["items"]} == {"RA1", "RA2", "RB1"}
        with pytest.raises(DatabaseError), restored.begin() as conn:
            conn.execute(audit_log.update().values(actor="someone else"))
    finally:
        restored.dispose()
        drop()
