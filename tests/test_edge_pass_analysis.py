"""The agent hands its pass list to the occupancy analyser (a registered stay is no alert)."""

from __future__ import annotations

from datetime import timedelta

from edge_agent.runtime import EdgeAgent
from gridgate_wire import EdgeAlert, utc_now
from tests.test_edge_visitors import agent, outbox, pass_update, visitor_pass

__all__ = ["agent"]  # the fixture, imported for pytest


def test_analysis_sees_the_edge_pass_list_and_a_revocation_ends_the_registered_stay(
    agent: EdgeAgent,
) -> None:
    stay = visitor_pass("P-stay", "802211", valid_until=utc_now() + timedelta(days=20))
    agent.handle_command(pass_update(agent.config.edge_id, 1, stay))
    agent.alerts.analyse()
    window = agent.alerts.analyser.passes.windows["P-stay"]
    assert window.house_id == "HA1"
    assert window.valid_until == stay.valid_until.timestamp()

    agent.handle_command(pass_update(agent.config.edge_id, 2, base=1, revoked=["P-stay"]))
    agent.alerts.analyse()
    ended = agent.alerts.analyser.passes.windows["P-stay"]
    assert ended.valid_until < stay.valid_until.timestamp()
    assert ended.valid_until <= utc_now().timestamp()
    assert outbox(agent, EdgeAlert) == []
