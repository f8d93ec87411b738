"""``python -m edge_agent``: same as the ``gridgate-edge`` command."""

from edge_agent.cli import main

raise SystemExit(main())
