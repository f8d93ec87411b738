from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.brokers import Mosquitto

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GRIDGATE_SHARED", REPO.parent / "shared"))
LFW = SHARED / "datasets" / "lfw-dev"
SHARED_MODELS = SHARED / "models"


def need_shared(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is absent: set GRIDGATE_SHARED to the shared/ folder to run this")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One real Mosquitto on a free loopback port for the whole session."""
    server = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A Mosquitto this test may stop, kill and restart."""
    server = Mosquitto(tmp_path / "mosquitto")
    server.start()
    yield server
    server.stop()
