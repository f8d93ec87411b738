"""Secrets come from systemd credentials or the environment, never from a config file.

Lookup order for a secret named ``mqtt_password``:

1. ``$CREDENTIALS_DIRECTORY/mqtt_password`` (systemd ``LoadCredential=mqtt_password:...``);
2. the environment variable ``GRIDGATE_MQTT_PASSWORD``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gridgate_core.errors import SecretError

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def env_name(name: str) -> str:
    return "GRIDGATE_" + name.upper()


def validate_secret_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ValueError("secret names are 1-64 lower-case letters, digits and '_'")
    return name


def read_secret(name: str) -> str:
    """Return the secret ``name`` (trailing newline stripped) or raise :class:`SecretError`."""
    validate_secret_name(name)
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        path = Path(cred_dir) / name
        if path.is_file():
            return path.read_text(encoding="utf-8").rstrip("\n")
    value = os.environ.get(env_name(name))
    if value is not None:
        return value
    raise SecretError(
        f"secret {name!r} not found: set {env_name(name)} or provide it with systemd "
        f"LoadCredential={name}:/path"
    )


def secret_file(name: str) -> Path | None:
    """Path of a credential file (for keys that a library must read from disk), if present."""
    validate_secret_name(name)
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir and (Path(cred_dir) / name).is_file():
        return Path(cred_dir) / name
    return None
