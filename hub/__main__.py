"""``python -m hub``: same as the ``gridgate-hub`` command."""

from hub.cli import main

raise SystemExit(main())
