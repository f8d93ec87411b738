"""The guard room's local login: Argon2 password hashes, sessions, CSRF tokens, a throttle.

Works with the hub offline: the guards and their Argon2 hashes are in the edge's configuration
(``gridgate-edge guard-user add NAME`` prints an entry; no password is ever written down).
A session is a random token in an ``HttpOnly``, ``SameSite=Strict`` cookie, kept in memory (a
restart logs everyone out) and valid for ``session_hours``. Every form carries the session's
CSRF token; the login form carries one tied to a pre-login cookie. Failed logins are counted per
address and per name: ``login_attempts`` in ``login_window_s``, then refused until they age out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from edge_agent.guard_room.config import GuardRoomConfig

SESSION_COOKIE = "gg_guard"
LOGIN_COOKIE = "gg_login"
_HASHER = PasswordHasher()
# Compared against when the name is unknown, so a wrong name costs the same time as a wrong
# password and does not tell which guards exist.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    """The Argon2id hash to put in ``guard_room.users[].password_hash``."""
    return _HASHER.hash(password)


def tokens_match(sent: str, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    guard: str
    csrf: str
    expires: float  # time.monotonic()


class LoginThrottle:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                times = self._failures[key]
                while times and now - times[0] > self.window_s:
                    times.popleft()
                if len(times) >= self.limit:
                    return True
            return False

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures[key].append(time.monotonic())


class GuardAuth:
    def __init__(self, config: GuardRoomConfig) -> None:
        self.config = config
        self._hashes = {u.name: u.password_hash for u in config.users}
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self.throttle = LoginThrottle(config.login_attempts, config.login_window_s)

    def log_in(self, name: str, password: str, address: str) -> Session | None:
        """A new session, or None for a wrong name or password (counted by the throttle; the
        caller checks :meth:`LoginThrottle.blocked` first)."""
        stored = self._hashes.get(name)
        try:
            _HASHER.verify(stored or _DUMMY_HASH, password)
            ok = stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            self.throttle.failed(f"addr:{address}", f"name:{name[:64]}")
            return None
        session = Session(
            secrets.token_urlsafe(32),
            name,
            secrets.token_urlsafe(32),
            time.monotonic() + self.config.session_hours * 3600,
        )
        with self._lock:
            now = time.monotonic()
            for token in [t for t, s in self._sessions.items() if s.expires <= now]:
                del self._sessions[token]
            self._sessions[session.token] = session
        return session

    def session(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            found = self._sessions.get(token)
            if found is not None and found.expires <= time.monotonic():
                del self._sessions[token]
                return None
            return found

    def log_out(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def cookie(self, name: str, value: str, max_age_s: int) -> str:
        secure = "; Secure" if self.config.secure_cookie else ""
        return (
            f"{name}={value}; Max-Age={max_age_s}; Path=/guard; HttpOnly; SameSite=Strict{secure}"
        )

    def session_cookie(self, session: Session) -> str:
        return self.cookie(SESSION_COOKIE, session.token, int(self.config.session_hours * 3600))
