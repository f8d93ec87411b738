"""The camera half of `make demo`: real faces at a gate, when face photos are available.

A second edge agent watches two generated clips made from a folder of face photos (one
sub-folder per person, e.g. ../shared/datasets/lfw-dev): a kiosk camera per resident, where the
resident shows the one-time code the community centre gave them, and a gate camera where the
residents pass (with other photos of them than the kiosk's) and a stranger keeps coming back.
Residents are enrolled only through the hub's invitations; before that they are strangers too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import yaml

from gridgate_devkit.evaluation import list_dataset
from gridgate_devkit.sim.gateclip import plan_clip, render

REPO = Path(__file__).resolve().parent.parent
EDGE_ID = "demo-gate-faces"
COMPOUND = "gate-court"
HOUSE = "GC-101"


@dataclass(frozen=True)
class FacesScenario:
    config: Path
    residents: dict[str, str]  # resident id -> person's name
    kiosks: dict[str, str]  # resident id -> kiosk camera id
    http_port: int


def _write_clip(plan: Any, path: Path, fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (1280, 720))
    for frame, _ in render(plan, seed=3):
        writer.write(frame)
    writer.release()
    return path


def prepare(workdir: Path, faces: Path, broker_port: int, http_port: int) -> FacesScenario:
    people: dict[str, list[Path]] = {}
    for name, path in list_dataset(faces):
        people.setdefault(name, []).append(path)
    chosen = [n for n, photos in sorted(people.items()) if len(photos) >= 8][:3]
    if len(chosen) < 3:
        raise SystemExit(f"demo: {faces} needs 3 people with 8 photos or more")
    names = {f"R-GC-{i + 1}": chosen[i] for i in range(2)}
    stranger = chosen[2]
    work = workdir / "faces"
    work.mkdir(parents=True)
    cameras = []
    kiosks = {}
    for index, (resident_id, name) in enumerate(names.items()):
        plan = plan_clip(
            [(name, people[name][1])], seed=index, frames_per_passage=40, idle_frames=0
        )
        clip = _write_clip(plan, work / f"kiosk-{index}.avi")
        kiosks[resident_id] = f"kiosk-{index}"
        cameras.append(
            {
                "camera_id": f"kiosk-{index}",
                "source": str(clip),
                "gate": "north",
                "loop": True,
                "realtime": True,
                "fps_cap": 5,
            }
        )
    passes = [(n, people[n][3 + k]) for k in range(2) for n in names.values()]
    passes += [(stranger, people[stranger][k]) for k in range(3)]
    gate = _write_clip(plan_clip(passes, seed=9, pair_every=0, idle_frames=30), work / "gate.avi")
    cameras.append(
        {
            "camera_id": "gate-north",
            "source": str(gate),
            "gate": "north",
            "direction": "in",
            "loop": True,
            "realtime": True,
            "fps_cap": 10,
        }
    )
    key = work / "gallery.key"
    subprocess.run(
        [sys.executable, "-m", "edge_agent", "gallery", "new-key", str(key)],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    config = work / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "edge_id": EDGE_ID,
                "compound_id": COMPOUND,
                "data_dir": str(work / "data"),
                "mqtt": {"host": "127.0.0.1", "port": broker_port},
                "status_interval_s": 5,
                "face_recognition": True,
                "gallery": {"key_file": str(key)},
                "http": {"port": http_port},
                "cameras": cameras,
                "doors": [{"gate": "north", "open_s": 3}],
            }
        )
    )
    return FacesScenario(config, names, kiosks, http_port)


def registry_rows(scenario: FacesScenario) -> dict[str, list[str]]:
    """Rows to add to the demo registry for the faces compound."""
    return {
        "areas": ["G-GATE,grid,门岗网格,C"],
        "compounds": [f"{COMPOUND},C,门岗演示小区"],
        "houses": [f"{HOUSE},{COMPOUND},G-GATE,1,1,{HOUSE},no"],
        "residents": [
            f"{rid},{HOUSE},{name.replace('_', ' ')},,no,yes"
            for rid, name in scenario.residents.items()
        ],
        "workers": ["W-GATE,门岗网格员,G-GATE,no"],
        "edges": [f"{EDGE_ID},{COMPOUND},0"],
    }


def _post(url: str, body: object, token: str = "") -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - loopback URLs this script built
        url,
        method="POST",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except OSError as exc:  # not listening (yet, or any more: the demo is stopping)
        return 0, {"reason": str(exc)}


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback URLs this script built
        url, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())
    except OSError:
        return None


def _wait_for_edge(hub_base: str, token: str, *, settled: bool, limit_s: float = 90) -> bool:
    """Until the hub sees the edge online (and, if ``settled``, every roster version acked)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        edge = _get(f"{hub_base}/api/v1/edges/{EDGE_ID}", token)
        if edge and edge["online"] and (not settled or edge["roster_pending"] == 0):
            return True
        time.sleep(1)
    return False


def enrol_residents(hub_base: str, token: str, scenario: FacesScenario) -> None:
    """The community centre records each resident's face consent (the hub sends the edge an
    invitation); the resident then shows the code at the kiosk camera."""
    # Commands reach an edge through its persistent session; a brand-new edge has none until it
    # first connects, so the centre waits for it to come online (in the field it always is).
    if not _wait_for_edge(hub_base, token, settled=False):
        print("[faces] the camera edge did not come online", flush=True)
        return
    for resident_id, kiosk in scenario.kiosks.items():
        status, invitation = _post(
            f"{hub_base}/api/v1/residents/{resident_id}/consents", {"version": "v1"}, token
        )
        if status != 201:
            print(f"[faces] consent for {resident_id} failed: {status} {invitation}", flush=True)
            continue
        code = invitation["enrolment_code"]
        print(
            f"[timeline] CONSENT recorded for {resident_id}; invitation sent to {EDGE_ID}, "
            f"code {code} handed to the resident",
            flush=True,
        )
        _wait_for_edge(hub_base, token, settled=True, limit_s=30)
        time.sleep(1.0)  # the invitation travels just after the roster update
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, reply = _post(
                f"http://127.0.0.1:{scenario.http_port}/enrol", {"code": code, "camera": kiosk}
            )
            if status == 200:
                print(
                    f"[timeline] ENROLLED {resident_id} at {kiosk}: {reply.get('reason', '')} "
                    "(encrypted on the edge; the hub only counts them)",
                    flush=True,
                )
                break
            if status and reply and reply.get("reason") != "unknown code":  # not yet: retry
                print(f"[faces] enrolment of {resident_id} refused: {reply}", flush=True)
                break
            time.sleep(3)  # the edge throttles refusals: do not hammer it


def describe(payload: dict[str, Any]) -> str:
    who = payload.get("resident_id") or payload["subject"]
    score = payload.get("score")
    return (
        f"[timeline] PASSAGE {payload['gate']} {payload['direction']} by {payload['method']}: "
        f"{who} -> {payload['decision']}"
        + (f" (score {score:.3f})" if score is not None and score >= 0 else "")
        + (f" {payload['reason']}" if payload.get("reason") else "")
    )


def stranger_summary(scenario: FacesScenario) -> str:
    import sqlite3

    store = Path(yaml.safe_load(scenario.config.read_text())["data_dir"]) / "events.sqlite3"
    if not store.exists():
        return ""
    with sqlite3.connect(store) as conn:
        rows = conn.execute(
            "SELECT stranger_id, count(*) FROM events WHERE subject = 'stranger' "
            "GROUP BY stranger_id ORDER BY count(*) DESC"
        ).fetchall()
    if not rows:
        return ""
    top, count = rows[0]
    return (
        f"[demo] strangers at the gate (ids stay on the edge): {len(rows)} distinct; "
        f"the most frequent ({top}) came {count} times"
    )
