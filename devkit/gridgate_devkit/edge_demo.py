"""An edge agent with a demo passage source: ``python -m gridgate_devkit.edge_demo run --config
FILE``, where FILE is an edge configuration plus a ``demo_source`` section (what `make demo`
and the crash test start). Everything else is the product's ``gridgate-edge run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from edge_agent.config import EdgeConfig
from edge_agent.runtime import EdgeAgent
from gridgate_core.cli import build_parser, standard_main
from gridgate_devkit.demo_sources import DemoSourceConfig, demo_source


class DemoEdgeConfig(EdgeConfig):
    demo_source: DemoSourceConfig = Field(
        default_factory=DemoSourceConfig, description="Synthetic passages for demos."
    )


def demo_agent(config: DemoEdgeConfig) -> EdgeAgent:
    agent = EdgeAgent(config)
    source = demo_source(config.demo_source)
    if source is not None:
        agent.attach(source)
    return agent


def main(argv: Sequence[str] | None = None) -> int:
    parser, _ = build_parser(
        "gridgate-edge-demo", "an edge agent with a demo passage source", Path("edge.yaml")
    )
    args = parser.parse_args(argv)
    return standard_main(args, parser, DemoEdgeConfig, demo_agent, lambda c: c.logging)


if __name__ == "__main__":
    raise SystemExit(main())
