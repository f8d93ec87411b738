"""The MQTT link: one thread owns one paho client.

Other threads never touch the paho client. They hand work to the owner thread through a queue
(:meth:`MqttLink.publish`, :meth:`MqttLink.ack`) and get a :class:`PublishHandle` to wait on. This
avoids the multi-thread deadlocks paho has shown, and keeps reconnection, resubscription and the
MQTT v5 -> 3.1.1 fallback in one place.

Sessions are persistent: MQTT v5 connects with ``clean_start=False`` and a Session Expiry
Interval (without it a v5 session ends at disconnect); MQTT 3.1.1 uses ``clean_session=False``.
A CONNACK with a failure reason code is an error (:class:`ConnectRefused`), never "connected".

Note: paho keeps its session in memory. Anything that must survive a process restart belongs in
the application's own store (the edge outbox) and is deleted only on the hub's application ack.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from gridgate_core.config import MqttConfig
from gridgate_core.errors import (
    ConnectRefused,
    ConnectTimeout,
    MqttError,
    NotConnected,
    SecretError,
)
from gridgate_core.secrets import read_secret, secret_file

_LOGGER = logging.getLogger(__name__)

Protocol = Literal["auto", "5", "3.1.1"]

# CONNACK codes meaning "this broker does not speak the protocol version you asked for".
_UNSUPPORTED_PROTOCOL = {0x84, 1}


class LinkState(IntEnum):
    STOPPED = 0
    CONNECTING = 1
    CONNECTED = 2
    REFUSED = 3


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None


@dataclass(frozen=True, slots=True)
class LinkSettings:
    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    protocol: Protocol = "auto"
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    reconnect_min_s: float = 0.2
    reconnect_max_s: float = 30.0
    tls: TlsFiles | None = None
    will: Will | None = None
    subscriptions: Sequence[tuple[str, int]] = ()
    manual_ack: bool = False
    max_inflight: int = 200
    # A hub process that stops on purpose leaves its shared-subscription group: otherwise the
    # broker keeps queueing that process's share into a session nobody reads (edges would re-send
    # after their ack time-out, but slowly).
    end_session_on_stop: bool = False


@dataclass(frozen=True, slots=True)
class Incoming:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int


class PublishHandle:
    """Completion of one publish: set when the broker acknowledged it (QoS 1) or it was sent."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self.error: MqttError | None = None

    def _finish(self, error: MqttError | None = None) -> None:
        self.error = error
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True when the publish completed successfully within ``timeout``."""
        return self._done.wait(timeout) and self.error is None

    @property
    def done(self) -> bool:
        return self._done.is_set()


MessageHandler = Callable[[Incoming], None]
StateHandler = Callable[[LinkState], None]


@dataclass
class _Runtime:
    protocol: MQTTProtocolVersion
    pending: dict[int, PublishHandle] = field(default_factory=dict)
    early: dict[int, MqttError | None] = field(default_factory=dict)
    got_connack: bool = False


class MqttLink:
    """A persistent, self-reconnecting MQTT connection owned by one thread."""

    def __init__(
        self,
        settings: LinkSettings,
        on_message: MessageHandler | None = None,
        on_state: StateHandler | None = None,
    ) -> None:
        self._settings = settings
        self._on_message = on_message
        self._on_state = on_state
        self._commands: queue.SimpleQueue[Callable[[paho.Client, _Runtime], None]] = (
            queue.SimpleQueue()
        )
        self._stop = threading.Event()
        self._state = LinkState.STOPPED
        self._state_changed = threading.Condition()
        self._refusal: ConnectRefused | None = None
        self._thread: threading.Thread | None = None
        self.protocol_in_use: str | None = None
        self.session_present = False
        # Grows with every accepted CONNACK: lets a user notice a reconnection it did not see.
        self.connection_count = 0

    # ------------------------------------------------------------------ public, any thread

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def connected(self) -> bool:
        return self._state is LinkState.CONNECTED

    def start(self) -> None:
        if self._thread is not None:
            raise MqttError("link already started")
        self._stop.clear()
        self._set_state(LinkState.CONNECTING)
        self._thread = threading.Thread(
            target=self._run, name=f"mqtt-{self._settings.client_id}", daemon=True
        )
        self._thread.start()

    def wait_connected(self, timeout: float) -> None:
        """Block until connected; raise :class:`ConnectRefused` or :class:`ConnectTimeout`."""
        deadline = time.monotonic() + timeout
        with self._state_changed:
            while self._state is not LinkState.CONNECTED:
                if self._refusal is not None and self._state is LinkState.REFUSED:
                    raise self._refusal
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ConnectTimeout(
                        f"no CONNACK from {self._settings.host}:{self._settings.port} "
                        f"within {timeout:.1f} s"
                    )
                self._state_changed.wait(left)

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> PublishHandle:
        """Queue a publish for the owner thread. Fails fast with NotConnected when offline."""
        handle = PublishHandle()
        if not self.connected:
            handle._finish(NotConnected("not connected to the broker"))
            return handle
        self._commands.put(
            lambda client, runtime: self._do_publish(
                client, runtime, handle, topic, payload, qos, retain
            )
        )
        return handle

    def ack(self, mid: int, qos: int) -> None:
        """Send the MQTT-level ack of an incoming message (``manual_ack`` links only)."""

        def send_ack(client: paho.Client, _runtime: _Runtime) -> None:
            client.ack(mid, qos)

        self._commands.put(send_ack)

    def stop(self, timeout: float = 5.0) -> None:
        """Disconnect cleanly and stop the owner thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._set_state(LinkState.STOPPED)

    # ------------------------------------------------------------------ owner thread

    def _set_state(self, state: LinkState) -> None:
        with self._state_changed:
            changed = state is not self._state
            self._state = state
            self._state_changed.notify_all()
        if changed and self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:  # a callback must not kill the link
                _LOGGER.exception("MQTT state handler failed")

    def _initial_protocol(self) -> MQTTProtocolVersion:
        if self._settings.protocol == "3.1.1":
            return MQTTProtocolVersion.MQTTv311
        return MQTTProtocolVersion.MQTTv5

    def _make_client(self, runtime: _Runtime) -> paho.Client:
        s = self._settings
        v5 = runtime.protocol is MQTTProtocolVersion.MQTTv5
        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            clean_session=None if v5 else False,
            protocol=runtime.protocol,
            reconnect_on_failure=False,
            manual_ack=s.manual_ack,
        )
        client.enable_logger(logging.getLogger("paho"))
        client.max_inflight_messages_set(s.max_inflight)
        client.max_queued_messages_set(0)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls is not None:
            client.tls_set(
                ca_certs=str(s.tls.ca_file),
                certfile=str(s.tls.cert_file) if s.tls.cert_file else None,
                keyfile=str(s.tls.key_file) if s.tls.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if s.will is not None:
            client.will_set(s.will.topic, s.will.payload, s.will.qos, s.will.retain)
        client.on_connect = lambda c, u, flags, rc, props: self._handle_connack(
            c, runtime, flags, rc
        )
        client.on_publish = lambda c, u, mid, rc, props: self._handle_puback(runtime, mid, rc)
        client.on_message = lambda c, u, msg: self._handle_message(msg)
        return client

    def _connect(self, client: paho.Client, runtime: _Runtime) -> None:
        s = self._settings
        if runtime.protocol is MQTTProtocolVersion.MQTTv5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = s.session_expiry_s
            client.connect(s.host, s.port, s.keepalive_s, clean_start=False, properties=props)
        else:
            client.connect(s.host, s.port, s.keepalive_s)

    def _handle_connack(
        self, client: paho.Client, runtime: _Runtime, flags: Any, rc: ReasonCode
    ) -> None:
        runtime.got_connack = True
        if rc.is_failure:
            self._refusal = ConnectRefused(str(rc), int(rc.value))
            _LOGGER.error("broker refused connection: %s", rc)
            self._set_state(LinkState.REFUSED)
            return
        self._refusal = None
        self.connection_count += 1
        self.session_present = bool(getattr(flags, "session_present", False))
        self.protocol_in_use = "5" if runtime.protocol is MQTTProtocolVersion.MQTTv5 else "3.1.1"
        subs = list(self._settings.subscriptions)
        if subs:
            if runtime.protocol is MQTTProtocolVersion.MQTTv5:
                client.subscribe([(topic, SubscribeOptions(qos=qos)) for topic, qos in subs])
            else:
                client.subscribe(subs)
        _LOGGER.info(
            "connected to %s:%s (MQTT %s, session present: %s)",
            self._settings.host,
            self._settings.port,
            self.protocol_in_use,
            self.session_present,
        )
        self._set_state(LinkState.CONNECTED)

    def _handle_puback(self, runtime: _Runtime, mid: int, rc: ReasonCode) -> None:
        error = MqttError(f"publish refused: {rc}") if rc.is_failure else None
        handle = runtime.pending.pop(mid, None)
        if handle is None:
            runtime.early[mid] = error
        else:
            handle._finish(error)

    def _handle_message(self, msg: paho.MQTTMessage) -> None:
        if self._on_message is None:
            return
        incoming = Incoming(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain), msg.mid)
        try:
            self._on_message(incoming)
        except Exception:  # one bad handler call must not stop the consumer
            _LOGGER.exception("message handler failed on %s", msg.topic)

    def _do_publish(
        self,
        client: paho.Client,
        runtime: _Runtime,
        handle: PublishHandle,
        topic: str,
        payload: bytes,
        qos: int,
        retain: bool,
    ) -> None:
        info = client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            handle._finish(NotConnected(f"publish failed: {paho.error_string(info.rc)}"))
            return
        if info.mid in runtime.early:
            handle._finish(runtime.early.pop(info.mid))
        else:
            runtime.pending[info.mid] = handle

    def _run(self) -> None:
        runtime = _Runtime(protocol=self._initial_protocol())
        client = self._make_client(runtime)
        delay = self._settings.reconnect_min_s
        socket_open = False
        while not self._stop.is_set():
            if not socket_open:
                try:
                    runtime.got_connack = False
                    self._connect(client, runtime)
                    socket_open = True
                except (OSError, ssl.SSLError) as exc:
                    _LOGGER.warning(
                        "cannot reach broker %s:%s: %s; retrying in %.1f s",
                        self._settings.host,
                        self._settings.port,
                        exc,
                        delay,
                    )
                    self._stop.wait(delay)
                    delay = min(delay * 2, self._settings.reconnect_max_s)
                    continue
            rc = client.loop(timeout=0.01)
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._state is not LinkState.REFUSED:
                if self.connected:
                    delay = self._settings.reconnect_min_s
                self._drain(client, runtime)
                continue
            # The socket closed, or the broker refused us.
            socket_open = False
            refused = self._state is LinkState.REFUSED
            if self._should_fall_back(runtime):
                _LOGGER.warning("broker does not accept MQTT 5; falling back to MQTT 3.1.1")
                self._fail_pending(runtime)
                runtime = _Runtime(protocol=MQTTProtocolVersion.MQTTv311)
                client = self._make_client(runtime)
                continue
            if not refused:
                _LOGGER.warning("connection to broker lost (%s)", paho.error_string(rc))
                self._set_state(LinkState.CONNECTING)
            with_ignore_disconnect(client)
            self._stop.wait(delay)
            delay = min(delay * 2, self._settings.reconnect_max_s)
        self._shutdown(client, runtime, socket_open)

    def _should_fall_back(self, runtime: _Runtime) -> bool:
        if self._settings.protocol != "auto" or runtime.protocol is not MQTTProtocolVersion.MQTTv5:
            return False
        if self._refusal is not None and self._refusal.code in _UNSUPPORTED_PROTOCOL:
            return True
        # A 3.1.1-only broker may just drop a v5 CONNECT without answering.
        return not runtime.got_connack

    def _drain(self, client: paho.Client, runtime: _Runtime) -> None:
        for _ in range(1000):
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command(client, runtime)

    def _fail_pending(self, runtime: _Runtime) -> None:
        for handle in runtime.pending.values():
            handle._finish(NotConnected("connection closed before the broker acknowledged"))
        runtime.pending.clear()

    def _shutdown(self, client: paho.Client, runtime: _Runtime, socket_open: bool) -> None:
        if socket_open:
            self._drain(client, runtime)
            deadline = time.monotonic() + 2.0
            while runtime.pending and time.monotonic() < deadline:
                if client.loop(timeout=0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    break
            if (
                self._settings.end_session_on_stop
                and runtime.protocol is MQTTProtocolVersion.MQTTv5
            ):
                props = Properties(PacketTypes.DISCONNECT)  # type: ignore[no-untyped-call]
                props.SessionExpiryInterval = 0
                client.disconnect(properties=props)
            else:
                client.disconnect()
        self._fail_pending(runtime)
        while True:
            try:
                self._commands.get_nowait()
            except queue.Empty:
                break


def with_ignore_disconnect(client: paho.Client) -> None:
    """Close the socket after a failed loop; paho raises nothing useful here."""
    try:
        client.disconnect()
    except (OSError, ValueError):  # already closed
        _LOGGER.debug("socket already closed")


def settings_from_config(
    config: MqttConfig,
    client_id: str,
    *,
    will: Will | None = None,
    subscriptions: Sequence[tuple[str, int]] = (),
    manual_ack: bool = False,
    max_inflight: int = 200,
    end_session_on_stop: bool = False,
) -> LinkSettings:
    """Turn validated configuration into link settings, reading secrets now."""
    password = read_secret(config.password_secret) if config.password_secret else None
    tls = None
    if config.tls is not None:
        key_file = None
        if config.tls.key_secret is not None:
            key_file = secret_file(config.tls.key_secret)
            if key_file is None:
                raise SecretError(
                    f"TLS key credential {config.tls.key_secret!r} not found in "
                    "$CREDENTIALS_DIRECTORY"
                )
        tls = TlsFiles(config.tls.ca_file, config.tls.cert_file, key_file)
    return LinkSettings(
        host=config.host,
        port=config.port,
        client_id=config.client_id or client_id,
        username=config.username,
        password=password,
        protocol=config.protocol,
        keepalive_s=config.keepalive_s,
        session_expiry_s=config.session_expiry_s,
        reconnect_max_s=config.reconnect_max_s,
        tls=tls,
        will=will,
        subscriptions=tuple(subscriptions),
        manual_ack=manual_ack,
        max_inflight=max_inflight,
        end_session_on_stop=end_session_on_stop,
    )
