"""dlib's HOG detector with its CC0 5-point landmark model."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import dlib
import numpy as np
from numpy.typing import NDArray

from edge_agent.vision.config import DlibHogConfig
from edge_agent.vision.detectors.base import Detector, register_detector, scaled_for_detection
from edge_agent.vision.models import load_manifest, locate
from edge_agent.vision.types import Face, Frame, check_frame


def five_point_predictor() -> tuple[dlib.shape_predictor, str]:
    spec = load_manifest().by_name("dlib_shape_predictor_5")
    return dlib.shape_predictor(str(locate(spec, Path()))), spec.sha256


def dlib_points_to_template_order(shape: dlib.full_object_detection) -> NDArray[np.float32]:
    """dlib's 5 points (eye corners, nose base) -> eye centres, nose tip, mouth corners.

    dlib's CC0 model has no mouth points; they are estimated from the eyes and the nose base
    with the proportions of the ArcFace template (good enough for a least-squares similarity
    transform, and measured by the accuracy bench like every other combination).
    """
    p = np.array([(pt.x, pt.y) for pt in shape.parts()], dtype=np.float32)
    image_right_eye = (p[0] + p[1]) / 2
    image_left_eye = (p[2] + p[3]) / 2
    eye_mid = (image_left_eye + image_right_eye) / 2
    eye_vec = image_right_eye - image_left_eye
    down = p[4] - eye_mid
    nose_tip = eye_mid + 0.7 * down
    mouth_mid = eye_mid + 1.25 * down
    return np.array(
        [
            image_left_eye,
            image_right_eye,
            nose_tip,
            mouth_mid - 0.41 * eye_vec,
            mouth_mid + 0.41 * eye_vec,
        ],
        dtype=np.float32,
    )


@register_detector("dlib_hog")
class DlibHogDetector(Detector):
    name = "dlib_hog"

    def __init__(self, config: DlibHogConfig, models_dir: Path) -> None:
        del models_dir  # dlib's models come from a PyPI package
        self.config = config
        self._detector = dlib.get_frontal_face_detector()
        self._predictor, self.model_sha256 = five_point_predictor()

    def detect(self, frame: Frame) -> list[Face]:
        frame = check_frame(frame)
        small, scale = scaled_for_detection(frame, self.config.max_width)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        rects, scores, _ = self._detector.run(
            rgb, self.config.upsample, self.config.adjust_threshold
        )
        retry = self.config.empty_retry_threshold
        if not rects and retry is not None and retry < self.config.adjust_threshold:
            rects, scores, _ = self._detector.run(rgb, self.config.upsample, retry)
        faces = []
        for rect, score in sorted(zip(rects, scores, strict=True), key=lambda rs: -rs[1]):
            landmarks = dlib_points_to_template_order(self._predictor(rgb, rect))
            box = (float(rect.left()), float(rect.top()), float(rect.right()), float(rect.bottom()))
            confidence = 1.0 / (1.0 + math.exp(-2.0 * float(score)))
            faces.append(Face(box, landmarks, confidence).scaled(1.0 / scale))
        return faces
