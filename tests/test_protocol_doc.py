"""docs/protocol.md stays true: every example decodes, every kind and topic is documented."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from gridgate_wire import ALL_MESSAGES, CHANNEL_KIND, decode, parse_topic

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def doc_examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [json.loads(block) for block in blocks]


def test_every_example_decodes() -> None:
    by_kind = {m.KIND: m for m in ALL_MESSAGES}
    examples = doc_examples()
    assert len(examples) >= len(ALL_MESSAGES)
    for raw in examples:
        decode(json.dumps(raw).encode(), by_kind[raw["type"]])


def test_every_topic_in_the_table_matches_its_kind() -> None:
    rows = re.findall(r"^\| `(gridgate/v1/[^`]+)` \|.*\| `(\w+)` \|$", DOC.read_text(), re.M)
    assert {kind for _, kind in rows} == {m.KIND for m in ALL_MESSAGES}
    for topic, kind in rows:
        concrete = topic.replace("{edge_id}", "edge-1").replace("{worker_id}", "w-1")
        assert kind == CHANNEL_KIND[parse_topic(concrete).channel].KIND
