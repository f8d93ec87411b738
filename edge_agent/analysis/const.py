"""Names and units the analyser's modules share."""

from __future__ import annotations

DAY = 86_400.0
HOUR = 3_600.0
