"""Configuration of the per-camera face pipeline."""

from __future__ import annotations

from pydantic import Field

from gridgate_core.config import StrictModel


class PipelineConfig(StrictModel):
    samples_to_decide: int = Field(
        default=3, ge=1, le=10, description="Good frames a track needs before it decides."
    )
    max_embeds_per_track: int = Field(
        default=6, ge=1, le=50, description="Most embeddings computed for one track."
    )
    keep_best: int = Field(default=5, ge=1, le=20, description="Best samples a track keeps.")
    max_age_frames: int = Field(
        default=5, ge=1, le=300, description="Frames without a detection before a track ends."
    )
    motion_threshold: float = Field(
        default=2.0,
        ge=0,
        description="Mean absolute grey change (0-255) below which a quiet frame is skipped.",
    )
    motion_crop: bool = Field(
        default=True,
        description=(
            "Detect only inside the region that changed since the last frame, widened around "
            "the active tracks (at the detector's usual scale); the whole frame when it is most "
            "of it."
        ),
    )
    motion_pixel_threshold: int = Field(
        default=12,
        ge=1,
        le=255,
        description="Grey change (0-255, on a 160x90 thumbnail) that marks a pixel as moving.",
    )
    appearance_split: float | None = Field(
        default=None,
        ge=-1,
        le=1,
        description=(
            "Start a new track when a sample's similarity to its track falls below this; "
            "None: the embedder's calibrated accept threshold."
        ),
    )
    early_accept: bool = Field(
        default=True,
        description=(
            "Decide on the first good frame when it already matches a resident above the "
            "calibrated threshold (the threshold holds for single images); unknown faces still "
            "wait for samples_to_decide frames."
        ),
    )
