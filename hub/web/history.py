"""A task's history in the user's language: the system writes its transition notes in a fixed
form (``grid-worker W1``, ``overdue: to grid-leader``, ``reassigned W1 to W2: reason``...)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hub.tasks import Assignee
from hub.visits import Outcome
from hub.web.i18n import Translator

_ASSIGNEES = frozenset(a.value for a in Assignee)


def history_note(
    note: str, t: Translator, names: dict[str, str], when: Callable[[datetime], str]
) -> str:
    """A transition's note in the user's language (what a person typed after the colon is kept
    as they wrote it)."""
    head, _, rest = note.partition(": ")
    words = head.split(" ")
    if note.startswith("alert "):
        return t("history.alert")
    if len(words) == 2 and words[0] in _ASSIGNEES:
        return t("history.assigned", who=t("assignee." + words[0]), name=names.get(words[1], ""))
    if head == "overdue" and rest.startswith("to "):
        return t("history.overdue", to=t("assignee." + rest[3:]))
    if words[0] == "reassigned" and len(words) == 4:
        return t(
            "history.reassigned",
            old=names.get(words[1], t("history.nobody")),
            new=names.get(words[3], words[3]),
            reason=rest,
        )
    if words[0] == Outcome.NOBODY_HOME.value and len(words) == 2:
        try:
            at = when(datetime.fromisoformat(words[1]))
        except ValueError:
            at = words[1]
        return t("history.nobody_home", when=at) + (f" {rest}" if rest else "")
    if head in {o.value for o in Outcome}:
        return t("outcome." + head) + (f": {rest}" if rest else "")
    return note


def actor_name(actor: str, t: Translator) -> str:
    return t("history.system") if actor == "system" else actor.partition(":")[2] or actor
