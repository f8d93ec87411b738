"""`make demo`: a broker, a hub and an edge agent on this machine, and what they say to each other.

Starts a private Mosquitto on a free loopback port, the hub (SQLite) and one edge agent (with
its synthetic passage source) as separate processes, prints a timeline read from the hub's
database, and stops everything cleanly after --duration seconds or on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from gridgate_core.localbroker import BrokerUnavailable, LocalMosquitto  # noqa: E402


def write_config(template: Path, target: Path, port: int, data: dict[str, str]) -> Path:
    config = yaml.safe_load(template.read_text())
    config["mqtt"]["port"] = port
    config.update(data)
    target.write_text(yaml.safe_dump(config))
    return target


def pump(prefix: str, stream: object) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        print(f"{prefix} {line.rstrip()}", flush=True)


def timeline(db: Path, stop: threading.Event) -> None:
    """Read the hub's database and print what arrived: alerts one by one, events as counts."""
    seen = 0
    events = 0
    state = None
    last_report = 0.0
    while not stop.wait(1.0):
        if not db.exists():
            continue
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                rows = conn.execute(
                    "SELECT pk, edge_id, kind, seq, payload FROM edge_messages WHERE pk > ? "
                    "ORDER BY pk",
                    (seen,),
                ).fetchall()
                edge = conn.execute("SELECT edge_id, state, outbox_depth FROM edges").fetchall()
        except sqlite3.Error:
            continue
        for pk, edge_id, kind, seq, payload in rows:
            seen = pk
            if kind == "edge_event":
                events += 1
                continue
            body = json.loads(payload)
            if kind == "edge_alert":
                ev = body["evidence"]
                print(
                    f"[timeline] ALERT {body['kind']} house={body.get('house_id')} "
                    f"resident={body.get('resident_id')} confidence={body['confidence']:.2f} "
                    f"(days seen {ev['days_seen']}, nights {ev['nights']}, "
                    f"co-passages {ev['co_passages']}, last seen {ev['last_seen']}) "
                    f"from {edge_id} seq={seq}",
                    flush=True,
                )
            else:
                print(f"[timeline] {kind} seq={seq} from {edge_id}", flush=True)
        if time.monotonic() - last_report > 5 and events:
            print(f"[timeline] hub has stored {events} passage events (acked)", flush=True)
            last_report = time.monotonic()
        for edge_id, st, depth in edge:
            if st != state:
                print(f"[timeline] edge {edge_id} is {st} (outbox depth {depth})", flush=True)
                state = st


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=75.0, help="seconds; 0 = until Ctrl-C")
    parser.add_argument("--workdir", type=Path, default=REPO / ".demo")
    args = parser.parse_args()

    workdir: Path = args.workdir
    if workdir.exists():
        import shutil

        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    try:
        broker = LocalMosquitto(workdir / "broker")
        broker.start()
    except BrokerUnavailable as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    print(f"[demo] Mosquitto listening on 127.0.0.1:{broker.port}", flush=True)
    hub_cfg = write_config(
        REPO / "configs/demo/hub.yaml",
        workdir / "hub.yaml",
        broker.port,
        {"database": {"url": f"sqlite:///{workdir}/hub/hub.sqlite3"}},  # type: ignore[dict-item]
    )
    edge_cfg = write_config(
        REPO / "configs/demo/edge.yaml",
        workdir / "edge.yaml",
        broker.port,
        {"data_dir": str(workdir / "edge")},
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs: list[subprocess.Popen[str]] = []
    for name, module, cfg in (("hub ", "hub", hub_cfg), ("edge", "edge_agent", edge_cfg)):
        proc = subprocess.Popen(
            [sys.executable, "-m", module, "run", "--config", str(cfg)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=REPO,
            start_new_session=True,
        )
        threading.Thread(target=pump, args=(f"[{name}]", proc.stdout), daemon=True).start()
        procs.append(proc)
    reader = threading.Thread(
        target=timeline, args=(workdir / "hub" / "hub.sqlite3", stop), daemon=True
    )
    reader.start()
    print("[demo] running; press Ctrl-C to stop", flush=True)
    deadline = time.monotonic() + args.duration if args.duration > 0 else None
    while not stop.wait(0.2):
        if deadline is not None and time.monotonic() > deadline:
            break
        if any(p.poll() is not None for p in procs):
            print("[demo] a process exited unexpectedly", file=sys.stderr, flush=True)
            break
    stop.set()
    print("[demo] stopping edge, hub and broker", flush=True)
    codes = []
    for proc in reversed(procs):  # edge first: it publishes its offline status
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            codes.append(proc.wait(15))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    broker.stop()
    reader.join(2)
    with sqlite3.connect(workdir / "hub" / "hub.sqlite3") as conn:
        stored = conn.execute(
            "SELECT count(*) FROM edge_messages WHERE kind = 'edge_event'"
        ).fetchone()[0]
        alerts = conn.execute(
            "SELECT count(*) FROM edge_messages WHERE kind = 'edge_alert'"
        ).fetchone()[0]
    with sqlite3.connect(workdir / "edge" / "events.sqlite3") as conn:
        recorded = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        waiting = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    print(
        f"[demo] edge recorded {recorded} passages; hub stored {stored} and {alerts} alerts; "
        f"{waiting} still in the edge outbox (kept for next start)",
        flush=True,
    )
    ok = all(code == 0 for code in codes)
    print("[demo] all processes stopped cleanly" if ok else f"[demo] exit codes {codes}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
