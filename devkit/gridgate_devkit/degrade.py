"""Gate conditions applied to a photo: what bench/degrade.py and the accuracy tests measure."""

from __future__ import annotations

import cv2
import numpy as np

from edge_agent.vision.types import Frame

CONDITIONS = ("clean", "blur", "dark", "small", "jpeg", "tilt20")


def degrade(frame: Frame, condition: str, seed: int) -> Frame:
    rng = np.random.default_rng(seed)
    if condition == "blur":
        return np.asarray(cv2.GaussianBlur(frame, (0, 0), 2.5), dtype=np.uint8)
    if condition == "dark":
        dark = frame.astype(np.float32) * 0.35 + rng.normal(0, 4, frame.shape)
        return np.asarray(np.clip(dark, 0, 255), dtype=np.uint8)
    if condition == "small":
        h, w = frame.shape[:2]
        small = cv2.resize(frame, (int(w * 0.4), int(h * 0.4)), interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.uint8)
    if condition == "jpeg":
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 12])
        return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8) if ok else frame
    if condition == "tilt20":
        h, w = frame.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 20, 1.0)
        return np.asarray(cv2.warpAffine(frame, matrix, (w, h), borderMode=cv2.BORDER_REFLECT))
    return frame
