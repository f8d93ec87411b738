"""The hub's refusals, one tree: services, the domain modules and the query layer raise these;
the HTTP boundary (hub.app) maps each kind to a status once, as JSON for the API and as a page in
the user's language for the web pages. Nothing below the boundary knows about HTTP.

HubError
 ├── Unauthenticated   no session, a wrong password, an expired or disabled session (401)
 │    └── hub.web.session.LoginRequired   a page without a session: redirect to the login form
 ├── Forbidden         logged in, but not allowed: role or CSRF token (403)
 ├── NotFound          unknown, or outside the user's scope: the same answer for both (404)
 ├── Conflict          the object's state refuses the change: a task closed already (409)
 ├── TooLarge          a body past what the hub accepts (413)
 ├── Invalid           input the rules refuse, often with a code the pages translate (422)
 └── Throttled         too many failed logins (429)

``detail`` is what the API answers in ``{"detail": ...}``: a sentence, or a mapping with a
``code`` (the pages' catalogue key ``error.<code>``), the ``field`` and the ``reason``.
"""

from __future__ import annotations

Detail = str | dict[str, str]


class HubError(Exception):
    """Base of every refusal the hub answers a request with."""

    def __init__(self, detail: Detail) -> None:
        super().__init__(detail if isinstance(detail, str) else detail.get("reason", ""))
        self.detail: Detail = detail

    @property
    def code(self) -> str | None:
        """The catalogue code, when the refusal has one."""
        return self.detail.get("code") if isinstance(self.detail, dict) else None


class Unauthenticated(HubError):
    """No valid session, or a login refused."""


class Forbidden(HubError):
    """The principal may not do this."""


class NotFound(HubError):
    """No such object, or one outside the principal's scope."""

    @classmethod
    def of(cls, what: str, object_id: str) -> NotFound:
        return cls(f"no {what} {object_id}")


class Conflict(HubError):
    """The object's current state refuses the change."""


class TooLarge(HubError):
    """The request's body is larger than the hub takes."""


class Invalid(HubError):
    """Input the rules refuse."""

    @classmethod
    def field(cls, code: str, field: str, reason: str) -> Invalid:
        return cls({"code": code, "field": field, "reason": reason})


class Throttled(HubError):
    """Too many failed attempts; try again later."""


__all__ = [
    "Conflict",
    "Detail",
    "Forbidden",
    "HubError",
    "Invalid",
    "NotFound",
    "Throttled",
    "TooLarge",
    "Unauthenticated",
]
