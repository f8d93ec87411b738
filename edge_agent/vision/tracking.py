"""Per-camera face tracking: one identity decision per person crossing, not one per frame.

Detections are associated with tracks by box overlap (IoU, with a centre-distance fallback for
fast motion); appearance keeps two people apart: a sample whose embedding disagrees with its
track's fused embedding starts a new track instead. A track keeps its best few samples by
quality and fuses them (quality-weighted mean) into one embedding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from edge_agent.vision.types import Face, Vector
from gridgate_wire import PassageDirection


@dataclass(frozen=True, slots=True)
class EntryLine:
    """A line across the gate in frame pixels, and any point on the compound's side of it.

    A track whose face crosses from the other side to the ``inside`` point's side is entering.
    """

    a: tuple[float, float]
    b: tuple[float, float]
    inside: tuple[float, float]

    def _cross(self, point: tuple[float, float]) -> float:
        (ax, ay), (bx, by) = self.a, self.b
        return (bx - ax) * (point[1] - ay) - (by - ay) * (point[0] - ax)

    def side(self, point: tuple[float, float]) -> float:
        """Positive on the inside, negative outside."""
        return self._cross(point) * (1.0 if self._cross(self.inside) > 0 else -1.0)


@dataclass(slots=True)
class Sample:
    quality: float
    embedding: Vector
    frame_index: int


@dataclass(eq=False)
class Track:
    track_id: int
    box: tuple[float, float, float, float]
    first_frame: int
    last_frame: int
    first_centre: tuple[float, float]
    last_centre: tuple[float, float]
    hits: int = 1
    embeds: int = 0
    samples: list[Sample] = field(default_factory=list)
    decided: bool = False
    # Set when the track was lost for a while and picked up again: the face it now follows may
    # be someone else (the next person through the same lane), so appearance must be checked.
    recheck: bool = False

    def fused(self) -> Vector | None:
        if not self.samples:
            return None
        weights = np.array([max(s.quality, 1e-3) for s in self.samples], dtype=np.float32)
        stacked = np.stack([s.embedding for s in self.samples])
        mean = (stacked * weights[:, None]).sum(axis=0)
        norm = float(np.linalg.norm(mean))
        return (mean / norm).astype(np.float32) if norm > 0 else None

    @property
    def best_quality(self) -> float:
        return max((s.quality for s in self.samples), default=0.0)

    def wants_sample(self, quality: float, keep: int) -> bool:
        return len(self.samples) < keep or quality > min(s.quality for s in self.samples)

    def add_sample(self, sample: Sample, keep: int) -> None:
        self.samples.append(sample)
        self.samples.sort(key=lambda s: -s.quality)
        del self.samples[keep:]

    def direction(self, line: EntryLine | None) -> PassageDirection:
        if line is None:
            return PassageDirection.UNKNOWN
        before, after = line.side(self.first_centre), line.side(self.last_centre)
        if before < 0 <= after:
            return PassageDirection.IN
        if before >= 0 > after:
            return PassageDirection.OUT
        return PassageDirection.UNKNOWN


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class Tracker:
    def __init__(
        self,
        iou_threshold: float = 0.25,
        max_age_frames: int = 10,
        keep_best: int = 5,
        appearance_split: float | None = None,
    ) -> None:
        self.iou_threshold = iou_threshold
        self.max_age_frames = max_age_frames
        self.keep_best = keep_best
        self.appearance_split = appearance_split
        self.active: list[Track] = []
        self._ids = itertools.count(1)

    def _score(self, track: Track, face: Face) -> float:
        overlap = iou(track.box, face.box)
        if overlap >= self.iou_threshold:
            return overlap
        # Fast motion at low frame rates: near centres and similar size still match.
        tx, ty = track.last_centre
        fx, fy = face.centre
        size = max(track.box[2] - track.box[0], face.width, 1.0)
        distance = ((tx - fx) ** 2 + (ty - fy) ** 2) ** 0.5 / size
        ratio = face.width / max(track.box[2] - track.box[0], 1.0)
        if distance < 0.6 and 0.6 < ratio < 1.6:
            return float(self.iou_threshold * (1.0 - distance))
        return 0.0

    def update(self, frame_index: int, faces: list[Face]) -> list[tuple[Track, Face]]:
        """Associate this frame's faces with tracks; unmatched faces start new tracks."""
        pairs = sorted(
            (
                (self._score(track, face), ti, fi)
                for ti, track in enumerate(self.active)
                for fi, face in enumerate(faces)
            ),
            reverse=True,
        )
        used_t: set[int] = set()
        used_f: set[int] = set()
        out: list[tuple[Track, Face]] = []
        for score, ti, fi in pairs:
            if score <= 0 or ti in used_t or fi in used_f:
                continue
            used_t.add(ti)
            used_f.add(fi)
            track, face = self.active[ti], faces[fi]
            if frame_index - track.last_frame > 1:
                track.recheck = True
            track.box = face.box
            track.last_frame = frame_index
            track.last_centre = face.centre
            track.hits += 1
            out.append((track, face))
        for fi, face in enumerate(faces):
            if fi not in used_f:
                out.append((self._new_track(frame_index, face), face))
        return out

    def _new_track(self, frame_index: int, face: Face) -> Track:
        track = Track(next(self._ids), face.box, frame_index, frame_index, face.centre, face.centre)
        self.active.append(track)
        return track

    def add_sample(self, track: Track, face: Face, sample: Sample) -> Track:
        """Add an embedded sample; if it clearly is someone else, split off a new track."""
        fused = track.fused()
        track.recheck = False
        if (
            self.appearance_split is not None
            and fused is not None
            and float(fused @ sample.embedding) < self.appearance_split
        ):
            self.active.remove(track)  # the old person has left; this is a new one
            track = self._new_track(sample.frame_index, face)
        if track.decided:
            return track  # a confirmation only: a decided track keeps its samples
        track.add_sample(sample, self.keep_best)
        track.embeds += 1
        return track

    def expire(self, frame_index: int) -> list[Track]:
        """Tracks not seen for ``max_age_frames``: finished."""
        done = [t for t in self.active if frame_index - t.last_frame > self.max_age_frames]
        self.active = [t for t in self.active if t not in done]
        return done

    def flush(self) -> list[Track]:
        done, self.active = self.active, []
        return done
