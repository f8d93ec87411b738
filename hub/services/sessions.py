"""Logging in and out, the session behind a token, and who may do what: the login, CSRF and
role rules of the API and the pages, written once."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from hub import audit, auth
from hub.audit import Action
from hub.auth import Principal, Role, SessionPolicy
from hub.errors import Forbidden, HubError, Unauthenticated
from hub.uow import UnitOfWork

STAFF = frozenset({Role.ADMIN, Role.COMMUNITY_ADMIN})


@dataclass(frozen=True)
class Session:
    token: str
    principal: Principal


def login(
    work: UnitOfWork, username: str, password: str, client: str, policy: SessionPolicy
) -> Session:
    """Open a session; a refusal (Unauthenticated, Throttled) is raised after the commit, so
    that the failure counts towards the throttle."""
    try:
        token, principal = auth.login(work.conn, username, password, client, policy)
    except HubError as refused:
        work.refuse_after_commit(refused)
    audit.record(work.conn, principal.actor, Action.LOGIN, "user", principal.user_id)
    return Session(token, principal)


def logout(work: UnitOfWork, principal: Principal, token: str) -> None:
    """Revoke the session on the server; the token stops working at once."""
    auth.logout(work.conn, token)
    audit.record(work.conn, principal.actor, Action.LOGOUT, "user", principal.user_id)


def authenticate(work: UnitOfWork, token: str | None, policy: SessionPolicy) -> Principal:
    """The principal behind ``token``; an expired session is revoked (committed) and refused."""
    if not token:
        raise Unauthenticated("not logged in")
    try:
        return auth.authenticate(work.conn, token, policy)
    except HubError as refused:
        work.refuse_after_commit(refused)


def check_csrf(principal: Principal, sent: str) -> None:
    """A cookie-authenticated write must echo the session's CSRF token."""
    if not hmac.compare_digest(sent, principal.csrf_token):
        raise Forbidden("missing or wrong CSRF token")


def is_staff(principal: Principal | None) -> bool:
    return principal is not None and principal.role in STAFF


def require_staff(principal: Principal) -> Principal:
    if not is_staff(principal):
        raise Forbidden("community staff only")
    return principal


def require_admin(principal: Principal) -> Principal:
    if principal.role is not Role.ADMIN:
        raise Forbidden("administrators only")
    return principal
