"""The edge's local HTTP endpoint (LAN): health, metrics, credentials and enrolment codes.

    GET  /healthz      200 when the agent is healthy, 503 otherwise; JSON details
    GET  /metrics      Prometheus text format
    POST /credential   {"gate", "kind": card|qr|pin, "value", "direction"?, "lane"?}
    POST /enrol        {"code", "camera"}: a resident presents an enrolment code at a kiosk

Readers authenticate with ``X-Gridgate-Token`` when a token secret is configured (``/metrics``
too). Wrong tokens and malformed requests from one address are slowed down here; refused
credentials are throttled per gate, lane and kind by the passage desk, whatever the source, so
PIN guessing meets the limit and one client cannot block a reader for everyone behind it.
A request must arrive within ``READ_TIMEOUT_S``: half-sent requests do not hold threads.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

_LOGGER = logging.getLogger(__name__)

JsonObject = dict[str, object]
Reply = tuple[int, JsonObject]


class Routes(Protocol):
    """What the server serves (:class:`edge_agent.http_routes.EdgeRoutes`)."""

    def healthz(self) -> Reply: ...
    def metrics(self) -> bytes: ...
    def credential(self, body: JsonObject) -> Reply: ...
    def enrol(self, body: JsonObject) -> Reply: ...


MAX_BODY = 4096
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
            times = self._seen[address]
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

            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._json(*routes.healthz())
                elif self.path == "/metrics":
                    if not self._authorised():
                        self._json(401, {"error": "missing or wrong X-Gridgate-Token"})
                        return
                    self._reply(200, routes.metrics(), "text/plain; version=0.0.4")
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                address = self.client_address[0]
                handlers = {"/credential": routes.credential, "/enrol": routes.enrol}
                if self.path not in handlers:
                    self._json(404, {"error": "not found"})
                    return
                if server.throttle.blocked(address):
                    self._json(429, {"error": "too many refusals; wait a minute"})
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
