"""The guard-room page's configuration: who may log in, how long a session lasts."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from gridgate_core.config import StrictModel
from gridgate_wire.messages import Id


class GuardUser(StrictModel):
    name: Id = Field(description="Login name of a guard (recorded on walk-ins and releases).")
    password_hash: str = Field(
        description="Argon2 hash of the password: `gridgate-edge guard-user add NAME` prints it."
    )

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str) -> str:
        if not value.startswith("$argon2"):
            raise ValueError(
                "must be an Argon2 hash ($argon2id$...), never a password; "
                "make one with `gridgate-edge guard-user add NAME`"
            )
        return value


class GuardRoomConfig(StrictModel):
    enabled: bool = Field(
        default=False, description="Serve the guard-room page at /guard on the local endpoint."
    )
    users: list[GuardUser] = Field(default_factory=list, description="Guards who may log in.")
    session_hours: float = Field(
        default=12.0, gt=0, le=72, description="A login lasts this long (one shift)."
    )
    secure_cookie: bool = Field(
        default=False,
        description="Mark the session cookie Secure (only when a TLS proxy serves the page).",
    )
    login_attempts: int = Field(
        default=5, ge=1, le=100, description="Failed logins per address or name per window."
    )
    login_window_s: float = Field(
        default=300.0, gt=0, le=86_400, description="The window login_attempts counts over."
    )
    recent_events: int = Field(
        default=20, ge=1, le=200, description="Gate passages shown on the live page."
    )
    default_stay_hours: float = Field(
        default=4.0, gt=0, le=720, description="A walk-in's stay when the guard gives none."
    )
    max_stay_hours: float = Field(
        default=72.0, gt=0, le=720, description="Longest stay a walk-in pass may be issued for."
    )
    walk_in_uses: int | None = Field(
        default=4,
        ge=1,
        le=1000,
        description="Entries a walk-in pass allows (None: any number within its stay).",
    )

    @model_validator(mode="after")
    def _users(self) -> GuardRoomConfig:
        if self.enabled and not self.users:
            raise ValueError("guard_room is enabled but has no users")
        names = [u.name for u in self.users]
        if len(set(names)) != len(names):
            raise ValueError("guard_room.users: names must be unique")
        if self.default_stay_hours > self.max_stay_hours:
            raise ValueError("default_stay_hours must not exceed max_stay_hours")
        return self
