"""Runtime data of the face engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray

from edge_agent.vision.errors import EmptyFrameError, FrameLayoutError, UnreadableImageError

Frame = NDArray[np.uint8]  # H x W x 3, BGR (OpenCV's order)
Vector = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Face:
    """One detected face in frame pixel coordinates."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    landmarks: NDArray[np.float32] = field(repr=False)  # 5 x 2, order documented in __init__
    score: float

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    @property
    def interocular(self) -> float:
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))

    def scaled(self, factor: float) -> Face:
        x1, y1, x2, y2 = self.box
        return Face(
            (x1 * factor, y1 * factor, x2 * factor, y2 * factor),
            (self.landmarks * factor).astype(np.float32),
            self.score,
        )


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """What a template was made with; templates of different engines never mix."""

    name: str
    dimension: int
    metric: Literal["cosine"]
    detector: str
    embedder: str
    model_sha256: str


def check_frame(frame: object) -> Frame:
    """Return ``frame`` if it is a non-empty HxWx3 uint8 array, else raise a typed error."""
    if not isinstance(frame, np.ndarray):
        raise FrameLayoutError(f"a frame must be a numpy array, got {type(frame).__name__}")
    if frame.size == 0:
        raise EmptyFrameError("the frame has no pixels")
    if frame.dtype != np.uint8:
        raise FrameLayoutError(f"a frame must be uint8, got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise FrameLayoutError(
            f"a frame must be H x W x 3 (BGR), got shape {frame.shape}; convert grey or RGBA first"
        )
    return frame


def read_image(path: Path) -> Frame:
    """Read an image file as a BGR frame, or raise :class:`UnreadableImageError`."""
    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    if data is None or data.size == 0:
        raise UnreadableImageError(f"{path}: no such file or empty")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableImageError(f"{path}: not a decodable image")
    return check_frame(image)


def bgr_to_rgb(frame: Frame) -> Frame:
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), dtype=np.uint8)
