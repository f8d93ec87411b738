"""Per-camera configuration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gridgate_core.config import StrictModel
from gridgate_wire.messages import Id

Point = tuple[float, float]


class EntryLineConfig(StrictModel):
    a: Point = Field(description="One end of the line across the gate (frame pixels).")
    b: Point = Field(description="The other end.")
    inside: Point = Field(description="Any point on the compound's side of the line.")


class CameraConfig(StrictModel):
    camera_id: Id = Field(description="Name of this camera.")
    source: str = Field(
        description="rtsp://... or http://... stream, usb:N for a local camera, or a video file."
    )
    gate: Id = Field(description="Gate this camera watches.")
    lane: int = Field(default=0, ge=0, le=255, description="Lane within the gate.")
    direction: Literal["in", "out", "both"] = Field(
        default="in", description="Direction of passages it sees; both needs entry_line."
    )
    entry_line: EntryLineConfig | None = Field(
        default=None, description="Line that tells in from out when direction is both."
    )
    region: tuple[int, int, int, int] | None = Field(
        default=None, description="Detection region x1, y1, x2, y2 (frame pixels); None: all."
    )
    fps_cap: float = Field(default=10.0, gt=0, le=60, description="Frames per second analysed.")
    queue_frames: int = Field(
        default=4, ge=1, le=64, description="Frames buffered; the oldest is dropped when full."
    )
    loop: bool = Field(default=False, description="Video files: start again at the end.")
    realtime: bool = Field(
        default=True,
        description="Video files: pace at fps_cap (False: as fast as analysed, no drops).",
    )

    @model_validator(mode="after")
    def _line_for_both(self) -> CameraConfig:
        if self.direction == "both" and self.entry_line is None:
            raise ValueError("direction 'both' needs an entry_line")
        return self
