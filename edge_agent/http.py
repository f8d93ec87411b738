"""The edge's local HTTP endpoint (LAN): health, metrics, credentials and enrolment codes.

    GET  /healthz      200 when the agent is healthy, 503 otherwise; JSON details
    GET  /metrics      Prometheus text format
    POST /credential   {"gate", "kind": card|qr|pin, "value", "direction"?, "lane"?}
    POST /enrol        {"code", "camera"}: a resident presents an enrolment code at a kiosk
    POST /door         {"gate", "lane"?, "state": open|closed|exit_request}: a door controller
    GET|POST /guard/*  the guard-room pages (HTML, their own login; :mod:`edge_agent.guard_room`)

Readers and door controllers authenticate with ``X-Gridgate-Token`` when a token secret is
configured (``/metrics`` too); the guard-room pages have their own login instead. Wrong
tokens and malformed requests from one address are slowed down here; refused credentials and
enrolment codes are throttled per gate (or kiosk) and kind and per caller by the passage desk,
whatever the source and whatever lane is sent, so guessing meets one limit.
A request must arrive within ``READ_TIMEOUT_S``: half-sent requests do not hold threads.
JSON endpoints take only ``Content-Type: application/json`` and refuse a foreign ``Origin``, so
another web page open on a guard's browser cannot POST to them.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

_LOGGER = logging.getLogger(__name__)

JsonObject = dict[str, object]
Reply = tuple[int, JsonObject]


class Routes(Protocol):
    """What the server serves (:class:`edge_agent.http_routes.EdgeRoutes`)."""

    def healthz(self) -> Reply: ...
    def metrics(self) -> bytes: ...
    def credential(self, body: JsonObject, caller: str | None = None) -> Reply: ...
    def enrol(self, body: JsonObject, caller: str | None = None) -> Reply: ...
    def door(self, body: JsonObject) -> Reply: ...


@dataclass(frozen=True, slots=True)
class PageRequest:
    method: str
    path: str
    query: Mapping[str, str]
    form: Mapping[str, str]
    cookies: Mapping[str, str]
    address: str


@dataclass(frozen=True, slots=True)
class PageReply:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


class Pages(Protocol):
    """HTML pages under ``PAGES_PREFIX`` (:class:`edge_agent.guard_room.pages.GuardRoomPages`)."""

    def handle(self, request: PageRequest) -> PageReply: ...


PAGES_PREFIX = "/guard"
# No script at all; the pages' own inline style only.
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"
MAX_BODY = 4096
MAX_FORM = 16_384
READ_TIMEOUT_S = 5.0


class RefusalThrottle:
    """At most ``limit`` refusals per address per ``window_s``; then 429 until it ages out."""

    def __init__(self, limit: int = 10, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            # Every quiet address is forgotten, so the table cannot grow without limit.
            for key in [k for k, t in self._seen.items() if not t or now - t[-1] > self.window_s]:
                del self._seen[key]
            times = self._seen.get(address)
            if times is None:
                return False
            while times and now - times[0] > self.window_s:
                times.popleft()
            return len(times) >= self.limit

    def refused(self, address: str) -> None:
        with self._lock:
            self._seen[address].append(time.monotonic())


class EdgeHttpServer:
    def __init__(
        self,
        bind: str,
        port: int,
        routes: Routes,
        token: str | None = None,
        pages: Pages | None = None,
    ) -> None:
        self.throttle = RefusalThrottle()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            timeout = READ_TIMEOUT_S  # socket timeout for reading the request

            def _authorised(self) -> bool:
                return token is None or hmac.compare_digest(
                    self.headers.get("X-Gridgate-Token", ""), token
                )

            def log_message(self, format: str, *args: Any) -> None:
                _LOGGER.debug("http %s", format % args)

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, payload: JsonObject) -> None:
                self._reply(status, json.dumps(payload).encode(), "application/json")

            def _page(self, method: str) -> None:
                assert pages is not None  # noqa: S101 - only called when pages are served
                url = urlsplit(self.path)
                form: dict[str, str] = {}
                if method == "POST":
                    try:
                        length = int(self.headers.get("Content-Length") or 0)
                    except ValueError:
                        length = -1
                    if not 0 <= length <= MAX_FORM:
                        self._reply(413, b"form too large", "text/plain; charset=utf-8")
                        return
                    raw = self.rfile.read(length).decode("utf-8", "replace")
                    form = {k: v[0] for k, v in parse_qs(raw, max_num_fields=50).items()}
                cookies = {}
                for part in self.headers.get("Cookie", "").split(";"):
                    name, _, value = part.strip().partition("=")
                    if name:
                        cookies[name] = value
                request = PageRequest(
                    method,
                    url.path,
                    {k: v[0] for k, v in parse_qs(url.query, max_num_fields=20).items()},
                    form,
                    cookies,
                    self.client_address[0],
                )
                reply = pages.handle(request)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Frame-Options", "DENY")
                self.send_header("Content-Security-Policy", PAGE_CSP)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def _foreign(self) -> Reply | None:
                """A browser's cross-site request, refused before the body is read: JSON
                endpoints take only ``application/json`` (a form or ``text/plain`` POST from
                another page cannot send it without a CORS preflight, which this server never
                answers), and an ``Origin`` other than this host's is refused."""
                content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
                if content_type.lower() != "application/json":
                    return 415, {"error": "Content-Type must be application/json"}
                origin = self.headers.get("Origin")
                if origin is not None:
                    host = self.headers.get("Host", "")
                    if urlsplit(origin).netloc.lower() != host.lower() or not host:
                        return 403, {"error": "cross-origin request refused"}
                return None

            def _is_page(self) -> bool:
                path = urlsplit(self.path).path
                return pages is not None and (
                    path == PAGES_PREFIX or path.startswith(PAGES_PREFIX + "/")
                )

            def do_GET(self) -> None:
                if self._is_page():
                    self._page("GET")
                elif self.path == "/healthz":
                    self._json(*routes.healthz())
                elif self.path == "/metrics":
                    if not self._authorised():
                        self._json(401, {"error": "missing or wrong X-Gridgate-Token"})
                        return
                    self._reply(200, routes.metrics(), "text/plain; version=0.0.4")
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                if self._is_page():
                    self._page("POST")
                    return
                address = self.client_address[0]
                handlers: dict[str, Callable[[JsonObject], Reply]] = {
                    "/credential": lambda body: routes.credential(body, address),
                    "/enrol": lambda body: routes.enrol(body, address),
                    "/door": routes.door,
                }
                if self.path not in handlers:
                    self._json(404, {"error": "not found"})
                    return
                if server.throttle.blocked(address):
                    self._json(429, {"error": "too many refusals; wait a minute"})
                    return
                foreign = self._foreign()
                if foreign is not None:
                    server.throttle.refused(address)
                    self._json(*foreign)
                    return
                if not self._authorised():
                    server.throttle.refused(address)
                    self._json(401, {"error": "missing or wrong X-Gridgate-Token"})
                    return
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length <= 0 or length > MAX_BODY:
                    server.throttle.refused(address)
                    self._json(400, {"error": f"body must be 1-{MAX_BODY} bytes of JSON"})
                    return
                try:
                    body: object = json.loads(self.rfile.read(length))
                except (ValueError, OSError):  # not JSON, or the client stopped sending
                    body = None
                if not isinstance(body, dict):
                    self._json(400, {"error": "body must be a JSON object"})
                    return
                status, payload = handlers[self.path](body)
                if status == 400:
                    server.throttle.refused(address)
                self._json(status, payload)

        self.httpd = ThreadingHTTPServer((bind, port), RequestHandler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits forever if serve_forever never ran
            self.httpd.shutdown()
            self._thread.join(5)
        self.httpd.server_close()
