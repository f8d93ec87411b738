"""Enrolment at the edge: quality-gated frames in, templates out, photos discarded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from edge_agent.gallery.errors import EnrolmentRefused
from edge_agent.gallery.gallery import Gallery
from edge_agent.vision.engine import FaceEngine
from edge_agent.vision.models import Thresholds
from edge_agent.vision.types import Face, Frame, Vector


def _dominant(faces: list[Face]) -> Face | None:
    """The one face clearly closest to the camera (1.5x wider than any other), if any."""
    if not faces:
        return None
    ordered = sorted(faces, key=lambda f: -f.width)
    if len(ordered) > 1 and ordered[0].width < 1.5 * ordered[1].width:
        return None
    return ordered[0]


@dataclass(frozen=True, slots=True)
class EnrolmentResult:
    resident_id: str
    consent_id: str
    templates: int
    frames_seen: int
    frames_used: int


class Enroller:
    def __init__(
        self,
        engine: FaceEngine,
        gallery: Gallery,
        thresholds: Thresholds,
        min_frames: int = 3,
        max_templates: int = 5,
    ) -> None:
        self.engine = engine
        self.gallery = gallery
        self.thresholds = thresholds
        self.min_frames = min_frames
        self.max_templates = max_templates

    def enrol(
        self, resident_id: str, house_id: str, consent_id: str, frames: Iterable[Frame]
    ) -> EnrolmentResult:
        """Build templates from good frames, bound to ``consent_id``; nothing of the frames is kept.

        Refused when there are too few good frames, when they do not all show one person, or when
        the face already matches a different resident (a duplicate enrolment).
        """
        if not consent_id:
            raise EnrolmentRefused("no consent record: templates are never made without one")
        good: list[tuple[float, Vector]] = []
        seen = 0
        for frame in frames:
            seen += 1
            face = _dominant(self.engine.detect(frame))
            if face is None:
                continue  # nobody, or two people equally close to the camera
            quality = self.engine.quality(frame, face)
            if quality.acceptable:
                good.append((quality.score, self.engine.embed(frame, face)))
        if len(good) < self.min_frames:
            raise EnrolmentRefused(
                f"only {len(good)} good frames of {seen}; need {self.min_frames} "
                "(one face, large, sharp, frontal, well lit)"
            )
        good.sort(key=lambda item: -item[0])
        vectors = [v for _, v in good[: self.max_templates]]
        mean = np.mean(vectors, axis=0)
        fused = (mean / np.linalg.norm(mean)).astype(np.float32)
        if min(float(v @ fused) for v in vectors) < self.thresholds.accept:
            raise EnrolmentRefused("the frames do not all show the same person")
        for candidate in self.gallery.search(fused, 3):
            if candidate.resident_id != resident_id and candidate.score >= self.thresholds.accept:
                raise EnrolmentRefused(
                    "this face already matches another enrolled resident; "
                    "check the invitation with the community centre"
                )
        self.gallery.replace_templates(resident_id, house_id, consent_id, vectors)
        return EnrolmentResult(resident_id, consent_id, len(vectors), seen, len(good))
