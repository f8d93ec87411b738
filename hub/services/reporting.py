"""Monthly figures per worker or per grid, with the names a person reads them by; exports are
audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from hub import audit, reports
from hub.audit import Action
from hub.auth import Principal
from hub.store.schema import areas, workers
from hub.uow import UnitOfWork


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    group_by: reports.GroupBy
    rows: list[reports.ReportRow]
    worker_names: dict[str, str]
    grid_names: dict[str, str]


def worker_names(conn: Connection) -> dict[str, str]:
    return {str(w.worker_id): str(w.name) for w in conn.execute(select(workers))}


def monthly(
    conn: Connection, principal: Principal, month: str, group_by: reports.GroupBy
) -> MonthlyReport:
    """Tasks assigned, closed, on-time rate, median hours to visit, outcome mix."""
    rows = reports.monthly(conn, month, group_by, principal)
    grids = {
        str(g.area_id): str(g.name) for g in conn.execute(select(areas.c.area_id, areas.c.name))
    }
    return MonthlyReport(month, group_by, rows, worker_names(conn), grids)


def export_monthly(
    work: UnitOfWork, principal: Principal, month: str, group_by: reports.GroupBy
) -> MonthlyReport:
    """The same report, for a download: the export is audited."""
    report = monthly(work.conn, principal, month, group_by)
    audit.record(work.conn, principal.actor, Action.EXPORT, "report", f"{month}/{group_by.value}")
    return report
