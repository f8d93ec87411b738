"""Face quality: size, sharpness, pose and exposure, each with a floor, and one score."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from pydantic import Field

from edge_agent.vision.types import Face, Frame
from gridgate_core.config import StrictModel


class QualityConfig(StrictModel):
    min_interocular_px: float = Field(
        default=24.0, ge=4, description="Eyes closer than this (pixels) are too small to trust."
    )
    good_interocular_px: float = Field(
        default=60.0, ge=8, description="Eye distance at which size stops improving the score."
    )
    min_sharpness: float = Field(
        default=0.15, ge=0, le=1, description="Floor of the normalised Laplacian sharpness."
    )
    max_yaw_ratio: float = Field(
        default=0.45,
        ge=0,
        le=1,
        description="Largest nose offset from the eye midpoint, as a fraction of eye distance.",
    )
    min_brightness: float = Field(default=40, ge=0, le=255, description="Darkest mean grey.")
    max_brightness: float = Field(default=220, ge=0, le=255, description="Brightest mean grey.")


@dataclass(frozen=True, slots=True)
class Quality:
    interocular_px: float
    sharpness: float
    yaw_ratio: float
    brightness: float
    score: float
    failures: tuple[str, ...]

    @property
    def acceptable(self) -> bool:
        return not self.failures


def _crop(frame: Frame, face: Face) -> Frame:
    height, width = frame.shape[:2]
    x1, y1, x2, y2 = (round(v) for v in face.box)
    x1, y1 = max(0, x1), max(0, y1)
    x2, y2 = min(width, x2), min(height, y2)
    return frame[y1:y2, x1:x2]


def assess(frame: Frame, face: Face, config: QualityConfig) -> Quality:
    lm = face.landmarks
    interocular = face.interocular
    eye_mid = (lm[0] + lm[1]) / 2
    eye_axis = (lm[1] - lm[0]) / max(interocular, 1e-6)
    yaw_ratio = float(abs(np.dot(lm[2] - eye_mid, eye_axis)) / max(interocular, 1e-6))
    crop = _crop(frame, face)
    if crop.size == 0:
        return Quality(interocular, 0.0, yaw_ratio, 0.0, 0.0, ("outside frame",))
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    brightness = float(grey.mean())
    # Sharpness on a fixed-size crop, so that it does not grow with face size.
    small = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA)
    laplacian = float(cv2.Laplacian(small, cv2.CV_32F).var())
    sharpness = float(min(1.0, laplacian / 400.0))

    failures = []
    if interocular < config.min_interocular_px:
        failures.append("too small")
    if sharpness < config.min_sharpness:
        failures.append("blurred")
    if yaw_ratio > config.max_yaw_ratio:
        failures.append("turned away")
    if not config.min_brightness <= brightness <= config.max_brightness:
        failures.append("badly exposed")

    size_term = min(1.0, interocular / config.good_interocular_px)
    pose_term = max(0.0, 1.0 - yaw_ratio / max(config.max_yaw_ratio, 1e-6) * 0.5)
    centre = (config.min_brightness + config.max_brightness) / 2
    half = (config.max_brightness - config.min_brightness) / 2
    exposure_term = max(0.0, 1.0 - (abs(brightness - centre) / max(half, 1e-6)) ** 2)
    sharp_term = min(1.0, 0.5 + sharpness)
    score = size_term * pose_term * exposure_term * sharp_term * min(1.0, face.score)
    return Quality(interocular, sharpness, yaw_ratio, brightness, float(score), tuple(failures))
