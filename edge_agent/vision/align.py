"""Alignment: a similarity transform from five landmarks to an embedder's template."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from edge_agent.vision.types import Frame

# ArcFace's 112x112 template, in the landmark order every detector here returns.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)


def similarity_transform(
    src: NDArray[np.floating], dst: NDArray[np.floating]
) -> NDArray[np.float64]:
    """Least-squares similarity (rotation, uniform scale, translation) taking src onto dst.

    Umeyama (1991), closed form; returns a 2x3 matrix for ``cv2.warpAffine``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1] = -1
    rotation = u @ np.diag(d) @ vt
    variance = (src_c**2).sum() / len(src)
    scale = float((s * d).sum() / variance) if variance > 0 else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def align_face(frame: Frame, landmarks: NDArray[np.float32], size: int = 112) -> NDArray[np.uint8]:
    """Warp the face so its landmarks land on the ArcFace template scaled to ``size``."""
    template = ARCFACE_TEMPLATE * (size / 112.0)
    matrix = similarity_transform(landmarks, template)
    warped = cv2.warpAffine(frame, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return np.asarray(warped, dtype=np.uint8)
