"""A two-community registry, users of every role, and an in-process API client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from hub.app import create_app
from hub.auth import Principal, Role, create_user
from hub.config import HubConfig
from hub.context import HubContext
from hub.importer import import_csv
from hub.runtime import HubService
from hub.tasks import Outbound

PASSWORD = "correct horse battery"

AREAS = """area_id,level,name,parent_id
D,district,新都区,
S,street,桂湖街道,D
CA,community,A 社区,S
CB,community,B 社区,S
GA1,grid,A1 网格,CA
GA2,grid,A2 网格,CA
GB1,grid,B1 网格,CB
"""
COMPOUNDS = """compound_id,community_id,name
cA,CA,Pine Court
cB,CB,Oak Court
"""
HOUSES = """house_id,compound_id,grid_id,building,unit,address,vacant
HA1,cA,GA1,1,1,1-1-101,no
HA2,cA,GA2,2,1,2-1-201,no
HB1,cB,GB1,1,1,1-1-301,no
"""
RESIDENTS = """resident_id,house_id,name,phone,care_recipient,active
RA1,HA1,张伟,13800000001,no,yes
RA2,HA2,王芳,13800000002,yes,yes
RB1,HB1,李娜,13800000003,no,yes
"""
WORKERS = """worker_id,name,grid_id,leader
WA1,刘洋,GA1,no
LA1,陈静,GA1,yes
WA2,杨磊,GA2,no
WB1,赵敏,GB1,no
"""


@dataclass
class Seeded:
    edge_a: str
    edge_b: str
    users: dict[str, str] = field(default_factory=dict)  # label -> username


def seed(engine: Any, edge_a: str = "edge-A", edge_b: str = "edge-B") -> Seeded:
    root = Principal("seed", "seed", Role.ADMIN, None, None, None, None)
    edges_csv = f"edge_id,compound_id\n{edge_a},cA\n{edge_b},cB\n"
    with engine.begin() as conn:
        for kind, text in (
            ("areas", AREAS),
            ("compounds", COMPOUNDS),
            ("houses", HOUSES),
            ("residents", RESIDENTS),
            ("workers", WORKERS),
            ("edges", edges_csv),
        ):
            report = import_csv(conn, kind, text, root)
            assert report.ok, report.problems
        seeded = Seeded(edge_a, edge_b)
        for label, role, area, worker in (
            ("admin", Role.ADMIN, None, None),
            ("admin_a", Role.COMMUNITY_ADMIN, "CA", None),
            ("admin_b", Role.COMMUNITY_ADMIN, "CB", None),
            ("worker_a1", Role.GRID_WORKER, None, "WA1"),
            ("worker_b1", Role.GRID_WORKER, None, "WB1"),
        ):
            username = f"{label}-{uuid.uuid4().hex[:4]}"
            create_user(conn, username, PASSWORD, role, area_id=area, worker_id=worker)
            seeded.users[label] = username
    return seeded


def hub_config(database_url: str, port: int = 1883, **extra: Any) -> HubConfig:
    return HubConfig.model_validate(
        {
            "instance_id": f"hub-{uuid.uuid4().hex[:8]}",
            "database": {"url": database_url},
            "mqtt": {"port": port, "reconnect_max_s": 0.5},
            "api": {"enabled": False},
            # Delivery tests run edges the registry does not know (issue 14 refuses those).
            "ingest": {"unregistered_edges": "accept_events"},
            **extra,
        }
    )


@contextmanager
def api_client(hub: HubService) -> Iterator[TestClient]:
    with TestClient(create_app(hub.api)) as client:
        yield client


@contextmanager
def offline_api(engine: Any) -> Iterator[tuple[TestClient, list[Outbound]]]:
    """The API on a database alone; what it would publish is collected instead."""
    published: list[Outbound] = []
    ctx = HubContext(engine=engine, publish=published.append)
    with TestClient(create_app(ctx)) as client:
        yield client, published


def login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # the API tests use the bearer token, not the cookie
    return {"Authorization": f"Bearer {response.json()['token']}"}
