"""A small TCP proxy that can stall or cut the link between a client and the broker."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from enum import Enum


class Mode(Enum):
    PASS = "pass"
    STALL = "stall"  # connections stay open, no byte moves (a frozen cellular link)
    CUT = "cut"  # every connection is closed and new ones are closed at once


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode = Mode.PASS
        self._lock = threading.Lock()
        self._conns: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self.connections = 0  # accepted and passed through to the broker
        self.refused = 0  # closed at once because the link was cut
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def set(self, mode: Mode) -> None:
        self.mode = mode
        if mode is Mode.CUT:
            with self._lock:
                conns, self._conns = self._conns, []
            for pair in conns:
                for sock in pair:
                    _close(sock)

    def close(self) -> None:
        self._stop.set()
        self.set(Mode.CUT)
        _close(self._listener)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode is Mode.CUT:
                _close(client)
                self.refused += 1
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._conns.append((client, upstream))
            self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                if self.mode is Mode.STALL:
                    self._stop.wait(0.05)
                    continue
                readable, _, _ = select.select(list(peers), [], [], 0.05)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            _close(client)
            _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
