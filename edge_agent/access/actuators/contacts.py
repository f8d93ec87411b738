"""``http`` door contact: the door controller (a peer on the LAN) POSTs each change of the door's
state to the edge's ``POST /door`` with the reader token; nothing to poll here."""

from __future__ import annotations

from edge_agent.access.actuators.base import DoorContact, register_contact
from edge_agent.access.actuators.config import HttpContactConfig


class HttpContact(DoorContact):
    """Fed by the HTTP route (:meth:`DoorContact.changed`)."""


@register_contact("http")
def _create(config: HttpContactConfig, gate: str) -> HttpContact:
    return HttpContact(gate)
