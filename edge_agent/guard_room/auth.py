"""The guard room's local login: Argon2 password hashes, sessions, CSRF tokens, a throttle.

Works with the hub offline: the guards and their Argon2 hashes are in the edge's configuration
(``gridgate-edge guard-user add NAME`` prints an entry; no password is ever written down).
A session is a random token in an ``HttpOnly``, ``SameSite=Strict`` cookie, kept in memory (a
restart logs everyone out) and valid for ``session_hours``. Every form carries the session's
CSRF token; the login form carries one tied to a pre-login cookie. Failed logins are counted per
(address, name) and per address (:class:`LoginThrottle`), with a lockout that grows; a name is
never locked for every address.
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
    """Failed logins per (address, name) and per address, with a lockout that grows.

    Callers pass ``addr:<address>`` and ``name:<name>`` keys. The name alone is never a key: a
    stranger's wrong passwords for a guard's name must not lock that guard out of their own
    address. ``limit`` failures of one (address, name) in ``window_s`` lock the pair, and
    ``limit * ADDRESS_FACTOR`` failures from one address (a spray over many names) lock the
    address; each lockout of a key lasts ``window_s`` times 2 to the number of lockouts before
    it, up to ``MAX_LOCKOUT_S``. Keys are forgotten once quiet, and at most ``MAX_KEYS`` kept.
    """

    ADDRESS_FACTOR = 3
    MAX_LOCKOUT_S = 3600.0
    MAX_KEYS = 10_000

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked: dict[str, tuple[float, int]] = {}  # until, lockouts so far
        self._lock = threading.Lock()

    def _keys(self, keys: tuple[str, ...]) -> list[tuple[str, int]]:
        addresses = [k for k in keys if k.startswith("addr:")]
        names = [k for k in keys if k.startswith("name:")]
        found = [(k, self.limit * self.ADDRESS_FACTOR) for k in addresses]
        found += [(f"pair:{a[5:]}|{n[5:]}", self.limit) for a in addresses for n in names]
        if not addresses:  # no address known: the name is all there is
            found += [(n, self.limit) for n in names]
        return found

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            self._evict(now)
            return any(self._locked.get(key, (0.0, 0))[0] > now for key, _ in self._keys(keys))

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key, limit in self._keys(keys):
                times = self._failures[key]
                times.append(now)
                while times and now - times[0] > self.window_s:
                    times.popleft()
                if len(times) >= limit:
                    _, count = self._locked.get(key, (0.0, 0))
                    lockout = min(self.window_s * 2**count, self.MAX_LOCKOUT_S)
                    self._locked[key] = (now + lockout, count + 1)
                    times.clear()
            while len(self._failures) > self.MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def _evict(self, now: float) -> None:
        quiet = [k for k, t in self._failures.items() if not t or now - t[-1] > self.window_s]
        for key in quiet:
            del self._failures[key]
        # A lockout count is kept for one longest lockout after it ended, so repeats grow.
        ended = [k for k, (until, _) in self._locked.items() if now - until > self.MAX_LOCKOUT_S]
        for key in ended:
            del self._locked[key]


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
