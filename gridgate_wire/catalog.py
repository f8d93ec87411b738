"""Every message kind of the contract, by kind name: the codec's and the docs' one list."""

from __future__ import annotations

from gridgate_wire.alarms import DOOR_MESSAGES
from gridgate_wire.messages import CORE_MESSAGES, Message
from gridgate_wire.passes import PASS_MESSAGES

ALL_MESSAGES: tuple[type[Message], ...] = (*CORE_MESSAGES, *PASS_MESSAGES, *DOOR_MESSAGES)
BY_KIND: dict[str, type[Message]] = {m.KIND: m for m in ALL_MESSAGES}
