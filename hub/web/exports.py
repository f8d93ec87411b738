"""Exports that people open in Excel on a Chinese PC: UTF-8 with a byte-order mark (Excel reads
UTF-8 without one as the local code page and garbles Chinese), headers in the page's language,
names instead of ids."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub import reports
from hub.request_context import hub_context
from hub.services import reporting
from hub.tasks import Assignee
from hub.web.i18n import Translator
from hub.web.render import translator
from hub.web.session import PageStaff

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
        if row.key == Assignee.COMMUNITY_CENTRE.value:
            who = t("assignee." + Assignee.COMMUNITY_CENTRE.value)
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
def worker_report_csv(request: Request, user: PageStaff, month: str = "") -> Response:
    month = month or datetime.now(UTC).strftime("%Y-%m")
    with hub_context(request).work() as work:
        report = reporting.export_monthly(work, user, month, reports.GroupBy.WORKER)
    text = report_csv(
        translator(request), month, report.rows, report.worker_names, report.grid_names
    )
    filename = f"worker-report-{month}.csv"
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
