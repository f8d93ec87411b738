"""``/api/v1`` oversight: edges and their rosters, monthly reports, the audit log, face-template
figures, dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from hub import models, reports
from hub.api.deps import Admin, Ctx, Paged, Staff
from hub.services import oversight, reporting

router = APIRouter(prefix="/api/v1")


@router.get("/edges", response_model=models.Page[models.Edge], tags=["edges"])
def list_edges(principal: Staff, ctx: Ctx, page: Paged) -> models.Page[models.Edge]:
    with ctx.read() as conn:
        return oversight.list_edges(conn, principal, page)


@router.get("/edges/{edge_id}", response_model=models.Edge, tags=["edges"])
def get_edge(edge_id: str, principal: Staff, ctx: Ctx) -> models.Edge:
    with ctx.read() as conn:
        return oversight.get_edge(conn, principal, edge_id)


@router.post("/edges/{edge_id}/roster", response_model=models.Edge, tags=["edges"])
def send_full_roster(edge_id: str, principal: Staff, ctx: Ctx) -> models.Edge:
    """Queue a full roster snapshot for the edge (it is re-sent until acknowledged)."""
    with ctx.work() as work:
        oversight.send_full_roster(work, principal, edge_id)
    with ctx.read() as conn:  # after the publish: the roster shows as sent
        return oversight.get_edge(conn, principal, edge_id)


@router.get(
    "/reports/monthly",
    response_model=models.Report,
    tags=["reports"],
    responses={200: {"content": {"text/csv": {}}}},
)
def monthly_report(
    principal: Staff,
    ctx: Ctx,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")],
    by: reports.GroupBy = reports.GroupBy.WORKER,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response | models.Report:
    """Per worker or per grid: tasks assigned, closed, on-time rate, median hours to visit,
    outcome mix. ``format=csv`` downloads the same table."""
    if format == "csv":
        with ctx.work() as work:
            report = reporting.export_monthly(work, principal, month, by)
        return PlainTextResponse(
            reports.to_csv(month, by, report.rows),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="report-{month}-{by.value}.csv"'
            },
        )
    with ctx.read() as conn:
        report = reporting.monthly(conn, principal, month, by)
    return models.Report(
        month=month,
        group_by=by.value,
        rows=[models.ReportRowOut.model_validate(r.as_dict()) for r in report.rows],
    )


@router.get("/audit", response_model=models.Page[models.AuditEntry], tags=["oversight"])
def list_audit(
    principal: Staff,
    ctx: Ctx,
    page: Paged,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page.")
    ] = None,
) -> models.Page[models.AuditEntry]:
    with ctx.read() as conn:
        found = oversight.audit_entries(conn, principal, page, cursor)
    return models.Page[models.AuditEntry](
        items=found.entries,
        total=found.total,
        limit=page.limit,
        offset=page.offset,
        total_exact=found.exact,
        next_cursor=found.next_cursor,
    )


@router.get("/privacy/templates", response_model=models.TemplateCountsOut, tags=["oversight"])
def get_template_counts(principal: Staff, ctx: Ctx) -> models.TemplateCountsOut:
    """How many people have face templates on any edge (from the edges' confirmations)."""
    with ctx.read() as conn:
        counts = oversight.face_templates(conn, ctx.template_limit)
    return models.TemplateCountsOut(**vars(counts))


@router.get("/dead-letters", response_model=models.Page[models.DeadLetter], tags=["oversight"])
def list_dead_letters(principal: Admin, ctx: Ctx, page: Paged) -> models.Page[models.DeadLetter]:
    with ctx.read() as conn:
        return oversight.list_dead_letters(conn, page)
