"""Configuration: examples validate, errors are readable, secrets stay out of YAML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from edge_agent.config import EdgeConfig
from gridgate_core.config import load_config
from gridgate_core.errors import ConfigError, SecretError
from gridgate_core.secrets import read_secret
from gridgate_devkit.edge_demo import DemoEdgeConfig
from hub.config import HubConfig

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("edge.example.yaml", EdgeConfig),
        ("hub.example.yaml", HubConfig),
        ("hub.embedded.yaml", HubConfig),
        ("demo/edge.yaml", DemoEdgeConfig),  # an edge config plus the devkit's demo_source
        ("demo/hub.yaml", HubConfig),
    ],
)
def test_example_configs_are_valid(name: str, model: type[BaseModel]) -> None:
    load_config(CONFIGS / name, model)


def _walk(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    missing = []
    if model in seen:
        return []
    seen.add(model)
    for name, field in model.model_fields.items():
        if not field.description:
            missing.append(f"{model.__name__}.{name}")
        for arg in getattr(field.annotation, "__args__", (field.annotation,)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                missing += _walk(arg, seen)
    return missing


@pytest.mark.parametrize("model", [EdgeConfig, HubConfig])
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    assert _walk(model, set()) == []


def test_all_errors_reported_with_paths(tmp_path: Path) -> None:
    bad = tmp_path / "edge.yaml"
    bad.write_text(
        "edge_id: 'bad id!'\n"
        "compound_id: c1\n"
        "mqtt:\n  port: 70000\n  password: hunter2\n"
        "outbox:\n  max_inflight: 0\n"
        "colour: blue\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(bad, EdgeConfig)
    paths = {path for path, _ in info.value.errors}
    assert {"edge_id", "mqtt.port", "mqtt.password", "outbox.max_inflight", "colour"} <= paths
    text = str(info.value)
    assert "mqtt.port: Input should be less than or equal to 65535" in text
    assert "mqtt.password: Extra inputs are not permitted" in text


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "edge.yaml"
    bad.write_text("edge_id: e1\ncompound_id: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(bad, EdgeConfig)
    assert info.value.errors[0][0].startswith("line ")


def test_password_in_database_url_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "hub.yaml"
    bad.write_text("database:\n  url: postgresql+psycopg://u:secret@db/x\n")
    with pytest.raises(ConfigError, match="password_secret"):
        load_config(bad, HubConfig)


@pytest.mark.parametrize("command", ["edge_agent", "hub"])
def test_validate_config_cli(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("mqtt:\n  port: nope\n  keepalive_s: 1\n")
    result = subprocess.run(
        [sys.executable, "-m", command, "--validate-config", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "mqtt.port: Input should be a valid integer" in result.stderr
    assert "mqtt.keepalive_s: Input should be greater than or equal to 5" in result.stderr
    good = CONFIGS / ("edge.example.yaml" if command == "edge_agent" else "hub.example.yaml")
    ok = subprocess.run(
        [sys.executable, "-m", command, "run", "--validate-config", "--config", str(good)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    version = subprocess.run(
        [sys.executable, "-m", command, "--version"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0
    assert "0.1.0" in version.stdout


def test_secrets_from_credentials_directory_then_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    monkeypatch.delenv("GRIDGATE_MQTT_PASSWORD", raising=False)
    with pytest.raises(SecretError, match="GRIDGATE_MQTT_PASSWORD"):
        read_secret("mqtt_password")
    monkeypatch.setenv("GRIDGATE_MQTT_PASSWORD", "from-env")
    assert read_secret("mqtt_password") == "from-env"
    (tmp_path / "mqtt_password").write_text("from-systemd\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert read_secret("mqtt_password") == "from-systemd"


def test_the_guard_room_off_loopback_needs_a_reader_token(tmp_path: Path) -> None:
    """Issue 18 review: with a guard's browser on the reader LAN, the JSON endpoints must not be
    open without a token; loopback (tests, the demo) stays allowed."""
    from edge_agent.guard_room.auth import hash_password

    user = f"{{name: li, password_hash: '{hash_password('x')}'}}"
    guard = f"guard_room:\n  enabled: true\n  users: [{user}]\n"
    bad = tmp_path / "edge.yaml"
    bad.write_text(
        "edge_id: e1\ncompound_id: c1\n"
        "http: {bind: 192.168.10.2, allow_without_token: true}\n" + guard
    )
    with pytest.raises(ConfigError) as info:
        load_config(bad, EdgeConfig)
    assert "http.token_secret" in str(info.value)
    assert "guard_room.enabled" in str(info.value)
    loopback = tmp_path / "loopback.yaml"
    loopback.write_text("edge_id: e1\ncompound_id: c1\n" + guard)
    assert load_config(loopback, EdgeConfig).guard_room.enabled
    lanes = tmp_path / "lanes.yaml"
    lanes.write_text(
        "edge_id: e1\ncompound_id: c1\ndoors:\n  - gate: north\n    exit_lanes: [300]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(lanes, EdgeConfig)
    assert any(path.startswith("doors[0].exit_lanes") for path, _ in info.value.errors)
