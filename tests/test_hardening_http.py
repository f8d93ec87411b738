"""Issue 14: body limits before parsing, terse 422s, login throttling, sessions, redirects."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from hub.api.limits import IMPORT_LIMIT, is_local_path
from hub.app import create_app
from hub.auth import SessionPolicy, hash_password
from hub.auth import login as auth_login
from hub.context import HubContext
from hub.store.schema import users
from tests.hub_helpers import PASSWORD, login, seed
from tests.waiting import wait_until


@contextmanager
def served(engine: Engine) -> Iterator[int]:
    """The hub's app on a real uvicorn, as in production (the limits are ASGI, before parsing)."""
    app = create_app(HubContext(engine=engine, publish=lambda _out: None))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10, what="uvicorn to listen")
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(5)


def _status_line(sock: socket.socket) -> str:
    sock.settimeout(5)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def test_a_300_mb_login_is_refused_before_its_body_is_read(engine: Engine) -> None:
    with served(engine) as port:
        for path, kind in (
            ("/api/v1/auth/login", "application/json"),
            ("/login", "application/x-www-form-urlencoded"),
            ("/api/v1/import/houses", "text/csv"),
        ):
            size = 300 * 1024 * 1024
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {kind}\r\n"
                    f"Content-Length: {size}\r\n\r\n".encode()
                )
                started = time.monotonic()
                assert " 413 " in _status_line(sock), path
                assert time.monotonic() - started < 2


def test_a_chunked_body_is_cut_at_the_limit_while_it_streams(engine: Engine) -> None:
    seeded = seed(engine)
    with engine.begin() as conn:
        token, _ = auth_login(conn, seeded.users["admin"], PASSWORD, "test", SessionPolicy())
    with served(engine) as port:
        for path, limit in (
            ("/api/v1/auth/login", 64 * 1024),
            ("/api/v1/import/houses", IMPORT_LIMIT),
        ):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                    f"Authorization: Bearer {token}\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n".encode()
                )
                chunk = b"a" * 65536
                sent = 0
                try:
                    while sent <= limit + 4 * len(chunk):
                        sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        sent += len(chunk)
                except OSError:
                    pass  # the hub closed the connection: it stopped reading
                assert " 413 " in _status_line(sock), path


def test_validation_errors_do_not_echo_the_input(engine: Engine) -> None:
    app = create_app(HubContext(engine=engine, publish=lambda _out: None))
    with TestClient(app) as client:
        reply = client.post(
            "/api/v1/auth/login", json={"username": "x" * 60_000, "password": ["y" * 1000]}
        )
    assert reply.status_code == 422
    assert len(reply.content) < 2000
    assert "xxxxxxxxxx" not in reply.text
    assert "yyyyyyyyyy" not in reply.text
    assert reply.json()["detail"][0]["loc"]


def _login(client: TestClient, username: str, password: str) -> int:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return reply.status_code


def test_login_throttle_is_per_address_and_cannot_lock_a_user_out(engine: Engine) -> None:
    seeded = seed(engine)
    victim = seeded.users["worker_a1"]
    ctx = HubContext(engine=engine, publish=lambda _out: None)
    with (
        TestClient(create_app(ctx), client=("203.0.113.9", 1)) as attacker,
        TestClient(create_app(ctx), client=("198.51.100.7", 1)) as owner,
    ):
        for _ in range(5):
            assert _login(attacker, victim, "wrong password") == 401
        assert _login(attacker, victim, PASSWORD) == 429
        # The victim, from their own address, still gets in.
        assert _login(owner, victim, PASSWORD) == 200
        # Spraying: one wrong password over many usernames from one address stops there.
        codes = [_login(attacker, f"user-{i}", "Winter2026!") for i in range(25)]
        assert codes[:15] == [401] * 15
        assert codes[-1] == 429
        assert _login(attacker, seeded.users["admin_a"], PASSWORD) == 429


def test_a_deactivated_users_sessions_stop_working(engine: Engine) -> None:
    seeded = seed(engine)
    app = create_app(HubContext(engine=engine, publish=lambda _out: None))
    with TestClient(app) as client:
        headers = login(client, seeded.users["admin_a"])
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        with engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.username == seeded.users["admin_a"])
                .values(active=False)
            )
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_login_never_redirects_off_the_hub(engine: Engine) -> None:
    seeded = seed(engine)
    app = create_app(HubContext(engine=engine, publish=lambda _out: None))
    with TestClient(app, follow_redirects=False) as client:
        for target in ("//evil.example/x", "/\\evil.example", "https://evil.example", "/ok"):
            reply: Any = client.post(
                "/login",
                data={"username": seeded.users["admin_a"], "password": PASSWORD, "next": target},
            )
            assert reply.status_code == 303
            location = reply.headers["location"]
            # Starlette quotes "/\\x" to "/%5Cx": a path on this hub, as is "/".
            assert urlsplit(location).netloc == ""
            assert is_local_path(location)
            assert location.startswith("/ok") == (target == "/ok")


def test_weak_passwords_are_refused_whatever_their_length() -> None:
    for weak in ("aaaaaaaaaaaa", "1212121212121", "1234567890", "Password123"):
        with pytest.raises(ValueError, match="password"):
            hash_password(weak)
    assert hash_password("correct horse battery")
