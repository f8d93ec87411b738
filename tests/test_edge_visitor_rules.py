"""Edge rules around visitors and schedules: the analyser sees the pass list; exits stay open."""

from __future__ import annotations

from datetime import timedelta

from edge_agent.runtime import EdgeAgent
from gridgate_wire import CredentialKind, Decision, EdgeAlert, utc_now
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


def test_a_resident_may_always_leave_through_a_gate_closed_by_schedule(agent: EdgeAgent) -> None:
    # The fixture's side gate is closed now: entry is refused, an exit is not (nobody is
    # trapped inside by a schedule), whichever way the exit is known
    # (an exit reader or lane; a face camera watching the way out passes exiting=True).
    policy = agent.policy
    assert not policy.for_credential(CredentialKind.CARD, "c-1", "side").granted
    leaving = policy.for_credential(CredentialKind.CARD, "c-1", "side", count_use=False)
    assert (leaving.decision, leaving.reason) == (Decision.GRANT, "resident")
