"""Named detector + embedder combinations measured by the benches and the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_agent.vision.config import EngineConfig

PRESETS: dict[str, dict[str, Any]] = {
    # Exactly what a fresh install runs: EngineConfig's defaults (PyPI files only).
    "default": {},
    # dlib's ResNet on onnxruntime (the default embedder), HOG detector.
    "dlib_onnx": {"detector": {"type": "dlib_hog"}, "embedder": {"type": "dlib_onnx"}},
    # dlib's own runtime for the same network (the reference the converter is tested against).
    "dlib": {"detector": {"type": "dlib_hog"}, "embedder": {"type": "dlib_resnet"}},
    # Operator-imported ONNX models (YuNet + an ArcFace-style embedder).
    "onnx": {
        "detector": {"type": "yunet"},
        "embedder": {"type": "arcface_onnx", "model": "mobilefacenet_128"},
    },
    # The optional yuface wheel's CNN detector with the default embedder.
    "yuface": {"detector": {"type": "yuface"}, "embedder": {"type": "dlib_onnx"}},
    "yunet+dlib": {"detector": {"type": "yunet"}, "embedder": {"type": "dlib_resnet"}},
    "scrfd+onnx": {
        "detector": {"type": "scrfd"},
        "embedder": {"type": "arcface_onnx", "model": "mobilefacenet_128"},
    },
}


def preset_config(name: str, models_dir: Path) -> EngineConfig:
    return EngineConfig.model_validate({**PRESETS[name], "models_dir": str(models_dir)})
