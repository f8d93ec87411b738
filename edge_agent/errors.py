"""Root of the edge agent's exception tree (see each subpackage's ``errors`` module)."""

from __future__ import annotations

from gridgate_core.errors import GridgateError


class EdgeError(GridgateError):
    """Base class of edge agent errors."""
