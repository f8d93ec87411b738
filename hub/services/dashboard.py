"""What the community centre's dashboard shows: open and overdue tasks counted per grid and
kind in the database (figures, not rows: issue 19), the grid map, the filtered task list, the
review items and the face-template figures."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select

from gridgate_wire import TaskState
from hub import models, reports
from hub.auth import Principal
from hub.privacy import TemplateCounts, template_counts
from hub.services import queries
from hub.services.visits import open_reviews
from hub.store.db import as_utc
from hub.store.schema import areas, houses, task_transitions, tasks

SHOWN_TASKS = 200
SHOWN_REVIEWS = 50


@dataclass(frozen=True)
class DashboardFilter:
    """The dashboard's filters as the page sends them ("" for none; ``overdue`` "1" for yes;
    ``since`` an ISO date, ignored when it is not one)."""

    grid_id: str = ""
    kind: str = ""
    state: str = ""
    overdue: str = ""
    since: str = ""

    def since_date(self) -> date | None:
        try:
            return date.fromisoformat(self.since) if self.since else None
        except ValueError:
            return None


@dataclass(frozen=True)
class GridBox:
    area_id: str
    name: str
    x: int
    y: int
    w: int
    h: int
    fill: str
    open: int
    houses: int


@dataclass(frozen=True)
class CommunityBlock:
    name: str
    x: int
    y: int
    grids: list[GridBox]


@dataclass(frozen=True)
class GridMap:
    communities: list[CommunityBlock]
    width: int
    height: int


@dataclass(frozen=True)
class GridFigures:
    name: str
    counts: Counter[str]
    total: int


@dataclass
class Dashboard:
    open: int
    overdue: int
    closed_month: int
    templates: TemplateCounts
    per_grid: list[GridFigures]
    map: GridMap
    grid_names: dict[str, str]
    tasks: list[models.Task] = field(default_factory=list)
    reviews: list[models.Review] = field(default_factory=list)


def grid_names(conn: Connection, principal: Principal) -> dict[str, str]:
    query = select(areas.c.area_id, areas.c.name).where(areas.c.level == "grid")
    if principal.grids is not None:
        query = query.where(areas.c.area_id.in_(principal.grids))
    return {str(r.area_id): str(r.name) for r in conn.execute(query.order_by(areas.c.area_id))}


def grid_map(conn: Connection, principal: Principal, open_by_grid: Counter[str]) -> GridMap:
    """Each community of the user's scope with its grids in rows of three, coloured by how
    many open tasks they have."""
    communities = conn.execute(
        queries.areas_query(principal).where(areas.c.level == "community")
    ).all()
    grids = conn.execute(
        select(areas).where(areas.c.level == "grid").order_by(areas.c.area_id)
    ).all()
    house_query = select(houses.c.grid_id, func.count()).group_by(houses.c.grid_id)
    if principal.grids is not None:  # the user's grids only, by index (ix_houses_grid)
        house_query = house_query.where(houses.c.grid_id.in_(principal.grids))
    house_counts = {str(g): int(n) for g, n in conn.execute(house_query).all()}
    layout = []
    y = 30
    width = 600
    for community in communities:
        own = [
            g for g in grids if g.parent_id == community.area_id and principal.sees_grid(g.area_id)
        ]
        boxes = []
        for index, grid in enumerate(own):
            count = open_by_grid.get(grid.area_id, 0)
            fill = "#e6f4ea" if count == 0 else ("#ffe0b2" if count < 3 else "#ffab91")
            boxes.append(
                GridBox(
                    area_id=grid.area_id,
                    name=grid.name,
                    x=10 + (index % 3) * 200,
                    y=y + (index // 3) * 100,
                    w=190,
                    h=90,
                    fill=fill,
                    open=count,
                    houses=house_counts.get(grid.area_id, 0),
                )
            )
        layout.append(CommunityBlock(name=community.name, x=10, y=y, grids=boxes))
        y += max(1, (len(own) + 2) // 3) * 100 + 40
    return GridMap(communities=layout, width=width + 20, height=y)


def dashboard(
    conn: Connection,
    principal: Principal,
    chosen: DashboardFilter,
    site_timezone: str,
    template_limit: int,
) -> Dashboard:
    now = datetime.now(UTC)
    shown_query = queries.tasks_query(
        principal,
        grid_id=chosen.grid_id or None,
        kind=chosen.kind or None,
        state=chosen.state or None,
        open_only=None if chosen.state else True,
    )
    if chosen.overdue == "1":
        shown_query = shown_query.where(tasks.c.open.is_(True), tasks.c.due_at < now)
    created_from = chosen.since_date()
    if created_from is not None:
        zone = ZoneInfo(site_timezone)
        first = datetime.combine(created_from, time(0, 0), tzinfo=zone).astimezone(UTC)
        shown_query = shown_query.where(tasks.c.created_at >= first)
    start, _end = reports.month_bounds(now.strftime("%Y-%m"))
    in_scope = () if principal.grids is None else (houses.c.grid_id.in_(principal.grids),)
    open_rows = conn.execute(
        select(
            houses.c.grid_id,
            tasks.c.kind,
            func.count().label("n"),
            func.sum(case((tasks.c.due_at < now, 1), else_=0)).label("overdue"),
        )
        .join(houses, houses.c.house_id == tasks.c.house_id)
        .where(tasks.c.open.is_(True), *in_scope)
        .group_by(houses.c.grid_id, tasks.c.kind)
    ).all()
    shown = conn.execute(shown_query.limit(SHOWN_TASKS)).all()
    closed_month = int(
        conn.scalar(
            select(func.count())
            .select_from(task_transitions)
            .join(tasks, tasks.c.task_id == task_transitions.c.task_id)
            .join(houses, houses.c.house_id == tasks.c.house_id)
            .where(
                task_transitions.c.to_state == TaskState.CLOSED.value,
                task_transitions.c.at >= start,
                *in_scope,
            )
        )
        or 0
    )
    per_grid_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in open_rows:
        per_grid_counts[row.grid_id][row.kind] += int(row.n)
    names = grid_names(conn, principal)
    open_by_grid = Counter({g: sum(c.values()) for g, c in per_grid_counts.items()})
    return Dashboard(
        open=sum(int(r.n) for r in open_rows),
        overdue=sum(int(r.overdue or 0) for r in open_rows),
        closed_month=closed_month,
        templates=template_counts(conn, template_limit),
        per_grid=[
            GridFigures(
                name=names.get(grid, grid),
                counts=per_grid_counts.get(grid, Counter()),
                total=sum(per_grid_counts.get(grid, Counter()).values()),
            )
            for grid in names
        ],
        map=grid_map(conn, principal, open_by_grid),
        grid_names=names,
        tasks=sorted(
            (queries.task_out(r) for r in shown),
            key=lambda x: (not (x.open and as_utc(x.due_at) < now), -x.confidence, x.due_at),
        ),
        reviews=open_reviews(conn, principal, SHOWN_REVIEWS),
    )
