"""``/api/v1`` visitor passes and doors: issue (QR and PIN answered once), revoke, the lists
of a house and a compound; the console's door alarms, acknowledging one; remote unlock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.api.deps import Ctx, Staff, User
from hub.services import doors, passes
from hub.visitor_models import (
    AlarmAckIn,
    AlarmsShown,
    DoorAlarmOut,
    DoorPlace,
    IssuedPassOut,
    PassIn,
    PassOut,
    PassWhen,
    RevokeIn,
    UnlockIn,
    UnlockOut,
)

router = APIRouter(prefix="/api/v1")
When = Annotated[PassWhen, Query(description="today, active (now or later), expired, all.")]


@router.post("/passes", response_model=IssuedPassOut, status_code=201, tags=["passes"])
def issue_pass(body: PassIn, principal: Staff, ctx: Ctx) -> IssuedPassOut:
    with ctx.work() as work:
        return passes.issue(work, principal, body, ctx.passes)


@router.get("/passes/{pass_id}", response_model=PassOut, tags=["passes"])
def get_pass(pass_id: str, principal: User, ctx: Ctx) -> PassOut:
    with ctx.work() as work:
        return passes.get(work, principal, pass_id)


@router.post("/passes/{pass_id}/revoke", response_model=PassOut, tags=["passes"])
def revoke_pass(pass_id: str, body: RevokeIn, principal: Staff, ctx: Ctx) -> PassOut:
    with ctx.work() as work:
        return passes.revoke(work, principal, pass_id, body.reason)


@router.get("/houses/{house_id}/passes", response_model=list[PassOut], tags=["passes"])
def house_passes(
    house_id: str, principal: User, ctx: Ctx, when: When = PassWhen.ACTIVE
) -> list[PassOut]:
    with ctx.work() as work:
        return passes.house_passes(work, principal, house_id, when, ctx.site_timezone)


@router.get("/compounds/{compound_id}/passes", response_model=list[PassOut], tags=["passes"])
def compound_passes(
    compound_id: str, principal: User, ctx: Ctx, when: When = PassWhen.TODAY
) -> list[PassOut]:
    with ctx.work() as work:
        return passes.compound_passes(work, principal, compound_id, when, ctx.site_timezone)


@router.get("/door-alarms", response_model=list[DoorAlarmOut], tags=["doors"])
def door_alarms(
    principal: Staff,
    ctx: Ctx,
    state: AlarmsShown = AlarmsShown.OPEN,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DoorAlarmOut]:
    with ctx.work() as work:
        return doors.list_alarms(work, principal, state, limit)


@router.post("/door-alarms/{alarm_id}/acknowledge", status_code=204, tags=["doors"])
def acknowledge_alarm(alarm_id: str, body: AlarmAckIn, principal: Staff, ctx: Ctx) -> None:
    with ctx.work() as work:
        doors.acknowledge(work, principal, alarm_id, body.note)


@router.get("/doors", response_model=list[DoorPlace], tags=["doors"])
def door_places(principal: Staff, ctx: Ctx) -> list[DoorPlace]:
    with ctx.read() as conn:
        return doors.door_places(conn, principal)


@router.post("/doors/unlock", response_model=UnlockOut, status_code=202, tags=["doors"])
def remote_unlock(body: UnlockIn, principal: Staff, ctx: Ctx) -> UnlockOut:
    with ctx.work() as work:
        return doors.remote_unlock(work, principal, body, ctx.unlock_expiry)
