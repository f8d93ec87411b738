"""Visitor passes in the analyser: whose face a pass is, and when a pass holder has moved in.

A visitor presents a pass (QR or PIN) at the gate, and the gate's camera sees an unknown face at
the same moment. A stranger id that came in together with one pass on most of its entries is that
pass's holder: it is no stranger evidence (a registered guest is not an unregistered occupant),
and its passages count for the pass, so a holder who goes on living there after the pass ended is
still followed. The other half of a face the gallery split by day and night goes with it.

A pass holder **lives here** when, over the last ``pass_window_days``, they stayed at least
``pass_night_share`` of the nights (the same evening-in / morning-out rule as strangers). A
visitor pass of at most ``pass_registered_stay_days`` registers a stay: nights inside its window
are known to the centre, and only ``min_nights`` nights after it ended make a new-occupant alert.
A carer's or domestic helper's pass registers day work, never nights. The alert names the pass's
host house and carries the pass id (the hub has the name).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from edge_agent.analysis.calibration import calibrated
from edge_agent.analysis.config import Alert
from edge_agent.analysis.const import DAY
from edge_agent.analysis.strangers import StrangerId, StrangerTracker
from edge_agent.store.rows import EventRow
from gridgate_wire import (
    AlertContext,
    AlertEvidence,
    AlertKind,
    EdgePass,
    PassageDirection,
    PassKind,
)

if TYPE_CHECKING:
    from edge_agent.analysis.occupancy import OccupancyAnalyser


@dataclass(frozen=True, slots=True)
class PassWindow:
    """What the analyser needs of a pass: its host house, kind and validity (epoch seconds)."""

    pass_id: str
    house_id: str
    kind: PassKind
    valid_from: float
    valid_until: float

    @classmethod
    def of(cls, edge_pass: EdgePass) -> PassWindow:
        return cls(
            edge_pass.pass_id,
            edge_pass.house_id,
            edge_pass.kind,
            edge_pass.valid_from.timestamp(),
            edge_pass.valid_until.timestamp(),
        )


class PassHolders:
    """Pass holders' passages (keyed by pass id) and the windows the edge's pass list gave."""

    def __init__(self, evening_from: float, morning_until: float) -> None:
        self.tracker = StrangerTracker(evening_from, morning_until)
        self.houses: dict[str, str] = {}  # pass id -> host house (from its passages or its window)
        self.windows: dict[str, PassWindow] = {}

    def sync(self, passes: Iterable[PassWindow]) -> None:
        """Learn or update windows; a pass gone from the edge's list is kept until forgotten."""
        for window in passes:
            self.windows[window.pass_id] = window
            self.houses[window.pass_id] = window.house_id

    def seen(
        self,
        pass_id: str,
        house: str | None,
        t: float,
        day: int,
        hour: float,
        direction: PassageDirection,
    ) -> None:
        if house:
            self.houses.setdefault(pass_id, house)
        self.tracker.seen(pass_id, t, day, hour, direction)

    def seen_as_stranger(
        self,
        pass_id: str,
        t: float,
        day: int,
        hour: float,
        direction: PassageDirection,
        window_s: float,
    ) -> None:
        """A passage of the holder's face; the pass passage it came with is already counted."""
        state = self.tracker.ids.get(pass_id)
        if (
            state is not None
            and state.last_direction is direction
            and t - state.last_time <= window_s
        ):
            return
        self.tracker.seen(pass_id, t, day, hour, direction)

    def forget_before(self, t: float) -> list[str]:
        """Holders unseen since ``t``, and passes that ended before it and are not followed."""
        gone = self.tracker.forget_before(t)
        for pass_id in gone:
            window = self.windows.get(pass_id)
            if window is None or window.valid_until < t:
                self.windows.pop(pass_id, None)
                self.houses.pop(pass_id, None)
        ended = [p for p, w in self.windows.items() if w.valid_until < t]
        for pass_id in ended:
            if pass_id not in self.tracker.ids:
                del self.windows[pass_id]
                self.houses.pop(pass_id, None)
        return gone


def fold_visitor(
    an: OccupancyAnalyser,
    e: EventRow,
    t: float,
    recent_strangers: Iterable[tuple[float, str, PassageDirection, str]],
) -> None:
    """A passage under a pass: the holder's, and a link to the faces that came in with it."""
    pass_id = str(e.pass_id)
    an.passes.seen(pass_id, e.house_id, t, an.local_day(t), an.local_hour(t), e.direction)
    if e.direction is PassageDirection.IN:
        for _, gate, direction, sid in recent_strangers:
            if gate == e.gate and direction is e.direction and sid in an.strangers.ids:
                an.strangers.ids[sid].passes[pass_id] += 1
    an.recent_visitors.append((t, e.gate, e.direction, pass_id))


def fold_stranger(
    an: OccupancyAnalyser, sid: str, state: StrangerId, e: EventRow, t: float
) -> None:
    """A stranger passage: linked to a pass it came in with; a holder's face counts for the pass."""
    if e.direction is PassageDirection.IN:
        for _, gate, direction, pass_id in an.recent_visitors:
            if gate == e.gate and direction is e.direction:
                state.passes[pass_id] += 1
    if state.holder is None:  # once linked, kept: the holder may stay on after the pass ends
        state.holder = holder_of(state, an.config.pass_link_co_passages)
    if state.holder is not None:
        an.passes.seen_as_stranger(
            state.holder, t, an.local_day(t), an.local_hour(t), e.direction, an.config.co_passage_s
        )


def holder_of(state: StrangerId, min_co: int) -> str | None:
    """The pass this stranger id is the face of: it came in with it this often, on most entries."""
    top = state.passes.most_common(1)
    if not top or top[0][1] < min_co or top[0][1] < 0.5 * state.entries:
        return None
    return top[0][0]


def _registered_nights(
    window: PassWindow | None, max_stay_days: float, local_day: Callable[[float], int]
) -> range | None:
    """The nights (local day ordinals) a visitor pass registered, if it registers a stay."""
    if window is None or window.kind is not PassKind.VISITOR:
        return None
    if window.valid_until - window.valid_from > max_stay_days * DAY:
        return None
    # From the evening before the first day (arrived the night before) to the last morning.
    return range(local_day(window.valid_from) - 1, local_day(window.valid_until))


def pass_holder_alerts(an: OccupancyAnalyser, moment: float) -> list[Alert]:
    c = an.config
    holders = an.passes
    today = an.local_day(moment)
    since = today - c.pass_window_days
    needed = math.ceil(c.pass_night_share * c.pass_window_days)
    out = []
    for pass_id, state in holders.tracker.ids.items():
        nights = sorted(n for n in state.nights if n > since)
        if len(nights) < needed:
            continue
        window = holders.windows.get(pass_id)
        past = 0
        registered = _registered_nights(window, c.pass_registered_stay_days, an.local_day)
        if registered is not None:
            past = sum(1 for n in nights if n not in registered)
            if past < c.min_nights:
                continue  # a stay the pass registered
        house = holders.houses.get(pass_id)
        if house is None:
            continue
        ok, _expired = an.emit(AlertKind.NEW_OCCUPANT, pass_id, house, None, moment)
        if not ok:
            continue
        kind = window.kind.value if window is not None else "unknown kind"
        days = {d for d in state.days if d > since}
        note = (
            f"visitor pass {pass_id} ({kind}): stayed {len(nights)} of the last "
            f"{c.pass_window_days} nights"
        )
        if past:
            note += f", {past} after the pass ended"
        score = len(nights) + 0.5 * len(days) + 3.0
        out.append(
            Alert(
                AlertKind.NEW_OCCUPANT,
                house,
                None,
                pass_id,
                datetime.fromtimestamp(moment, UTC),
                calibrated(AlertKind.NEW_OCCUPANT, score, (True,)),
                AlertEvidence(
                    first_seen=datetime.fromtimestamp(state.first_seen, UTC),
                    last_seen=datetime.fromtimestamp(state.last_seen, UTC),
                    days_observed=c.pass_window_days,
                    days_seen=min(len(days), c.pass_window_days),
                    passages=state.passages,
                    nights=min(len(nights), c.pass_window_days),
                    household_size=len(an.houses.get(house, ())),
                    context=[AlertContext.NIGHTS_AT_HOUSE],
                    note=note,
                    pass_id=pass_id,
                ),
                score,
            )
        )
    return out
