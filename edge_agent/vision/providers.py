"""ONNX Runtime sessions: providers chosen in one place, CPU fallback, a warm-up run."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from edge_agent.vision.errors import ModelError

_LOGGER = logging.getLogger(__name__)

# Preference order; whatever the installed onnxruntime offers is used, CPU always last.
_PREFERRED = ("CUDAExecutionProvider", "OpenVINOExecutionProvider", "CoreMLExecutionProvider")


def choose_providers(requested: str = "auto") -> list[str]:
    available = ort.get_available_providers()
    if requested != "auto":
        if requested not in available:
            _LOGGER.warning("provider %s not available (%s); using CPU", requested, available)
            return ["CPUExecutionProvider"]
        return [requested, "CPUExecutionProvider"]
    chosen = [p for p in _PREFERRED if p in available]
    return [*chosen, "CPUExecutionProvider"]


def open_session(path: Path, provider: str = "auto", threads: int = 0) -> Any:
    """Open an inference session and run it once on zeros so the first real frame is not slow."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=choose_providers(provider)
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"{path}: onnxruntime cannot load it: {exc}") from exc
    return session


def warm_up(session: Any, shape: tuple[int, ...]) -> None:
    name = session.get_inputs()[0].name
    session.run(None, {name: np.zeros(shape, dtype=np.float32)})
