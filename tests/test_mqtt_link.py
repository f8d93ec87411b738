"""The MQTT link against a real Mosquitto."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from gridgate_core.errors import ConnectRefused, ConnectTimeout, NotConnected
from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
from tests.brokers import Mosquitto, free_port


class Collector:
    def __init__(self) -> None:
        self.items: list[Incoming] = []
        self.cond = threading.Condition()

    def __call__(self, incoming: Incoming) -> None:
        with self.cond:
            self.items.append(incoming)
            self.cond.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Incoming]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.items) >= count, timeout)
            return list(self.items)


def link(broker: Mosquitto, client_id: str, **kw: object) -> LinkSettings:
    return LinkSettings(host="127.0.0.1", port=broker.port, client_id=client_id, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_qos1_publish_subscribe(broker: Mosquitto, protocol: str) -> None:
    topic = f"t/{uuid.uuid4().hex}"
    got = Collector()
    sub = MqttLink(
        link(broker, f"s-{uuid.uuid4().hex[:8]}", protocol=protocol, subscriptions=[(topic, 1)]),
        on_message=got,
    )
    pub = MqttLink(link(broker, f"p-{uuid.uuid4().hex[:8]}", protocol=protocol))
    sub.start()
    pub.start()
    try:
        sub.wait_connected(10)
        pub.wait_connected(10)
        assert sub.protocol_in_use == protocol
        # the subscription is sent right after CONNACK; give the broker a moment to file it
        handles = []
        threading.Event().wait(0.3)
        for i in range(200):
            handles.append(pub.publish(topic, f"m{i}".encode(), qos=1))
        assert all(h.wait(10) for h in handles)
        items = got.wait_for(200)
        assert [i.payload for i in items] == [f"m{i}".encode() for i in range(200)]
    finally:
        pub.stop()
        sub.stop()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_offline_subscriber_gets_what_it_missed(broker: Mosquitto, protocol: str) -> None:
    topic = f"t/{uuid.uuid4().hex}"
    sub_id = f"persist-{uuid.uuid4().hex[:8]}"
    first = Collector()
    sub = MqttLink(
        link(broker, sub_id, protocol=protocol, subscriptions=[(topic, 1)], session_expiry_s=600),
        on_message=first,
    )
    sub.start()
    sub.wait_connected(10)
    threading.Event().wait(0.3)
    sub.stop()  # goes offline; the broker keeps its session

    pub = MqttLink(link(broker, f"p-{uuid.uuid4().hex[:8]}", protocol=protocol))
    pub.start()
    pub.wait_connected(10)
    handles = [pub.publish(topic, f"missed{i}".encode(), qos=1) for i in range(2000)]
    assert all(h.wait(10) for h in handles)
    pub.stop()

    second = Collector()
    back = MqttLink(
        link(broker, sub_id, protocol=protocol, subscriptions=[(topic, 1)], session_expiry_s=600),
        on_message=second,
    )
    back.start()
    try:
        back.wait_connected(10)
        assert back.session_present
        items = second.wait_for(2000)
        assert [i.payload for i in items] == [f"missed{i}".encode() for i in range(2000)]
    finally:
        back.stop()


def test_refused_connack_is_an_error_not_connected(tmp_path: Path) -> None:
    passwords = tmp_path / "passwd"
    passwords.write_text("")
    server = Mosquitto(tmp_path / "auth", extra=f"password_file {passwords}", allow_anonymous=False)
    server.start()
    refused = MqttLink(link(server, "nobody", username="nobody", password="wrong"))
    refused.start()
    try:
        with pytest.raises(ConnectRefused) as info:
            refused.wait_connected(10)
        assert not refused.connected
        assert "not authorized" in info.value.reason.lower()
        assert refused.publish("t", b"x").error is not None
    finally:
        refused.stop()
        server.stop()


def test_unreachable_broker_times_out_and_publish_fails_fast() -> None:
    settings = LinkSettings(
        host="127.0.0.1",
        port=free_port(),
        client_id="lonely",
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
    )
    lonely = MqttLink(settings)
    lonely.start()
    try:
        with pytest.raises(ConnectTimeout):
            lonely.wait_connected(0.5)
        handle = lonely.publish("t", b"x")
        assert handle.done
        assert isinstance(handle.error, NotConnected)
    finally:
        lonely.stop()


def test_link_reconnects_after_broker_restart(own_broker: Mosquitto) -> None:
    topic = "t/restart"
    got = Collector()
    sub = MqttLink(
        link(
            own_broker,
            "sub-restart",
            subscriptions=[(topic, 1)],
            reconnect_min_s=0.05,
            reconnect_max_s=0.2,
        ),
        on_message=got,
    )
    pub = MqttLink(link(own_broker, "pub-restart", reconnect_min_s=0.05, reconnect_max_s=0.2))
    sub.start()
    pub.start()
    try:
        sub.wait_connected(10)
        pub.wait_connected(10)
        own_broker.restart()
        sub.wait_connected(15)
        pub.wait_connected(15)
        threading.Event().wait(0.3)
        assert pub.publish(topic, b"after", qos=1).wait(10)
        assert got.wait_for(1)[-1].payload == b"after"
    finally:
        pub.stop()
        sub.stop()
