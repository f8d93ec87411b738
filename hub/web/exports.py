"""Exports that people open in Excel on a Chinese PC: UTF-8 with a byte-order mark (Excel reads
UTF-8 without one as the local code page and garbles Chinese), headers in the page's language,
names instead of ids."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from hub import audit, reports
from hub.audit import Action
from hub.store.schema import areas, workers
from hub.web.i18n import Translator
from hub.web.pages import _ctx, _language, _require

router = APIRouter(include_in_schema=False)
BOM = "\ufeff"
COLUMNS = (
    "field.month",
    "export.worker",
    "field.grid",
    "workers.assigned",
    "workers.closed",
    "workers.on_time",
    "workers.median_hours",
    "workers.outcomes",
)


def report_csv(
    t: Translator,
    month: str,
    rows: list[reports.ReportRow],
    worker_names: dict[str, str],
    grid_names: dict[str, str],
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([t(key) for key in COLUMNS])
    for row in rows:
        data = row.as_dict()
        if row.key == "community-centre":
            who = t("assignee.community-centre")
        else:
            who = worker_names.get(row.key, row.key)
        rate = data["on_time_rate"]
        hours = data["median_hours_to_visit"]
        writer.writerow(
            [
                month,
                who,
                grid_names.get(row.grid_id, row.grid_id),
                row.tasks_assigned,
                row.tasks_closed,
                "" if rate is None else f"{float(str(rate)) * 100:.0f}%",
                "" if hours is None else hours,
                t("export.separator").join(
                    f"{t('outcome.' + k)} {v}" for k, v in sorted(row.outcomes.items())
                ),
            ]
        )
    return BOM + buffer.getvalue()


@router.get("/workers/report.csv")
def worker_report_csv(request: Request, month: str = "") -> Response:
    user = _require(request, staff=True)
    month = month or datetime.now(UTC).strftime("%Y-%m")
    ctx = _ctx(request)
    t = Translator(_language(request))
    try:
        with ctx.engine.begin() as conn:
            rows = reports.monthly(conn, month, reports.GroupBy.WORKER, user)
            names = {str(w.worker_id): str(w.name) for w in conn.execute(select(workers))}
            grids = {
                str(g.area_id): str(g.name)
                for g in conn.execute(select(areas.c.area_id, areas.c.name))
            }
            audit.record(conn, user.actor, Action.EXPORT, "report", f"{month}/worker")
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    filename = f"worker-report-{month}.csv"
    return Response(
        report_csv(t, month, rows, names, grids).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
