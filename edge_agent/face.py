"""The face stack: engine, gallery, stranger store and their encrypted files, built when it can.

When models or the template key are missing, the stack is switched off loudly (``problem``)
and the gates keep working on cards, QR codes and PINs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge_agent.config import EdgeConfig
from edge_agent.gallery.crypto import load_key
from edge_agent.gallery.enrol import Enroller
from edge_agent.gallery.errors import GalleryError
from edge_agent.gallery.gallery import DeletionReceipt, Gallery
from edge_agent.gallery.persist import StoreFiles
from edge_agent.gallery.strangers import StrangerStore
from edge_agent.vision.engine import FaceEngine, build_engine
from edge_agent.vision.errors import VisionError
from edge_agent.vision.models import Thresholds

_LOGGER = logging.getLogger(__name__)


@dataclass
class FaceStack:
    engine: FaceEngine
    gallery: Gallery
    strangers: StrangerStore
    files: StoreFiles
    thresholds: Thresholds
    enroller: Enroller

    def save(self) -> None:
        self.files.save_gallery(self.gallery)
        self.files.save_strangers(self.strangers, self.engine.info.name)

    def erase(self, resident_id: str) -> DeletionReceipt:
        """Delete a resident's templates, and strangers that look like them; save at once."""
        vectors = self.gallery.template_vectors(resident_id)
        receipt = self.gallery.erase(resident_id)
        self.strangers.forget_similar(vectors)
        for v in vectors:
            v.fill(0)
        self.save()
        return receipt

    def expire_strangers(self, retention: timedelta) -> int:
        gone = self.strangers.expire(datetime.now(UTC), retention)
        if gone:
            self.files.save_strangers(self.strangers, self.engine.info.name)
        return len(gone)


@dataclass(frozen=True, slots=True)
class FaceSetup:
    stack: FaceStack | None
    problem: str | None  # why face recognition is off; None when it is on


def _thresholds_of(engine: FaceEngine) -> Thresholds:
    if engine.embedder.thresholds is None:
        raise VisionError(f"{engine.info.embedder} has no calibrated thresholds in the manifest")
    return engine.embedder.thresholds


def build_face_stack(config: EdgeConfig) -> FaceSetup:
    if not config.face_recognition:
        return FaceSetup(None, "face recognition switched off in the configuration")
    try:
        engine = build_engine(config.engine)
        thresholds = _thresholds_of(engine)
        key = load_key(config.gallery.key_file, config.gallery.key_credential)
        files = StoreFiles(config.data_dir / "gallery", key)
        stores = files.load(
            engine.info.dimension, engine.info.name, thresholds.accept, config.gallery.index
        )
    except (VisionError, GalleryError) as exc:
        problem = f"face recognition off: {exc}"
        _LOGGER.error("%s; gates run on cards, QR codes and PINs only", problem)  # noqa: TRY400
        return FaceSetup(None, problem)
    stack = FaceStack(
        engine,
        stores.gallery,
        stores.strangers,
        files,
        thresholds,
        Enroller(engine, stores.gallery, thresholds),
    )
    return FaceSetup(stack, None)
