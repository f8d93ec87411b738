"""Configuration of the face engine: one pydantic model per plugin, chosen by ``type``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from edge_agent.vision.quality import QualityConfig
from gridgate_core.config import StrictModel

Provider = Annotated[
    str,
    Field(
        description="onnxruntime execution provider, or auto (best available, CPU fallback).",
    ),
]


class DlibHogConfig(StrictModel):
    type: Literal["dlib_hog"] = Field(default="dlib_hog", description="dlib's HOG detector.")
    upsample: int = Field(
        default=0, ge=0, le=2, description="Times dlib upsamples the image to find small faces."
    )
    adjust_threshold: float = Field(
        default=0.0, ge=-1, le=1, description="Added to dlib's detection threshold."
    )
    max_width: int = Field(
        default=640, ge=160, description="Frames wider than this are scaled down to detect."
    )
    empty_retry_threshold: float | None = Field(
        default=-0.3,
        ge=-1,
        le=1,
        description=(
            "When no face is found, look once more with this lower threshold (None: never). "
            "Halves the misses on portraits; costs a second pass only on empty frames."
        ),
    )


class YunetConfig(StrictModel):
    type: Literal["yunet"] = Field(description="YuNet through cv2.FaceDetectorYN.")
    model: str = Field(default="yunet_2023mar", description="Manifest name of the model.")
    score_threshold: float = Field(default=0.7, gt=0, lt=1, description="Lowest face score.")
    nms_threshold: float = Field(default=0.3, gt=0, lt=1, description="NMS overlap threshold.")
    max_width: int = Field(
        default=640, ge=160, description="Frames wider than this are scaled down to detect."
    )


class YufaceConfig(StrictModel):
    type: Literal["yuface"] = Field(
        description="libfacedetection's CNN from the optional yuface wheel (finds small faces)."
    )
    score_threshold: float = Field(default=0.6, gt=0, lt=1, description="Lowest face score.")
    max_width: int = Field(
        default=640, ge=160, le=960, description="Frames wider than this are scaled down."
    )


class ScrfdConfig(StrictModel):
    type: Literal["scrfd"] = Field(description="SCRFD (InsightFace layout) through onnxruntime.")
    model: str = Field(default="scrfd_500m_kps", description="Manifest name of the model.")
    score_threshold: float = Field(default=0.5, gt=0, lt=1, description="Lowest face score.")
    nms_threshold: float = Field(default=0.4, gt=0, lt=1, description="NMS overlap threshold.")
    input_size: int = Field(
        default=640, ge=160, le=1920, multiple_of=32, description="Square network input size."
    )
    provider: Provider = "auto"


class DlibResnetConfig(StrictModel):
    type: Literal["dlib_resnet"] = Field(
        default="dlib_resnet", description="dlib's ResNet face descriptor (128-d, CC0)."
    )
    model: str = Field(default="dlib_resnet_v1", description="Manifest name of the model.")
    jitter: int = Field(
        default=0, ge=0, le=10, description="Extra jittered passes (slower, slightly better)."
    )
    flip: bool = Field(
        default=True,
        description="Also embed the mirrored chip and add the two (2x the time, fewer errors).",
    )


class DlibOnnxConfig(StrictModel):
    type: Literal["dlib_onnx"] = Field(
        default="dlib_onnx",
        description=(
            "dlib's ResNet descriptor (128-d, CC0) converted to ONNX from the PyPI package's "
            "file at first start; the same vectors as dlib_resnet, about 20x faster."
        ),
    )
    model: str = Field(default="dlib_resnet_v1_onnx", description="Manifest name of the model.")
    flip: bool = Field(
        default=True,
        description="Also embed the mirrored chip and add the two (one batch of two).",
    )
    provider: Provider = "auto"
    threads: int = Field(
        default=1,
        ge=1,
        le=16,
        description="onnxruntime threads per camera (each camera has its own engine).",
    )


class ArcfaceOnnxConfig(StrictModel):
    type: Literal["arcface_onnx"] = Field(
        description="ArcFace-style 112x112 embedder through onnxruntime."
    )
    model: str = Field(description="Manifest name of the model.")
    flip: bool = Field(
        default=True,
        description="Also embed the mirrored face and add the two (2x the time, fewer errors).",
    )
    provider: Provider = "auto"


DetectorConfig = Annotated[
    DlibHogConfig | YunetConfig | ScrfdConfig | YufaceConfig, Field(discriminator="type")
]
EmbedderConfig = Annotated[
    DlibOnnxConfig | DlibResnetConfig | ArcfaceOnnxConfig, Field(discriminator="type")
]


class EngineConfig(StrictModel):
    detector: DetectorConfig = Field(
        default_factory=DlibHogConfig, description="Face detector plugin."
    )
    embedder: EmbedderConfig = Field(
        default_factory=DlibOnnxConfig, description="Face embedder plugin."
    )
    models_dir: Path = Field(
        default=Path("models"),
        description="Folder of imported ONNX model files and of the converted dlib network.",
    )
    quality: QualityConfig = Field(default_factory=QualityConfig, description="Quality floors.")
    target_fpir: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description=(
            "Open-set FPIR the accept threshold is set for at the gallery's current size "
            "(None: the manifest's, 1e-3). See docs/GALLERY.md for what it costs in FNIR."
        ),
    )
    strict_thresholds: bool = Field(
        default=False,
        description="Use the 95% upper bound of the impostor curve instead of its estimate.",
    )
