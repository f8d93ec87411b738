"""A detector and an embedder, with quality assessment: the face engine the edge runs."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from edge_agent.vision.config import EngineConfig
from edge_agent.vision.detectors import Detector, create_detector
from edge_agent.vision.embedders import Embedder, create_embedder
from edge_agent.vision.quality import Quality, assess
from edge_agent.vision.types import EngineInfo, Face, Frame, Vector


class FaceEngine:
    """Thread-safe by a lock: OpenCV's DNN nets and dlib's objects are not safe to share.

    Each camera gets an engine of its own (see ``build_engine``) so that cameras do not queue
    behind one another on a two-core box.
    """

    def __init__(self, detector: Detector, embedder: Embedder, config: EngineConfig) -> None:
        self._lock = threading.Lock()
        self.detector = detector
        self.embedder = embedder
        self.config = config
        self.info = EngineInfo(
            name=f"{detector.name}+{embedder.name}",
            dimension=embedder.dimension,
            metric="cosine",
            detector=detector.name,
            embedder=embedder.name,
            model_sha256=embedder.model_sha256,
        )

    def detect(self, frame: Frame) -> list[Face]:
        with self._lock:
            return self.detector.detect(frame)

    def embed(self, frame: Frame, face: Face) -> Vector:
        with self._lock:
            return self.embedder.embed(frame, face)

    def embed_many(self, frame: Frame, faces: Sequence[Face]) -> list[Vector]:
        with self._lock:
            return self.embedder.embed_many(frame, faces)

    def quality(self, frame: Frame, face: Face) -> Quality:
        return assess(frame, face, self.config.quality)


def build_engine(config: EngineConfig) -> FaceEngine:
    embedder = create_embedder(config.embedder, config.models_dir)
    thresholds = embedder.thresholds
    if thresholds is not None and config.target_fpir is not None:
        thresholds = thresholds.model_copy(update={"fpir": config.target_fpir})
    if thresholds is not None and thresholds.impostor is not None and config.strict_thresholds:
        curve = thresholds.impostor
        if curve.log10_p_upper is not None:
            strict = curve.model_copy(update={"log10_p": curve.log10_p_upper})
            thresholds = thresholds.model_copy(update={"impostor": strict})
    embedder.thresholds = thresholds
    return FaceEngine(create_detector(config.detector, config.models_dir), embedder, config)
