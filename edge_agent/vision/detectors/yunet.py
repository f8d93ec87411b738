"""YuNet through OpenCV's ``FaceDetectorYN``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge_agent.vision.config import YunetConfig
from edge_agent.vision.detectors.base import Detector, register_detector, scaled_for_detection
from edge_agent.vision.errors import ModelShapeError
from edge_agent.vision.models import load_manifest, locate
from edge_agent.vision.types import Face, Frame, check_frame

_ROW = 15  # x, y, w, h, 5 x (x, y), score


@register_detector("yunet")
class YunetDetector(Detector):
    name = "yunet"

    def __init__(self, config: YunetConfig, models_dir: Path) -> None:
        self.config = config
        spec = load_manifest().by_name(config.model)
        if spec.family != "yunet":
            raise ModelShapeError(f"{config.model} is a {spec.family} model, not YuNet")
        path = locate(spec, models_dir)
        self.model_sha256 = spec.sha256
        try:
            self._net = cv2.FaceDetectorYN.create(
                str(path), "", (320, 320), config.score_threshold, config.nms_threshold, 50
            )
        except cv2.error as exc:
            raise ModelShapeError(f"{path}: OpenCV cannot load it as YuNet: {exc}") from exc
        self._size = (320, 320)
        self.detect(np.zeros((240, 320, 3), dtype=np.uint8))  # warm-up

    def detect(self, frame: Frame) -> list[Face]:
        frame = check_frame(frame)
        small, scale = scaled_for_detection(frame, self.config.max_width)
        size = (small.shape[1], small.shape[0])
        if size != self._size:
            self._net.setInputSize(size)
            self._size = size
        _, rows = self._net.detect(small)
        if rows is None:
            return []
        if rows.shape[1] != _ROW:
            raise ModelShapeError(f"YuNet returned rows of {rows.shape[1]} values, expected 15")
        faces = []
        for row in sorted(rows, key=lambda r: -float(r[14])):
            x, y, w, h = (float(v) for v in row[:4])
            landmarks = np.asarray(row[4:14], dtype=np.float32).reshape(5, 2)
            faces.append(Face((x, y, x + w, y + h), landmarks, float(row[14])).scaled(1 / scale))
        return faces
