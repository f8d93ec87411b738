"""SCRFD detectors in InsightFace's output layout (``score_*``, ``bbox_*``, ``kps_*``).

The ``insightface`` package is not used: it depends on ``opencv-python`` (which clashes with the
headless build in one environment), scikit-image, scipy and requests, and its model zoo
downloads weights at run time. The decoding below is the published SCRFD head: per stride
8/16/32, anchor centres on a grid, distances to the box sides and to the five keypoints, all
multiplied by the stride, then non-maximum suppression.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from edge_agent.vision.config import ScrfdConfig
from edge_agent.vision.detectors.base import Detector, register_detector
from edge_agent.vision.errors import ModelShapeError
from edge_agent.vision.models import load_manifest, locate
from edge_agent.vision.providers import open_session, warm_up
from edge_agent.vision.types import Face, Frame, bgr_to_rgb, check_frame

STRIDES = (8, 16, 32)


def _anchor_centres(height: int, width: int, stride: int, anchors: int) -> NDArray[np.float32]:
    ys, xs = np.mgrid[:height, :width]
    centres = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32) * stride
    return np.repeat(centres, anchors, axis=0) if anchors > 1 else centres


@register_detector("scrfd")
class ScrfdDetector(Detector):
    name = "scrfd"

    def __init__(self, config: ScrfdConfig, models_dir: Path) -> None:
        self.config = config
        spec = load_manifest().by_name(config.model)
        if spec.family != "scrfd" or spec.input is None:
            raise ModelShapeError(f"{config.model} is not an SCRFD detector in the manifest")
        self.spec_input = spec.input
        self.model_sha256 = spec.sha256
        self._session: Any = open_session(locate(spec, models_dir), config.provider)
        self._input_name = self._session.get_inputs()[0].name
        names = [o.name for o in self._session.get_outputs()]
        try:
            self._order = [
                names.index(f"{kind}_{s}") for kind in ("score", "bbox", "kps") for s in STRIDES
            ]
        except ValueError as exc:
            raise ModelShapeError(
                f"{config.model}: outputs {names} are not InsightFace's SCRFD layout "
                "(score_8/16/32, bbox_*, kps_*)"
            ) from exc
        self._centres: dict[tuple[int, int, int, int], NDArray[np.float32]] = {}
        size = config.input_size
        warm_up(self._session, (1, 3, size, size))

    def _blob(self, frame: Frame) -> tuple[NDArray[np.float32], float]:
        size = self.config.input_size
        scale = min(size / frame.shape[0], size / frame.shape[1])
        resized = cv2.resize(frame, (int(frame.shape[1] * scale), int(frame.shape[0] * scale)))
        canvas = np.zeros((size, size, 3), dtype=np.uint8)
        canvas[: resized.shape[0], : resized.shape[1]] = resized
        if self.spec_input.colour == "RGB":
            canvas = bgr_to_rgb(canvas)
        mean = np.array(self.spec_input.mean, dtype=np.float32)
        std = np.array(self.spec_input.std, dtype=np.float32)
        blob = ((canvas.astype(np.float32) - mean) / std).transpose(2, 0, 1)[None]
        return np.ascontiguousarray(blob), scale

    def detect(self, frame: Frame) -> list[Face]:
        frame = check_frame(frame)
        blob, scale = self._blob(frame)
        outputs = self._session.run(None, {self._input_name: blob})
        size = self.config.input_size
        boxes, scores, points = [], [], []
        for i, stride in enumerate(STRIDES):
            score = outputs[self._order[i]].reshape(-1)
            bbox = outputs[self._order[3 + i]].reshape(-1, 4) * stride
            kps = outputs[self._order[6 + i]].reshape(-1, 10) * stride
            height, width = size // stride, size // stride
            anchors = score.shape[0] // (height * width)
            key = (height, width, stride, anchors)
            if key not in self._centres:
                self._centres[key] = _anchor_centres(height, width, stride, anchors)
            centres = self._centres[key]
            keep = np.where(score >= self.config.score_threshold)[0]
            if keep.size == 0:
                continue
            c = centres[keep]
            d = bbox[keep]
            boxes.append(
                np.stack(
                    [c[:, 0] - d[:, 0], c[:, 1] - d[:, 1], c[:, 0] + d[:, 2], c[:, 1] + d[:, 3]],
                    axis=1,
                )
            )
            k = kps[keep].reshape(-1, 5, 2) + c[:, None, :]
            points.append(k)
            scores.append(score[keep])
        if not boxes:
            return []
        all_boxes = np.concatenate(boxes) / scale
        all_scores = np.concatenate(scores)
        all_points = np.concatenate(points) / scale
        xywh = [
            [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in all_boxes
        ]
        kept = cv2.dnn.NMSBoxes(
            xywh, all_scores.tolist(), self.config.score_threshold, self.config.nms_threshold
        )
        order = sorted((int(i) for i in np.asarray(kept).reshape(-1)), key=lambda i: -all_scores[i])
        return [
            Face(
                tuple(float(v) for v in all_boxes[i]),  # type: ignore[arg-type]
                all_points[i].astype(np.float32),
                float(all_scores[i]),
            )
            for i in order
        ]
