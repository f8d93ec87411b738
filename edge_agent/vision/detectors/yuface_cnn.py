"""libfacedetection's CNN through the ``yuface`` wheel (BSD-3-Clause, model inside the wheel).

Optional: ``pip install yuface`` (wheels for CPython 3.9-3.11 only, so it is not a dependency).
It finds faces far smaller than dlib's HOG (about 10 px against 80 px at the detection width);
the landmarks come from dlib's 5-point model inside its box, which follow in-plane rotation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np

from edge_agent.vision.config import YufaceConfig
from edge_agent.vision.detectors.base import Detector, register_detector, scaled_for_detection
from edge_agent.vision.detectors.dlib_hog import dlib_points_to_template_order, five_point_predictor
from edge_agent.vision.errors import UnknownModelError
from edge_agent.vision.types import Face, Frame, check_frame


@register_detector("yuface")
class YufaceDetector(Detector):
    name = "yuface"

    def __init__(self, config: YufaceConfig, models_dir: Path) -> None:
        del models_dir  # the model is compiled into the wheel
        try:
            import yuface
        except ImportError as exc:
            raise UnknownModelError(
                "detector yuface needs the yuface package (pip install yuface; CPython <= 3.11)"
            ) from exc
        self._yuface: Any = yuface
        self.config = config
        self._predictor, self.model_sha256 = five_point_predictor()

    def detect(self, frame: Frame) -> list[Face]:
        frame = check_frame(frame)
        small, scale = scaled_for_detection(frame, self.config.max_width)
        confs, raw, _ = self._yuface.detect(
            np.ascontiguousarray(small), self.config.score_threshold
        )
        boxes = np.asarray(raw, dtype=np.int32)
        boxes[boxes > 32767] -= 65536  # the wheel returns uint16: boxes past an edge wrap
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        faces = []
        for conf, (x, y, w, h) in sorted(
            zip(confs, boxes, strict=True), key=lambda cb: -float(cb[0])
        ):
            x1, y1, x2, y2 = x / scale, y / scale, (x + w) / scale, (y + h) / scale
            rect = dlib.rectangle(round(x1), round(y1), round(x2), round(y2))
            landmarks = dlib_points_to_template_order(self._predictor(rgb, rect))
            faces.append(Face((x1, y1, x2, y2), landmarks, float(conf) / 100.0))
        return faces
