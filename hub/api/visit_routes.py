"""``/api/v1`` visit loop (issues 13 and 15): away reports (外出报备) and the review items of
alerts without a known house."""

from __future__ import annotations

from fastapi import APIRouter

from hub import models
from hub.api.deps import Ctx, Paged, Staff, User
from hub.services import visits

router = APIRouter(prefix="/api/v1", tags=["visits"])


@router.get("/houses/{house_id}/away", response_model=list[models.AwayOut])
def list_away(house_id: str, principal: User, ctx: Ctx) -> list[models.AwayOut]:
    """Away reports of a house (newest return date first)."""
    with ctx.read() as conn:
        return visits.house_away(conn, principal, house_id)


@router.post("/houses/{house_id}/away", response_model=models.AwayOut, status_code=201)
def report_away(house_id: str, body: models.AwayIn, principal: Staff, ctx: Ctx) -> models.AwayOut:
    """Record that a resident (or, without ``resident_id``, the household) is away from
    ``away_from`` until about ``back_on``: the edges stay quiet about their absence until then
    (plus a grace period) and alert again if they are not back."""
    with ctx.work() as work:
        return visits.report_away(work, principal, house_id, body, ctx.site_timezone)


@router.get("/reviews", response_model=models.Page[models.Review])
def list_reviews(
    principal: Staff, ctx: Ctx, page: Paged, open: bool = True
) -> models.Page[models.Review]:
    """Alerts that named no registered house, for the community centre to look into."""
    with ctx.read() as conn:
        return visits.list_reviews(conn, principal, page, open)


@router.post("/reviews/{edge_id}/{msg_id}/resolve", status_code=204)
def resolve_review(
    edge_id: str, msg_id: str, body: models.NoteIn, principal: Staff, ctx: Ctx
) -> None:
    """Mark a review item handled, saying how (a house registered, a task created by hand...)."""
    with ctx.work() as work:
        visits.resolve_review(work, principal, edge_id, msg_id, body.note)
