"""Prometheus metrics of one edge agent (its own registry, so several can share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class EdgeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.frames = Counter("gridgate_frames", "Frames analysed", ["camera"], registry=r)
        self.frames_dropped = Gauge(
            "gridgate_frames_dropped",
            "Frames dropped by a full camera queue",
            ["camera"],
            registry=r,
        )
        self.camera_fps = Gauge(
            "gridgate_camera_fps", "Frames analysed per second", ["camera"], registry=r
        )
        self.camera_connected = Gauge(
            "gridgate_camera_connected", "1 when the camera stream is open", ["camera"], registry=r
        )
        self.decision_latency = Histogram(
            "gridgate_decision_latency_seconds",
            "From a face's first frame to the gate decision",
            buckets=(0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0),
            registry=r,
        )
        self.events = Counter(
            "gridgate_events", "Passages recorded", ["method", "decision"], registry=r
        )
        self.tailgating = Counter("gridgate_tailgating", "Extra people in one opening", registry=r)
        self.door_alarms = Counter(
            "gridgate_door_alarms",
            "Door alarms raised or cleared (silent ones are not counted here)",
            ["kind", "phase"],
            registry=r,
        )
        self.credential_guessing = Counter(
            "gridgate_credential_guessing",
            "Sustained credential guessing: a gate or caller locked out again and again",
            registry=r,
        )
        self.door_releases = Counter(
            "gridgate_door_releases",
            "Doors released without a credential",
            ["source", "opened"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "gridgate_outbox_depth", "Events not yet acknowledged", registry=r
        )
        self.broker_connected = Gauge("gridgate_broker_connected", "1 when connected", registry=r)
        self.gallery_templates = Gauge("gridgate_gallery_templates", "Templates held", registry=r)
        self.disk_budget_used = Gauge(
            "gridgate_disk_budget_used", "Fraction of the event-store budget used", registry=r
        )

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))
