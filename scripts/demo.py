"""`make demo`: a broker, a hub and an edge agent on this machine, and what they say to each other.

Starts a private Mosquitto on a free loopback port, the hub (SQLite) and one edge agent (with
its synthetic passage source) as separate processes, prints a timeline read from the hub's
database. The edge's replay always runs to its last simulated day (however slow the machine;
past --replay-limit seconds the summary says clearly that it was cut short); then the demo
keeps running for --duration seconds (0: until Ctrl-C) so that a person can try the pages.
A bot records outcomes for some tasks only and leaves the others for the person. Every way
out (Ctrl-C, SIGTERM, SIGHUP, a closed pipe such as `make demo | tee log`) stops every process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
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

import demo_faces  # noqa: E402

from gridgate_devkit.localbroker import BrokerUnavailable, LocalMosquitto  # noqa: E402

DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - a throwaway local demo login, printed on start


def write_config(template: Path, target: Path, port: int, data: dict[str, str]) -> Path:
    config = yaml.safe_load(template.read_text())
    config["mqtt"]["port"] = port
    config.update(data)
    target.write_text(yaml.safe_dump(config))
    return target


class Replay:
    """How far the edge's replay got, from its log ("simulated day N done")."""

    DAY = re.compile(r"simulated day (\d+) done")

    def __init__(self, days: int) -> None:
        self.days = days
        self.day = 0
        self.done = threading.Event()

    def saw(self, line: str) -> None:
        found = self.DAY.search(line)
        if found:
            self.day = int(found.group(1))
            if self.day >= self.days:
                self.done.set()


def pump(prefix: str, stream: object, replay: Replay | None = None) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        if replay is not None:
            replay.saw(line)
        print(f"{prefix} {line.rstrip()}", flush=True)


class SafeOutput(io.TextIOBase):
    """stdout that survives a closed pipe (`make demo | tee log`, then Ctrl-C kills tee): the
    first failed write asks the demo to stop, and later output is dropped instead of raising
    in whichever thread printed it."""

    def __init__(self, real: io.TextIOBase, stop: threading.Event) -> None:
        self.real = real
        self.stop = stop
        self.broken = False
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            if not self.broken:
                try:
                    self.real.write(text)
                    self.real.flush()
                except (BrokenPipeError, OSError, ValueError):
                    self.broken = True
                    self.stop.set()
        return len(text)

    def flush(self) -> None:
        return None


def timeline(db: Path, stop: threading.Event, faces_edge: str | None = None) -> None:
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
                if edge_id == faces_edge:
                    body = json.loads(payload)
                    if body["method"] == "face":
                        print(demo_faces.describe(body), flush=True)
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


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hub_cli(argv: list[str], quiet: bool = False) -> None:
    """``gridgate-hub ARGV``, the hub's own CLI, run in this process: one start-up for the whole
    registry instead of one interpreter (and its imports) per command."""
    from hub.cli import main as hub_main

    errors = io.StringIO()
    os.environ["GRIDGATE_NEW_PASSWORD"] = DEMO_PASSWORD  # what `user add` reads
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(errors) if quiet else contextlib.nullcontext(),
        ):
            code = hub_main(argv)
    finally:
        del os.environ["GRIDGATE_NEW_PASSWORD"]
    if code:
        raise RuntimeError(f"gridgate-hub {' '.join(argv)} exited {code}: {errors.getvalue()}")


def seed_registry(
    workdir: Path, hub_cfg: Path, edge_cfg: Path, extra: dict[str, list[str]]
) -> list[str]:
    """The hub's registry for the simulated compound, imported with the hub's own CLI."""
    from gridgate_devkit.sim.compound import demo_scenario, simulate

    edge = yaml.safe_load(edge_cfg.read_text())
    demo = edge["demo_source"]
    sim = simulate(demo_scenario(int(demo["households"]), int(demo["days"])))
    buildings = sorted(set(sim.houses.values()))
    csvs = {
        "areas": [
            "area_id,level,name,parent_id",
            "D,district,新都区,",
            "S,street,桂湖街道,D",
            "C,community,演示社区,S",
        ]
        + [f"G-{b},grid,{b} 网格,C" for b in buildings],
        "compounds": ["compound_id,community_id,name", f"{edge['compound_id']},C,演示小区"],
        "houses": ["house_id,compound_id,grid_id,building,unit,address,vacant"]
        + [
            f"{h},{edge['compound_id']},G-{b},{b},{h.split('-')[1][0]},{h},no"
            for h, b in sorted(sim.houses.items())
        ],
        "residents": ["resident_id,house_id,name,phone,care_recipient,active"]
        + [
            f"{r.resident_id},{r.house_id},居民{r.resident_id[2:]},,"
            f"{'yes' if r.care_recipient else 'no'},yes"
            for r in sim.residents
        ],
        "workers": ["worker_id,name,grid_id,leader"]
        + [f"W-{b},网格员{b},G-{b},no" for b in buildings]
        + [f"L-{b},网格长{b},G-{b},yes" for b in buildings],
        # The edge seeds roster version 1 itself (see the edge's replay); the hub continues it.
        "edges": [
            "edge_id,compound_id,roster_version",
            f"{edge['edge_id']},{edge['compound_id']},1",
        ],
    }
    for kind, rows in extra.items():
        csvs[kind] = csvs[kind] + rows
    for kind, lines in csvs.items():
        path = workdir / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        hub_cli(["import", "--config", str(hub_cfg), kind, str(path)])
    for args in (
        ["centre", "--role", "community_admin", "--area", "C"],
        ["worker", "--role", "grid_worker", "--worker", f"W-{buildings[0]}"],
    ):
        hub_cli(["user", "add", "--config", str(hub_cfg), *args], quiet=True)
    print(
        f"[demo] hub registry: 1 community, {len(buildings)} grids, {len(sim.houses)} houses, "
        f"{len(sim.residents)} residents, {2 * len(buildings)} workers",
        flush=True,
    )
    return [f"W-{b}" for b in buildings] + [f"L-{b}" for b in buildings]


def api(base: str, method: str, path: str, token: str = "", body: object = None) -> object:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - a loopback URL this script built
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        raw = response.read()
    return json.loads(raw) if raw else None


def centre_token(base: str) -> str:
    """Log in as the demo's community-centre user; raises OSError while the hub is not up."""
    reply = api(
        base,
        "POST",
        "/api/v1/auth/login",
        body={"username": "centre", "password": DEMO_PASSWORD},
    )
    return str(reply["token"])  # type: ignore[index]


OUTCOME_FOR = {
    "move_out": "moved_out",
    "vacancy": "vacancy_confirmed",
    "new_occupant": "new_occupant_confirmed",
    "welfare_check": "no_change",
}


def bot_takes(task: dict[str, object], person_grid: str, handled: dict[str, int]) -> bool:
    """The bot records the first task of each kind (so every kind's loop is shown) and then
    every second one outside the person's grid; the rest is left for the person to do."""
    kind = str(task["kind"])
    count = handled.setdefault(kind, 0)
    handled[kind] = count + 1
    if count == 0:
        return True
    return task.get("grid_id") != person_grid and count % 2 == 1


def grid_workers(
    base: str,
    broker_port: int,
    worker_ids: list[str],
    stop: threading.Event,
    person_grid: str = "",
    left: dict[str, str] | None = None,
) -> None:
    """The people: phones receive task pushes over MQTT; the community centre records the
    outcome of some visits a few seconds after the task appears (as a worker would after
    visiting) and leaves the others (``left``: task id -> kind) for the person."""
    from gridgate_core.mqtt import Incoming, LinkSettings, MqttLink
    from gridgate_wire import decode_from_topic, worker_topic

    def on_push(incoming: Incoming) -> None:
        task = decode_from_topic(incoming.topic, incoming.payload)
        print(
            f"[timeline] PUSH to {task.worker_id}'s phone: task {task.task_id} "  # type: ignore[attr-defined]
            f"{task.kind} {task.address} is {task.state} (rev {task.revision})",  # type: ignore[attr-defined]
            flush=True,
        )

    phones = MqttLink(
        LinkSettings(
            host="127.0.0.1",
            port=broker_port,
            client_id="demo-phones",
            subscriptions=[(worker_topic(w), 1) for w in worker_ids],
        ),
        on_message=on_push,
    )
    phones.start()
    token = ""
    seen: dict[str, float] = {}
    handled: dict[str, int] = {}
    decided: dict[str, bool] = {}
    left = {} if left is None else left
    while not stop.wait(1.0):
        try:
            if not token:
                token = centre_token(base)
            page = api(base, "GET", "/api/v1/tasks?open=true&limit=200", token)
        except OSError:
            continue
        for task in page["items"]:  # type: ignore[index]
            first = seen.setdefault(task["task_id"], time.monotonic())
            if time.monotonic() - first < 4:
                continue
            if task["task_id"] not in decided:
                decided[task["task_id"]] = bot_takes(task, person_grid, handled)
            if not decided[task["task_id"]]:
                left[task["task_id"]] = str(task["kind"])
                continue
            left.pop(task["task_id"], None)
            outcome = OUTCOME_FOR[task["kind"]]
            body: dict[str, object] = {"outcome": outcome, "note": "visited (demo)"}
            if outcome in ("moved_out", "vacancy_confirmed"):
                body["confirmed"] = True  # the bot "ticked" the confirmation a person sees
            if outcome == "new_occupant_confirmed":
                body["new_occupant"] = {"name": "新住户", "face_consent": True}
            try:
                result = api(base, "POST", f"/api/v1/tasks/{task['task_id']}/outcome", token, body)
            except OSError as exc:
                print(f"[timeline] outcome for {task['task_id']} failed: {exc}", flush=True)
                decided[task["task_id"]] = False  # left for the person
                continue
            extra = ""
            reply = result if isinstance(result, dict) else {}
            if reply.get("enrolment_code"):
                extra = (
                    f"; new resident {reply['resident_id']} invited to enrol with code "
                    f"{reply['enrolment_code']}"
                )
            print(
                f"[timeline] OUTCOME {task['kind']} at {task['address']}: {outcome}{extra}",
                flush=True,
            )
    phones.stop()


def wait_for_roster_acks(db: Path, procs: list[subprocess.Popen[str]], limit_s: float = 15) -> None:
    """Let roster updates sent in the last seconds be acknowledged before stopping."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and all(p.poll() is None for p in procs):
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            if not conn.execute(
                "SELECT count(*) FROM roster_outbox WHERE acked_at IS NULL"
            ).fetchone()[0]:
                return
        time.sleep(0.5)


def enrol_when_ready(base: str, faces: demo_faces.FacesScenario) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            token = centre_token(base)
            break
        except OSError:
            time.sleep(1)
    else:
        return
    demo_faces.enrol_residents(base, token, faces)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds to keep running after the replay ends, to try the pages; 0 = until Ctrl-C",
    )
    parser.add_argument(
        "--replay-limit",
        type=float,
        default=900.0,
        help="longest wait (s) for the edge's replay; past it the summary says it was cut short",
    )
    parser.add_argument("--workdir", type=Path, default=REPO / ".demo")
    lfw = Path(os.environ.get("GRIDGATE_SHARED", REPO.parent / "shared")) / "datasets/lfw-dev"
    parser.add_argument(
        "--faces",
        type=Path,
        default=lfw if lfw.is_dir() else None,
        help="folder of face photos, one sub-folder per person (default: ../shared's lfw-dev "
        "when present); adds a camera edge with enrolment by invitation",
    )
    parser.add_argument("--no-faces", action="store_true", help="simulator edge only")
    args = parser.parse_args()

    workdir: Path = args.workdir
    if workdir.exists():
        import shutil

        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    stop = threading.Event()
    output = SafeOutput(sys.stdout, stop)  # type: ignore[arg-type]
    sys.stdout = output
    asked = threading.Event()  # a person (or a closed pipe) stopped the demo

    def ask_to_stop(*_: object) -> None:
        asked.set()
        stop.set()

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, ask_to_stop)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a closed pipe: BrokenPipeError, handled

    try:
        broker = LocalMosquitto(workdir / "broker")
        broker.start()
    except BrokerUnavailable as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    print(f"[demo] Mosquitto listening on 127.0.0.1:{broker.port}", flush=True)
    http_port = free_port()
    hub_cfg = write_config(
        REPO / "configs/demo/hub.yaml",
        workdir / "hub.yaml",
        broker.port,
        {
            "database": {"url": f"sqlite:///{workdir}/hub/hub.sqlite3"},  # type: ignore[dict-item]
            "api": {"port": http_port, "secure_cookies": False},  # type: ignore[dict-item]
        },
    )
    edge_cfg = write_config(
        REPO / "configs/demo/edge.yaml",
        workdir / "edge.yaml",
        broker.port,
        {"data_dir": str(workdir / "edge")},
    )
    faces = None
    if args.faces is not None and not args.no_faces:
        print(f"[demo] generating gate and kiosk clips from {args.faces}", flush=True)
        faces = demo_faces.prepare(workdir, args.faces, broker.port, free_port())
    worker_ids = seed_registry(
        workdir, hub_cfg, edge_cfg, demo_faces.registry_rows(faces) if faces else {}
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs: list[subprocess.Popen[str]] = []
    edge_settings = yaml.safe_load(edge_cfg.read_text())
    replay = Replay(int(edge_settings["demo_source"]["days"]))
    left: dict[str, str] = {}
    threads: list[threading.Thread] = []
    try:
        # The replaying edge is the product's agent with the devkit's demo passage source.
        services = [("hub ", "hub", hub_cfg), ("edge", "gridgate_devkit.edge_demo", edge_cfg)]
        if faces is not None:
            services.append(("cam ", "edge_agent", faces.config))
        for name, module, cfg in services:
            proc = subprocess.Popen(
                [sys.executable, "-m", module, "run", "--config", str(cfg)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
                cwd=REPO,
                start_new_session=True,  # the demo stops them itself, in order
            )
            watch = replay if name == "edge" else None
            threading.Thread(
                target=pump, args=(f"[{name}]", proc.stdout, watch), daemon=True
            ).start()
            procs.append(proc)
        reader = threading.Thread(
            target=timeline,
            args=(workdir / "hub" / "hub.sqlite3", stop, demo_faces.EDGE_ID if faces else None),
            daemon=True,
        )
        reader.start()
        base = f"http://127.0.0.1:{http_port}"
        person_grid = "G-" + worker_ids[0][2:]
        people = threading.Thread(
            target=grid_workers,
            args=(base, broker.port, worker_ids, stop, person_grid, left),
            daemon=True,
        )
        people.start()
        threads = [reader, people]
        if faces is not None:
            threading.Thread(target=enrol_when_ready, args=(base, faces), daemon=True).start()
        print(
            f"[demo] web UI: {base}/  (community centre: centre / {DEMO_PASSWORD}; "
            f"grid worker: worker / {DEMO_PASSWORD}); API docs: {base}/api/docs",
            flush=True,
        )
        print(f"[demo] replaying {replay.days} simulated days; press Ctrl-C to stop", flush=True)
        replay_deadline = time.monotonic() + args.replay_limit
        linger_until: float | None = None
        while not stop.wait(0.2):
            if any(p.poll() is not None for p in procs):
                print("[demo] a process exited unexpectedly", file=sys.stderr, flush=True)
                break
            if linger_until is None and (
                replay.done.is_set() or time.monotonic() > replay_deadline
            ):
                if replay.done.is_set():
                    print(f"[demo] replay finished: day {replay.day} of {replay.days}", flush=True)
                time.sleep(6)  # the last alerts reach the hub, the bot takes its share
                print_to_try(base, left)
                if args.duration <= 0:
                    linger_until = float("inf")
                    print("[demo] still running for you; press Ctrl-C to stop", flush=True)
                else:
                    linger_until = time.monotonic() + args.duration
            if linger_until is not None and time.monotonic() > linger_until:
                break
        stop.set()
        wait_for_roster_acks(workdir / "hub" / "hub.sqlite3", procs)
    finally:
        stop.set()
        print("[demo] stopping edge, hub and broker", flush=True)
        codes = stop_all(procs)
        broker.stop()
        for thread in threads:
            thread.join(5)
    summary(workdir, edge_settings["edge_id"], replay, faces, asked.is_set() or output.broken)
    ok = all(code == 0 for code in codes)
    print("[demo] all processes stopped cleanly" if ok else f"[demo] exit codes {codes}")
    if output.broken:  # nobody reads any more: leave quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    return 0 if ok else 1


def stop_all(procs: list[subprocess.Popen[str]]) -> list[int]:
    codes = []
    for proc in reversed(procs):  # edge first: it publishes its offline status
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            codes.append(proc.wait(15))
        except subprocess.TimeoutExpired:
            proc.kill()
            codes.append(proc.wait())
    return codes


KIND_WORDS = {
    "move_out": "疑似搬离 (move-out)",
    "vacancy": "疑似空置 (vacancy)",
    "new_occupant": "疑似新住户 (new occupant)",
    "welfare_check": "关爱探访 (welfare check)",
}


def seed_visitor_pass(base: str) -> None:
    """One visitor pass (issue 18), so the pass pages and the slip have something to show."""
    from datetime import UTC, datetime, timedelta

    try:
        token = centre_token(base)
        house = api(base, "GET", "/api/v1/houses?limit=1", token)["items"][0]["house_id"]  # type: ignore[index]
        now = datetime.now(UTC)
        body = {
            "house_id": house,
            "visitor_name": "王小红",
            "display_name": "王女士",
            "valid_from": now.isoformat(),
            "valid_until": (now + timedelta(hours=8)).isoformat(),
            "max_uses": 4,
        }
        issued = api(base, "POST", "/api/v1/passes", token, body)
    except (OSError, LookupError, TypeError, ValueError) as exc:
        print(f"[demo] no visitor pass seeded ({exc})", flush=True)
        return
    pin = issued["pin"]  # type: ignore[index]
    print(f"[demo] visitor pass for {base}/houses/{house}/passes: PIN {pin}", flush=True)


def print_to_try(base: str, left: dict[str, str]) -> None:
    """What the bot left for the person, and what to try with it."""
    seed_visitor_pass(base)
    counts: dict[str, int] = {}
    for kind in left.values():
        counts[kind] = counts.get(kind, 0) + 1
    listed = ", ".join(f"{n} {KIND_WORDS.get(k, k)}" for k, n in sorted(counts.items()))
    print(f"[demo] left for you: {len(left)} open tasks ({listed or 'none'})", flush=True)
    for line in (
        f"log in at {base}/login as worker / {DEMO_PASSWORD} (a phone-sized window works best):",
        "  - a welfare check offers only its own outcomes; try 未能入户 (nobody home) and see it",
        "    stay open with a revisit time",
        "  - a move-out asks you to confirm what happens before 确认已搬离",
        "  - confirm a new occupant with face consent to see the one-time code and its QR code",
        f"log in as centre / {DEMO_PASSWORD}: reassign a task (改派) with a reason, record an",
        "  away report (外出报备) on a house page, look at alerts to review on the dashboard",
    ):
        print(f"[demo] {line}", flush=True)


def summary(
    workdir: Path,
    edge_id: str,
    replay: Replay,
    faces: demo_faces.FacesScenario | None,
    stopped_early: bool,
) -> None:
    with sqlite3.connect(workdir / "hub" / "hub.sqlite3") as conn:
        stored = conn.execute(
            "SELECT count(*) FROM edge_messages WHERE kind = 'edge_event' AND edge_id = ?",
            (edge_id,),
        ).fetchone()[0]
        alerts = conn.execute(
            "SELECT count(*) FROM edge_messages WHERE kind = 'edge_alert'"
        ).fetchone()[0]
        task_states = dict(
            conn.execute("SELECT state, count(*) FROM tasks GROUP BY state").fetchall()
        )
        rosters = conn.execute("SELECT count(*), count(acked_at) FROM roster_outbox").fetchone()
    with sqlite3.connect(workdir / "edge" / "events.sqlite3") as conn:
        recorded = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        waiting = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    if replay.done.is_set():
        print(f"[demo] replay complete: all {replay.days} simulated days", flush=True)
    else:
        why = (
            "you stopped the demo"
            if stopped_early
            else "it took longer than --replay-limit; run again with a larger one"
        )
        print(
            f"[demo] REPLAY CUT SHORT at simulated day {replay.day} of {replay.days} ({why}): "
            "alerts of the later days (move-outs and vacancies come late) are missing",
            flush=True,
        )
    print(
        f"[demo] edge recorded {recorded} passages; hub stored {stored} and {alerts} alerts; "
        f"{waiting} still in the edge outbox (kept for next start)",
        flush=True,
    )
    print(
        f"[demo] tasks by state: {task_states or 'none'}; roster updates sent {rosters[0]}, "
        f"acknowledged by the edge {rosters[1]}",
        flush=True,
    )
    if faces is not None:
        print(demo_faces.stranger_summary(faces), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
