"""``http_relay``: a relay board with an HTTP API, POSTed to for each opening."""

from __future__ import annotations

import logging
import urllib.request

from edge_agent.access.actuators.base import Actuator, register_actuator
from edge_agent.access.actuators.config import HttpRelayConfig

_LOGGER = logging.getLogger(__name__)


class HttpRelayActuator(Actuator):
    def __init__(self, config: HttpRelayConfig) -> None:
        self.config = config

    def open(self, seconds: float) -> bool:
        url = self.config.url.replace("{seconds}", f"{seconds:g}")
        if not url.startswith(("http://", "https://")):
            _LOGGER.error("relay URL %s is not http(s); door stays locked", url)
            return False
        try:
            request = urllib.request.Request(url, method="POST")  # noqa: S310 - checked above
            with urllib.request.urlopen(request, timeout=self.config.timeout_s) as reply:  # noqa: S310
                return 200 <= int(reply.status) < 300
        except OSError as exc:
            _LOGGER.error("relay %s failed: %s; door stays locked", url, exc)  # noqa: TRY400
            return False


@register_actuator("http_relay")
def _create(config: HttpRelayConfig, gate: str) -> HttpRelayActuator:
    return HttpRelayActuator(config)
