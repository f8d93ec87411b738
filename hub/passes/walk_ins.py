"""The hub's rules for a guard-room walk-in (``walk_in_pass``), beside :func:`hub.passes.
accept_walk_in` which stores it.

A walk-in opened the gate before the hub heard of it, so the hub cannot refuse it in time; it
can only make the edges stop honouring what its rules do not allow:

- **window**: a guard room registers visitors; a walk-in (whatever kind the guard chose) lasts
  at most ``passes.max_visitor_days`` (long-term passes come from the centre). A longer one is
  accepted **clipped**: stored with the shorter window, which the compound's edges (the one that
  registered it included) get in the delta that ends its pending state.
- **PIN**: not checked here. The walk-in brings only a salted hash of its PIN, which cannot be
  compared with other passes' (other salts) or residents' (plain ``sha256``) without trying
  every PIN, which is what the salt is there to make pointless; the edge checks it against every
  pass and resident it holds (``edge_agent.access.passes.new_walk_in``).
- **refused** (another compound's house, an unregistered edge, a pass id another pass holds):
  the message stays a dead letter, and the edge that sent it gets a revocation of that pass id
  (or, for an id a pass of its own compound holds, that pass as the hub has it), so its pending
  copy stops opening the gate before a full pass list would arrive (it never removes a pending
  walk-in).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, select

from gridgate_wire import EdgePass, PassUpdate, WalkInPass
from hub.config import PassesConfig
from hub.passes.records import edge_pass, get_pass
from hub.passes.sync import edges_without_list, queue_delta, queue_full_list
from hub.store.schema import edge_compounds


def clipped(visitor: EdgePass, config: PassesConfig) -> EdgePass:
    """The walk-in with its window cut to ``max_visitor_days`` (unchanged when shorter)."""
    longest = visitor.valid_from + timedelta(days=config.max_visitor_days)
    if visitor.valid_until <= longest:
        return visitor
    return visitor.model_copy(update={"valid_until": longest})


def undo_refused(conn: Connection, message: WalkInPass) -> list[PassUpdate]:
    """What the sending edge gets for a walk-in the hub refused: the pass as the hub has it
    when the id is a pass of the edge's compound, else a revocation of the id; nothing for an
    edge the hub does not know (it gets no pass lists at all)."""
    pass_id = message.visitor_pass.pass_id
    compound_id = conn.scalar(
        select(edge_compounds.c.compound_id).where(edge_compounds.c.edge_id == message.edge_id)
    )
    if compound_id is None:
        return []
    sent: list[PassUpdate] = []
    if message.edge_id in edges_without_list(conn):  # its first list, as the duties would
        sent.append(queue_full_list(conn, message.edge_id))
    holder = get_pass(conn, pass_id)
    if holder is not None and holder.compound_id == compound_id and holder.revoked_at is None:
        sent.append(queue_delta(conn, message.edge_id, passes=[edge_pass(holder)]))
    else:
        sent.append(queue_delta(conn, message.edge_id, revoked=[pass_id]))
    return sent
