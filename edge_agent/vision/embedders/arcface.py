"""ArcFace-style 112x112 embedders (ArcFace, MobileFaceNet...) through onnxruntime."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.vision.align import align_face
from edge_agent.vision.config import ArcfaceOnnxConfig
from edge_agent.vision.embedders.base import Embedder, l2_normalise, register_embedder
from edge_agent.vision.errors import ModelShapeError
from edge_agent.vision.models import load_manifest, locate
from edge_agent.vision.providers import open_session, warm_up
from edge_agent.vision.types import Face, Frame, Vector, bgr_to_rgb, check_frame


@register_embedder("arcface_onnx")
class ArcfaceEmbedder(Embedder):
    name = "arcface_onnx"

    def __init__(self, config: ArcfaceOnnxConfig, models_dir: Path) -> None:
        self.config = config
        spec = load_manifest().by_name(config.model)
        if spec.family != "arcface" or spec.input is None or spec.output_dim is None:
            raise ModelShapeError(f"{config.model} is not an ArcFace-style embedder")
        self.spec_input = spec.input
        self.model_sha256 = spec.sha256
        self.thresholds = spec.thresholds
        self.dimension = spec.output_dim
        self._session: Any = open_session(locate(spec, models_dir), config.provider)
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        shape = list(inp.shape)
        expected = [3, spec.input.height, spec.input.width]
        if len(shape) != 4 or shape[1:] != expected:
            raise ModelShapeError(
                f"{config.model}: input shape {shape}, manifest says N x {expected}"
            )
        out_dim = self._session.get_outputs()[0].shape[-1]
        if isinstance(out_dim, int) and out_dim != spec.output_dim:
            raise ModelShapeError(
                f"{config.model}: output dimension {out_dim}, manifest says {spec.output_dim}"
            )
        self._batched = not isinstance(shape[0], int) or shape[0] != 1
        self._mean = np.array(spec.input.mean, dtype=np.float32)
        self._std = np.array(spec.input.std, dtype=np.float32)
        warm_up(self._session, (1, 3, spec.input.height, spec.input.width))

    def _tensors(self, frame: Frame, face: Face) -> list[np.ndarray[Any, Any]]:
        chip = align_face(frame, face.landmarks, self.spec_input.width)
        if self.spec_input.colour == "RGB":
            chip = bgr_to_rgb(chip)
        tensor = ((chip.astype(np.float32) - self._mean) / self._std).transpose(2, 0, 1)
        if not self.config.flip:
            return [tensor]
        return [tensor, np.ascontiguousarray(tensor[:, :, ::-1])]

    def embed(self, frame: Frame, face: Face) -> Vector:
        return self.embed_many(frame, [face])[0]

    def embed_many(self, frame: Frame, faces: Sequence[Face]) -> list[Vector]:
        frame = check_frame(frame)
        tensors = [t for face in faces for t in self._tensors(frame, face)]
        if not tensors:
            return []
        if self._batched:
            rows = list(self._session.run(None, {self._input_name: np.stack(tensors)})[0])
        else:
            rows = [self._session.run(None, {self._input_name: t[None]})[0][0] for t in tensors]
        per_face = 2 if self.config.flip else 1
        # With flip, the face's embedding is the sum of the image's and its mirror's.
        return [
            l2_normalise(np.sum(rows[i : i + per_face], axis=0))
            for i in range(0, len(rows), per_face)
        ]
