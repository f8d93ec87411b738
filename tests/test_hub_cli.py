"""``gridgate-hub import`` and ``gridgate-hub user add``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.cli import main
from hub.config import DatabaseConfig
from hub.store.db import make_engine
from hub.store.schema import areas, users
from tests.hub_helpers import AREAS


def test_import_and_user_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = f"sqlite:///{tmp_path}/hub.sqlite3"
    config = tmp_path / "hub.yaml"
    config.write_text(f"database:\n  url: {database}\napi:\n  enabled: false\n")
    bad = tmp_path / "areas-bad.csv"
    bad.write_text(AREAS + "GX,grid,X,NOPE\nGY,planet,Y,CA\n", encoding="utf-8")
    assert main(["import", "--config", str(config), "areas", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing imported; 2 problems" in err
    assert "row 9, parent_id: no such area: NOPE" in err
    assert "row 10, level: must be one of" in err
    good = tmp_path / "areas.csv"
    good.write_text(AREAS, encoding="utf-8")
    assert main(["import", "--config", str(config), "areas", str(good)]) == 0
    assert "imported 7 areas" in capsys.readouterr().err
    monkeypatch.setenv("GRIDGATE_NEW_PASSWORD", "a long enough password")
    assert main(["user", "add", "--config", str(config), "ops", "--role", "admin"]) == 0
    assert main(["user", "add", "--config", str(config), "ops", "--role", "admin"]) == 1
    assert "user not added" in capsys.readouterr().err
    monkeypatch.setenv("GRIDGATE_NEW_PASSWORD", "short")
    assert main(["user", "add", "--config", str(config), "x", "--role", "admin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    engine = make_engine(DatabaseConfig(url=database))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(areas)) == 7
        assert conn.scalar(select(func.count()).select_from(users)) == 1
    engine.dispose()
