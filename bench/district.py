"""District-scale hub bench (issue 19): build a district with the hub's own CLI importer into a
scratch PostgreSQL database, run one hub process, open N phone event streams, and time every list,
detail, report and page endpoint for each role, on first and deep pages. One JSON line.

    .venv/bin/python bench/district.py --json            # scaled down: 100,000 residents
    .venv/bin/python bench/district.py --full --json     # the seed's district: 1,000,000

The district keeps the seed's proportions (183 communities, 706 grids, 870,000 households and
807 workers per million residents) and a year of tasks (120,000 per million residents).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _common import REPO, emit, hub_process, scratch_database, stamp

from gridgate_devkit.localbroker import LocalMosquitto, free_port, wait_port


def _write_csvs(work: Path, residents: int) -> dict[str, tuple[Path, int]]:
    f = residents / 1_000_000
    communities = max(2, round(183 * f))
    grids = max(communities * 2, round(706 * f))
    houses = max(grids, round(870_000 * f))
    files: dict[str, tuple[Path, int]] = {}

    def write(kind: str, header: str, lines: Any) -> None:
        path = work / f"{kind}.csv"
        count = 0
        with path.open("w", encoding="utf-8") as out:
            out.write(header + "\n")
            for line in lines:
                out.write(line + "\n")
                count += 1
        files[kind] = (path, count)

    streets = 9
    write(
        "areas",
        "area_id,level,name,parent_id",
        [
            "D,district,区,",
            *(f"S{s},street,街道{s}," + "D" for s in range(streets)),
            *(f"C{c},community,社区{c},S{c % streets}" for c in range(communities)),
            *(f"G{g},grid,网格{g},C{g % communities}" for g in range(grids)),
        ],
    )
    write(
        "compounds",
        "compound_id,community_id,name",
        (f"K{g},C{g % communities},小区{g}" for g in range(grids)),
    )
    write(
        "houses",
        "house_id,compound_id,grid_id,building,unit,address,vacant",
        (
            f"H{h:07d},K{h % grids},G{h % grids},{h % 30},{h % 4},{h % 30}-{h % 4}-{h},no"
            for h in range(houses)
        ),
    )
    write(
        "residents",
        "resident_id,house_id,name,phone",
        (f"R{r:07d},H{r * houses // residents:07d},住户{r},138{r:08d}" for r in range(residents)),
    )
    workers = max(grids, round(807 * f))
    write(
        "workers",
        "worker_id,name,grid_id,leader",
        (f"W{w},网格员{w},G{w % grids},{'yes' if w >= grids else 'no'}" for w in range(workers)),
    )
    return files


def _import(config: Path, kind: str, csv: Path) -> tuple[float, float]:
    """``gridgate-hub import``: (seconds, peak RSS in MB of that process)."""
    started = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "hub", "import", "--config", str(config), kind, str(csv)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"import {kind} failed ({child.returncode})")
    return time.monotonic() - started, usage.ru_maxrss / 1024


def _tasks(url: str, residents: int, houses: int) -> int:
    """A year of tasks (set-based SQL), about a fifth still open, with their transitions."""
    from sqlalchemy import create_engine, text

    count = max(1000, residents * 120_000 // 1_000_000)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tasks (task_id, house_id, kind, state, open, worker_id, assignee,"
                " created_at, due_at, revision, outcome) "
                "SELECT 'T' || n, 'H' || lpad(((n * 7919) % :houses)::text, 7, '0'),"
                " 'move_out', CASE WHEN n % 5 = 0 THEN 'assigned' ELSE 'closed' END, n % 5 = 0,"
                " NULL, 'community centre', now() - (n % 365) * interval '1 day',"
                " now() - (n % 365) * interval '1 day' + interval '7 days', 1,"
                " CASE WHEN n % 5 = 0 THEN NULL ELSE 'no_change' END "
                "FROM generate_series(1, :count) n"
            ),
            {"houses": houses, "count": count},
        )
        conn.execute(
            text(
                "INSERT INTO task_transitions (task_id, at, actor, from_state, to_state, note) "
                "SELECT task_id, created_at, 'hub', NULL, 'created', '' FROM tasks "
                "UNION ALL SELECT task_id, created_at + interval '2 days', 'W1', 'assigned',"
                " 'closed', '' FROM tasks WHERE NOT open"
            )
        )
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return count


def _users(url: str) -> None:
    from sqlalchemy import create_engine

    from hub.auth import Role, create_user

    engine = create_engine(url)
    with engine.begin() as conn:
        create_user(conn, "admin", PASSWORD, Role.ADMIN)
        create_user(conn, "cadmin", PASSWORD, Role.COMMUNITY_ADMIN, area_id="C0")
        create_user(conn, "worker", PASSWORD, Role.GRID_WORKER, worker_id="W0")
    engine.dispose()


PASSWORD = "district bench password"  # noqa: S105 - a scratch database's user


def _explain(url: str, out: Path) -> None:
    """EXPLAIN ANALYZE of the heaviest list query, as it was (an exact count over the whole
    joined, ordered residents query, on every page) and as it is (a count capped at 10,001)."""
    from sqlalchemy import create_engine, func, select, text

    from hub.auth import Principal, Role
    from hub.services import queries

    admin = Principal("b", "b", Role.ADMIN, None, None, None, None)
    query = queries.residents_query(admin)
    engine = create_engine(url)
    before = select(func.count()).select_from(query.subquery())
    after = select(func.count()).select_from(
        query.order_by(None).limit(queries.TOTAL_CAP + 1).subquery()
    )
    with engine.connect() as conn:
        parts = []
        for name, statement in (("before", before), ("after", after)):
            sql = statement.compile(engine, compile_kwargs={"literal_binds": True})
            plan = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS OFF) {sql}")).all()
            parts.append(f"-- {name}\n" + "\n".join(r[0] for r in plan))
    out.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    engine.dispose()


def _roster_snapshot(url: str, compound_id: str) -> dict[str, Any]:
    """A full roster snapshot of one compound (hub.roster_snapshot), median of 5 builds."""
    from sqlalchemy import create_engine

    from hub.roster_snapshot import snapshot_residents

    engine = create_engine(url)
    times = []
    with engine.connect() as conn:
        for _ in range(5):
            t0 = time.perf_counter()
            entries = snapshot_residents(conn, compound_id)
            times.append((time.perf_counter() - t0) * 1000)
    engine.dispose()
    return {"residents": len(entries), "median_ms": round(statistics.median(times), 1)}


def _cpu() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]  # total, idle + iowait


def _process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def _idle_cost(pid: int, seconds: float) -> float:
    """The hub's CPU (fraction of one core) while the streams are open and nothing else runs."""
    before, started = _process_cpu_s(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return round((_process_cpu_s(pid) - before) / (time.monotonic() - started), 4)


async def _measure(
    base: str, streams: int, repeat: int, scale: dict[str, int], hub_pid: int
) -> dict[str, Any]:
    import httpx2 as httpx

    from hub.request_context import SESSION_COOKIE

    limits = httpx.Limits(max_connections=streams + 20, max_keepalive_connections=streams + 20)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        tokens = {}
        for role, name in (
            ("admin", "admin"),
            ("community_admin", "cadmin"),
            ("grid_worker", "worker"),
        ):
            answer = await client.post(
                "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
            )
            answer.raise_for_status()
            tokens[role] = answer.json()["token"]
        client.cookies.clear()
        opened = 0

        async def stream() -> None:
            nonlocal opened
            headers = {"Cookie": f"{SESSION_COOKIE}={tokens['grid_worker']}"}
            async with client.stream("GET", "/events", headers=headers) as response:
                opened += 1
                async for _chunk in response.aiter_bytes():
                    pass

        hub_idle_one = await _idle_cost(hub_pid, 9)  # no stream open yet
        holders = [asyncio.create_task(stream()) for _ in range(streams)]
        while opened < streams:
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)
        hub_idle_streams = await _idle_cost(hub_pid, 9)  # three shared polls, every stream open
        cpu_before = _cpu()
        started = time.monotonic()
        endpoints = []
        for role, token in tokens.items():
            staff = role != "grid_worker"
            deep = scale[role] - 50
            paths = {
                "api residents first": "/api/v1/residents?limit=50",
                "api residents deep offset": f"/api/v1/residents?limit=50&offset={deep}",
                "api residents deep cursor": "/api/v1/residents?limit=50&cursor="
                + _cursor(f"R{max(scale['last_' + role] - 50, 0):07d}"),
                "api houses first": "/api/v1/houses?limit=50",
                "api houses deep offset": f"/api/v1/houses?limit=50&offset={max(deep // 2, 0)}",
                "api tasks first": "/api/v1/tasks?limit=50",
                "api resident detail": f"/api/v1/residents/R{scale['last_' + role]:07d}",
            }
            if staff:
                month = time.strftime("%Y-%m")
                paths["api monthly report"] = f"/api/v1/reports/monthly?month={month}"
                paths["page dashboard"] = "/dashboard"
                paths["page residents"] = "/residents"
            else:
                paths["page my tasks"] = "/my"
            for name, path in paths.items():
                times = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    answer = await client.get(
                        path,
                        headers={
                            "Cookie": f"{SESSION_COOKIE}={token}",
                            "Authorization": f"Bearer {token}",
                        },
                    )
                    times.append((time.perf_counter() - t0) * 1000)
                    if answer.status_code != 200:
                        raise SystemExit(f"{role} {path}: {answer.status_code} {answer.text[:200]}")
                times.sort()
                endpoints.append(
                    {
                        "name": name,
                        "role": role,
                        "p50_ms": round(statistics.median(times), 1),
                        "p95_ms": _p95(times),
                    }
                )
        cpu_after = _cpu()
        during_import = await _during_import(client, tokens, scale)
        for holder in holders:
            holder.cancel()
        await asyncio.gather(*holders, return_exceptions=True)
    total = cpu_after[0] - cpu_before[0]
    idle = cpu_after[1] - cpu_before[1]
    return {
        "endpoints": endpoints,
        "open_streams": opened,
        "measure_s": round(time.monotonic() - started, 1),
        "cpu_busy_fraction": round(1 - idle / max(total, 1), 3),
        "during_import": during_import,
        "hub_cpu_idle_no_streams": hub_idle_one,
        "hub_cpu_idle_with_streams": hub_idle_streams,
    }


async def _during_import(client: Any, tokens: dict[str, str], scale: dict[str, int]) -> Any:
    """A residents import through the API while a grid worker keeps reading its first page."""
    from hub.request_context import SESSION_COOKIE

    rows = max(1000, scale["admin"] // 5)
    houses = scale["houses"]
    body = "resident_id,house_id,name\n" + "".join(
        f"N{r:07d},H{r % houses:07d},新住户{r}\n" for r in range(rows)
    )
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    worker = {"Cookie": f"{SESSION_COOKIE}={tokens['grid_worker']}"}
    worker["Authorization"] = f"Bearer {tokens['grid_worker']}"
    started = time.monotonic()
    importing = asyncio.create_task(
        client.post("/api/v1/import/residents", content=body.encode(), headers=admin)
    )
    times = []
    while not importing.done():
        t0 = time.perf_counter()
        answer = await client.get("/api/v1/residents?limit=50", headers=worker)
        times.append((time.perf_counter() - t0) * 1000)
        answer.raise_for_status()
        await asyncio.sleep(0.05)
    answer = await importing
    answer.raise_for_status()
    times.sort()
    return {
        "rows": rows,
        "import_s": round(time.monotonic() - started, 2),
        "other_requests": len(times),
        "other_p50_ms": round(statistics.median(times), 1) if times else None,
        "other_p95_ms": _p95(times) if times else None,
    }


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return round(ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)], 1)


def _cursor(value: str) -> str:
    from hub.services.queries import encode_cursor

    return encode_cursor(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="the seed's 1,000,000 residents")
    parser.add_argument("--streams", type=int, default=800)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain", type=Path, help="write EXPLAIN ANALYZE (before/after) here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    residents = 1_000_000 if args.full else args.residents
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url, drop = scratch_database("postgresql", work)
        broker = LocalMosquitto(work / "broker")
        broker.start()
        hub = None
        try:
            port = free_port()
            config = {
                "instance_id": f"hub-{uuid.uuid4().hex[:6]}",
                "database": {"url": url},
                "mqtt": {"port": broker.port},
                "api": {"port": port},
                "logging": {"level": "WARNING"},
            }
            config_path = work / "import.yaml"
            config_path.write_text(yaml.safe_dump(config))
            files = _write_csvs(work, residents)
            imported: dict[str, Any] = {}
            peak = 0.0
            for kind in ("areas", "compounds", "houses", "residents", "workers"):
                seconds, rss = _import(config_path, kind, files[kind][0])
                imported[f"{kind}_s"] = round(seconds, 2)
                peak = max(peak, rss)
            imported["peak_rss_mb"] = round(peak, 1)
            task_count = _tasks(url, residents, files["houses"][1])
            _users(url)
            if args.explain:
                _explain(url, args.explain)
            roster = _roster_snapshot(url, "K0")
            f = residents / 1_000_000
            n_communities = max(2, round(183 * f))
            n_grids = max(n_communities * 2, round(706 * f))
            houses = files["houses"][1]
            # Residents the community admin (C0) and the worker (W0, grid G0) see; the last of
            # each scope's residents by id (the deepest page's end).
            last_worker = max(
                r
                for r in range(residents - 1, max(residents - 5000, 0) - 1, -1)
                if (r * houses // residents) % n_grids == 0
            )
            last_cadmin = max(
                r
                for r in range(residents - 1, max(residents - 5000, 0) - 1, -1)
                if ((r * houses // residents) % n_grids) % n_communities == 0
            )
            scale = {
                "admin": residents,
                "community_admin": residents * len(range(0, n_grids, n_communities)) // n_grids,
                "grid_worker": residents // n_grids,
                "houses": houses,
                "last_admin": residents - 1,
                "last_community_admin": last_cadmin,
                "last_grid_worker": last_worker,
            }
            hub = hub_process(config, work, "hub")
            wait_port(port, 60)
            measured = asyncio.run(
                _measure(f"http://127.0.0.1:{port}", args.streams, args.repeat, scale, hub.pid)
            )
        finally:
            if hub is not None:
                hub.terminate()
                hub.wait(30)
            broker.stop()
            drop()
    emit(
        {
            **stamp(),
            "bench": "district",
            "size": "full" if args.full else "scaled-down",
            "residents": residents,
            "houses": files["houses"][1],
            "grids": n_grids,
            "communities": n_communities,
            "tasks": task_count,
            "import": imported,
            "roster_snapshot": roster,
            **measured,
        },
        args.json,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
