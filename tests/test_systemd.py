"""The systemd units validate their config before start and take secrets as credentials."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).resolve().parent.parent / "systemd").glob("*.service"))


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_shape(unit: Path) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(unit.read_text())
    service = parser["Service"]
    assert service["User"] == "gridgate"
    assert "--validate-config" in service["ExecStartPre"]
    assert " run --config " in service["ExecStart"]
    assert service["Restart"] == "always"
    assert "LoadCredential" in service
