"""New-occupant alerts: a stranger who sleeps here, with which house, unless it is a resident."""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from edge_agent.analysis.calibration import calibrated
from edge_agent.analysis.config import Alert
from edge_agent.analysis.const import DAY
from edge_agent.analysis.strangers import fills_holes
from gridgate_wire import AlertContext, AlertEvidence, AlertKind, PassageDirection

if TYPE_CHECKING:
    from edge_agent.analysis.occupancy import OccupancyAnalyser

_LOGGER = logging.getLogger(__name__)


def house_of(an: OccupancyAnalyser, co: Counter[str]) -> tuple[str | None, int]:
    top = co.most_common(2)
    if not top or top[0][1] < an.config.min_co_passages:
        return None, 0
    runner_up = top[1][1] if len(top) > 1 else 0
    if top[0][1] < an.config.co_dominance * runner_up:
        return None, 0
    return top[0][0], top[0][1]


def shadow_of(
    an: OccupancyAnalyser, recent: list[tuple[float, PassageDirection]], house: str | None
) -> str | None:
    """The resident these stranger passages really are: they fill the holes in the resident's
    own record (in after in, out after out: passages the cameras did not recognise).

    By chance another person's passage fills a hole at most about half the time, so the count
    must beat chance with a binomial tail below 1e-3 over all the residents tried (Bonferroni).
    A face split into day and night ids fills holes from each half.
    """
    candidates = list(an.houses.get(house, ()) if house else an.residents)
    limit = 1e-3 / max(1, len(candidates))
    best, best_p = None, limit
    for rid in candidates:
        state = an.residents.get(rid)
        if state is None or len(state.recent) < 3:
            continue
        if state.holes() < 0.2 * (len(state.recent) - 1):
            continue
        filled, tried = fills_holes(recent, list(state.recent))
        if tried < 6 or filled < an.config.shadow_alternation * tried:
            continue
        chance = sum(math.comb(tried, k) for k in range(filled, tried + 1)) / 2**tried
        if chance < best_p:
            best, best_p = rid, chance
    return best


def new_occupant_alerts(an: OccupancyAnalyser, moment: float) -> list[Alert]:
    c = an.config
    out = []
    today = an.local_day(moment)
    # Halves of one face split by day and night (infrared): one alert is enough.
    alerted_halves = [
        (state.days, state.night_half(), an.occupant_house.get(sid))
        for sid, state in an.strangers.ids.items()
        if (AlertKind.NEW_OCCUPANT.value, sid) in an.alerted
    ]
    # Faces of pass holders (and the other half of such a face) are guests the centre knows of.
    holder_halves = [
        (state.days, state.night_half(), an.passes.houses.get(state.holder))
        for state in an.strangers.ids.values()
        if state.holder is not None
    ]
    for root in list(an.strangers.ids):
        if root in an.shadows or an.strangers.ids[root].holder is not None:
            continue
        person = an.strangers.person(root, today - c.window_days)
        if len(person.days) < c.new_occupant_days or person.nights < c.min_nights:
            continue
        if moment - person.first_seen < c.min_stay_days * DAY:
            continue
        house, co = house_of(an, person.co)
        qualified = an.qualified.setdefault(root, moment)
        if house is None and moment - qualified < c.attribution_wait_days * DAY:
            continue  # give its house time to show through co-passages
        if (person.day_only or person.night_only) and any(
            night_half == person.day_only
            and (house is None or other_house in (None, house))
            and len(person.days & days) >= 0.5 * len(person.days)
            for days, night_half, other_house in alerted_halves
        ):
            continue  # the other half of a face whose first half already alerted
        if (person.day_only or person.night_only) and any(
            night_half == person.day_only
            and house in (None, holder_house)
            and len(person.days & days) >= 0.5 * len(person.days)
            for days, night_half, holder_house in holder_halves
        ):
            continue  # the other half of a pass holder's face
        shadow = shadow_of(an, person.recent, house)
        if shadow is not None:
            an.shadows[root] = shadow
            _LOGGER.debug("stranger %s passes like resident %s: not a new occupant", root, shadow)
            continue
        ok, _expired = an.emit(AlertKind.NEW_OCCUPANT, root, house, None, moment)
        if not ok:
            continue
        an.occupant_house[root] = house
        score = person.nights + 0.5 * len(person.days) + (3.0 if house else 0.0)
        out.append(
            Alert(
                AlertKind.NEW_OCCUPANT,
                house,
                None,
                root,
                datetime.fromtimestamp(moment, UTC),
                calibrated(AlertKind.NEW_OCCUPANT, score, (house is not None,)),
                AlertEvidence(
                    first_seen=datetime.fromtimestamp(person.first_seen, UTC),
                    last_seen=datetime.fromtimestamp(person.last_seen, UTC),
                    days_observed=c.window_days,
                    days_seen=min(len(person.days), c.window_days),
                    passages=person.passages,
                    nights=min(person.nights, c.window_days),
                    co_passages=co,
                    household_size=len(an.houses.get(house, ())) if house else None,
                    context=[AlertContext.NIGHTS_AT_HOUSE],
                    note="" if house else "no single house dominates its co-passages",
                ),
                score,
            )
        )
    return out
