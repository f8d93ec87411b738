from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared ONNX fixtures, imported through the product's own checked import."""
    need_shared(SHARED_MODELS)
    from edge_agent.vision.models import import_model

    target = tmp_path_factory.mktemp("models")
    for name in (
        "face_detection_yunet_2023mar.onnx",
        "scrfd_500m_kps.onnx",
        "mobilefacenet_128.onnx",
    ):
        import_model(SHARED_MODELS / name, target)
    return target


def _embedded(engine: str, models: Path, tmp_path_factory: pytest.TempPathFactory) -> object:
    need_shared(LFW)
    from gridgate_devkit.evaluation import embed_dataset
    from gridgate_devkit.presets import preset_config

    cache = os.environ.get("GRIDGATE_TEST_CACHE")
    config = preset_config(engine, models)
    return embed_dataset(
        LFW,
        config,
        processes=2,
        cache_dir=Path(cache) if cache else tmp_path_factory.mktemp(f"emb-{engine}"),
    )


@pytest.fixture(scope="session")
def lfw_dlib(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> object:
    """Every lfw-dev photo embedded by the default engine (dlib's ResNet on onnxruntime; the
    same vectors as dlib's runtime to 3e-7, tests/test_dlib_onnx.py)."""
    return _embedded("default", models_dir, tmp_path_factory)


@pytest.fixture(scope="session")
def lfw_onnx(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> object:
    return _embedded("onnx", models_dir, tmp_path_factory)


PG_ADMIN_URL = os.environ.get(
    "GRIDGATE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class MigratedTemplates:
    """One migrated hub database per backend, made once per session and copied for each test
    that asks for ``engine`` (a copy costs a few ms; migrating from empty costs 0.2-0.5 s)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[str, str] = {}

    def _migrate(self, url: str) -> None:
        from hub.config import DatabaseConfig
        from hub.store.db import make_engine, migrate

        hub_engine = make_engine(DatabaseConfig(url=url))
        migrate(hub_engine)
        hub_engine.dispose()  # a PostgreSQL template must have no connection left

    def sqlite_file(self) -> Path:
        if "sqlite" not in self.made:
            self._migrate(f"sqlite:///{self.folder}/template.sqlite3")
            self.made["sqlite"] = str(self.folder / "template.sqlite3")
        return Path(self.made["sqlite"])

    def postgresql_name(self, admin: Any) -> str:
        if "postgresql" not in self.made:
            import uuid

            from sqlalchemy import text

            name = f"gridgate_template_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            self._migrate(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
            self.made["postgresql"] = name
        return self.made["postgresql"]


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("db-templates"))
    yield templates
    if "postgresql" in templates.made:
        from sqlalchemy import create_engine, text

        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = templates.made["postgresql"]
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[str]:
    """A fresh hub database on each backend the hub supports: empty, or already migrated (a
    copy of the session's template) when the test also asks for ``engine``."""
    migrated = "engine" in request.fixturenames
    if request.param == "sqlite":
        if migrated:
            import shutil

            shutil.copyfile(migrated_templates.sqlite_file(), tmp_path / "hub.sqlite3")
        yield f"sqlite:///{tmp_path}/hub.sqlite3"
        return
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gridgate_test_{uuid.uuid4().hex[:10]}"
    try:
        template = f' TEMPLATE "{migrated_templates.postgresql_name(admin)}"' if migrated else ""
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{template}'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({exc.orig}); make test starts it")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Any]:
    """A migrated hub database on each backend, for tests that use it without a hub."""
    from hub.config import DatabaseConfig
    from hub.store.db import make_engine, migrate

    hub_engine = make_engine(DatabaseConfig(url=database_url))
    migrate(hub_engine)  # a no-op on the migrated copy: proves it is at the newest revision
    yield hub_engine
    hub_engine.dispose()
