"""Credential reader configurations: one pydantic model per plugin, chosen by ``type``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from gridgate_core.config import StrictModel
from gridgate_wire import CredentialKind, PassageDirection
from gridgate_wire.messages import Id


class LineReaderConfig(StrictModel):
    type: Literal["line"] = Field(
        default="line", description="A reader that writes one credential per line (USB/serial)."
    )
    path: Path = Field(description="Device or pipe it writes to.")
    kind: CredentialKind = Field(description="What it reads: card, qr or pin.")
    gate: Id = Field(description="Gate it stands at.")
    lane: int = Field(default=0, ge=0, le=255, description="Lane.")
    direction: PassageDirection = Field(
        default=PassageDirection.IN, description="Direction of passages through it."
    )
