"""Issue 14 storm: hypothesis-generated edge traffic (valid, mutated, hostile) through Mosquitto
into a running hub, on SQLite and PostgreSQL; plus the 200,000-resident roster snapshot.

    .venv/bin/python bench/hardening_fuzz.py --per-kind 10000 --json

Figures: messages per kind, stored, dead-lettered, seconds for the whole storm, and how long a
valid passage sent in the middle of the storm took to be stored. The storm is drawn once and
sent to each database's hub. Afterwards every valid in-scope message must be stored once and
every other one dead-lettered with a reason (the run fails otherwise).
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from _common import emit, scratch_database, stamp
from sqlalchemy import insert

from gridgate_devkit.localbroker import LocalMosquitto
from hub.runtime import HubService
from hub.store.schema import houses, resident_credentials, residents
from hub.sync import queue_snapshot
from tests.fuzz_strategies import Sent
from tests.hub_helpers import hub_config, seed
from tests.test_hardening_storm import generated_storm, run_storm


def roster_snapshot(url: str, people: int) -> dict[str, Any]:
    hub = HubService(hub_config(url, 1, ingest={}))
    try:
        seed(hub.engine)
        with hub.engine.begin() as conn:
            conn.execute(
                insert(houses),
                [
                    {
                        "house_id": f"HX{h}",
                        "compound_id": "cA",
                        "grid_id": "GA1",
                        "address": "",
                        "vacant": False,
                        "building": "",
                        "unit": "",
                    }
                    for h in range(people // 3 + 1)
                ],
            )
            conn.execute(
                insert(residents),
                [
                    {
                        "resident_id": f"RX{i:06d}",
                        "house_id": f"HX{i // 3}",
                        "active": True,
                        "care_recipient": False,
                        "name": "",
                        "phone": "",
                    }
                    for i in range(people)
                ],
            )
            conn.execute(
                insert(resident_credentials),
                [
                    {"resident_id": f"RX{i:06d}", "kind": "card", "secret_sha256": f"{i:064x}"}
                    for i in range(people)
                ],
            )
        started = time.monotonic()
        with hub.engine.begin() as conn:
            parts = queue_snapshot(conn, "edge-A")
        seconds = time.monotonic() - started
        sizes = [len(p.model_dump_json()) for p in parts]
        return {
            "residents": people,
            "parts": len(parts),
            "largest_part_bytes": max(sizes),
            "build_s": round(seconds, 1),
        }
    finally:
        hub.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-kind", type=int, default=10_000, help="messages per edge kind")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--roster", type=int, default=200_000, help="residents in the snapshot")
    parser.add_argument(
        "--storm",
        type=Path,
        help="JSON-lines file: load the storm from it, or draw it and save it there (drawing "
        "10,000 per kind takes about 3 minutes on 2 cores; each database run then fits apart)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    per_batch = 10
    started = time.monotonic()
    if args.storm is not None and args.storm.exists():
        storm = [
            Sent(**{**row, "payload": base64.b64decode(row["payload"])})
            for row in map(json.loads, args.storm.read_text().splitlines())
        ]
    else:
        storm = generated_storm(max(1, args.per_kind // per_batch), per_batch)
        if args.storm is not None:
            args.storm.write_text(
                "".join(
                    json.dumps({**asdict(i), "payload": base64.b64encode(i.payload).decode()})
                    + "\n"
                    for i in storm
                )
            )
    generation_s = time.monotonic() - started
    result: dict[str, Any] = {
        **stamp(),
        "generated": len(storm),
        "generation_s": round(generation_s, 1),
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        broker = LocalMosquitto(work / "broker")
        broker.start()
        try:
            for kind in [d for d in args.databases.split(",") if d]:
                url, drop = scratch_database(kind, work)
                hub = HubService(hub_config(url, broker.port, ingest={}))
                seed(hub.engine)
                hub.start()
                try:
                    hub.link.wait_connected(10)
                    result["runs"][kind] = run_storm(hub, broker.port, storm)
                finally:
                    hub.stop()
                    drop()
            if args.roster:
                url, drop = scratch_database("postgresql", work)
                try:
                    result["roster_snapshot_postgresql"] = roster_snapshot(url, args.roster)
                finally:
                    drop()
        finally:
            broker.stop()
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
