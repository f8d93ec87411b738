"""The per-camera face pipeline sized for two CPU cores.

capture -> motion gate -> detect (in the moving region) -> track -> quality -> embed (only
what helps) -> fuse.

Most hobby loops detect at full resolution with upsampling and embed every face in every frame.
Here detection runs on a scaled-down frame, a quiet scene skips detection, and a track embeds
only its few best-quality frames and stops once it has decided; the decision uses the fused
embedding of those frames rather than a single one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from edge_agent.vision.engine import FaceEngine
from edge_agent.vision.pipeline_config import PipelineConfig
from edge_agent.vision.tracking import EntryLine, Sample, Track, Tracker
from edge_agent.vision.types import Face, Frame, Vector
from gridgate_wire import PassageDirection


@dataclass(frozen=True, slots=True)
class TrackReady:
    """A track ready to be identified: what it offers for one gate decision."""

    track_id: int
    embedding: Vector
    quality: float
    samples: int
    direction: PassageDirection
    first_frame: int
    decided_frame: int


class FacePipeline:
    def __init__(
        self,
        engine: FaceEngine,
        config: PipelineConfig | None = None,
        entry_line: EntryLine | None = None,
        confident: Callable[[Vector], bool] | None = None,
    ) -> None:
        self.engine = engine
        self.confident = confident
        self.config = config or PipelineConfig()
        self.entry_line = entry_line
        split = self.config.appearance_split
        if split is None and engine.embedder.thresholds is not None:
            split = engine.embedder.thresholds.accept
        self.tracker = Tracker(
            max_age_frames=self.config.max_age_frames,
            keep_best=self.config.keep_best,
            appearance_split=split,
        )
        self._previous: np.ndarray | None = None
        self._diff: np.ndarray | None = None
        self.frames = 0
        self.detections = 0
        self.embeddings = 0
        self.skipped = 0

    def _quiet(self, frame: Frame) -> bool:
        small = cv2.cvtColor(
            cv2.resize(frame, (160, 90), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        previous, self._previous = self._previous, small
        self._diff = None if previous is None else cv2.absdiff(small, previous)
        if self._diff is None or self.tracker.active:
            return False
        return float(self._diff.mean()) < self.config.motion_threshold

    def _region(self, frame: Frame) -> tuple[int, int, int, int] | None:
        """Where to detect: what moved plus a margin, and around every active track; None for
        the whole frame (first frame, nothing known, or a region that is most of the frame)."""
        if not self.config.motion_crop or self._diff is None:
            return None
        height, width = frame.shape[:2]
        sx, sy = width / self._diff.shape[1], height / self._diff.shape[0]
        boxes = [t.box for t in self.tracker.active]
        ys, xs = np.nonzero(self._diff > self.config.motion_pixel_threshold)
        if len(xs):
            boxes.append((xs.min() * sx, ys.min() * sy, (xs.max() + 1) * sx, (ys.max() + 1) * sy))
        if not boxes:
            return None
        x1, y1 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x2, y2 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        mx, my = max(0.3 * (x2 - x1), 64.0), max(0.3 * (y2 - y1), 64.0)

        x1, y1 = max(0, int(x1 - mx) // 8 * 8), max(0, int(y1 - my) // 8 * 8)
        x2, y2 = min(width, int(x2 + mx)), min(height, int(y2 + my))
        if (x2 - x1) * (y2 - y1) > 0.6 * width * height:
            return None
        return x1, y1, x2, y2

    def _detect(self, frame: Frame) -> list[Face]:
        region = self._region(frame)
        if region is None:
            return self.engine.detect(frame)
        x1, y1, x2, y2 = region
        crop = frame[y1:y2, x1:x2]
        # The scale the detector would use on the whole frame, so faces keep their size.
        max_width = getattr(self.engine.config.detector, "max_width", None)
        scale = min(1.0, max_width / frame.shape[1]) if max_width else 1.0
        if scale < 1.0:
            crop = np.asarray(
                cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
            )
        faces = self.engine.detect(np.ascontiguousarray(crop, dtype=np.uint8))
        out = []
        for face in faces:
            f = face.scaled(1.0 / scale)
            bx1, by1, bx2, by2 = f.box
            offset = np.array([x1, y1], dtype=np.float32)
            out.append(
                Face(
                    (bx1 + x1, by1 + y1, bx2 + x1, by2 + y1),
                    (f.landmarks + offset).astype(np.float32),
                    f.score,
                )
            )
        return out

    def process(self, frame: Frame, frame_index: int | None = None) -> list[TrackReady]:
        """Feed one frame; returns the tracks that became ready for a decision."""
        index = self.frames if frame_index is None else frame_index
        self.frames += 1
        if self._quiet(frame):
            self.skipped += 1
            return self._finish(self.tracker.expire(index), index)
        faces = self._detect(frame)
        self.detections += 1
        assigned = self.tracker.update(index, faces)
        wanted = []
        for track, face in assigned:
            check = track.recheck and bool(track.samples)
            if not check and (track.decided or track.embeds >= self.config.max_embeds_per_track):
                continue
            quality = self.engine.quality(frame, face)
            if not quality.acceptable:
                continue
            if check or track.wants_sample(quality.score, self.config.keep_best):
                wanted.append((track, face, quality.score))
        vectors = self.engine.embed_many(frame, [face for _, face, _ in wanted])
        self.embeddings += len(vectors)
        ready: list[TrackReady] = []
        for (track, face, score), vector in zip(wanted, vectors, strict=True):
            owner = self.tracker.add_sample(track, face, Sample(score, vector, index))
            if owner.decided:
                continue
            enough = len(owner.samples) >= self.config.samples_to_decide
            early = (
                self.config.early_accept and self.confident is not None and self.confident(vector)
            )
            if enough or early:
                ready += self._decide([owner], index)
        return ready + self._finish(self.tracker.expire(index), index)

    def _decide(self, tracks: list[Track], index: int) -> list[TrackReady]:
        out = []
        for track in tracks:
            embedding = track.fused()
            if track.decided or embedding is None:
                continue
            track.decided = True
            out.append(
                TrackReady(
                    track.track_id,
                    embedding,
                    track.best_quality,
                    len(track.samples),
                    track.direction(self.entry_line),
                    track.first_frame,
                    index,
                )
            )
        return out

    def _finish(self, tracks: list[Track], index: int) -> list[TrackReady]:
        return self._decide(tracks, index)

    def flush(self) -> list[TrackReady]:
        return self._decide(self.tracker.flush(), self.frames)
