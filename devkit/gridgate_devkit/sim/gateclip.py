"""Synthetic gate video built from portrait photos, with ground truth.

Each passage moves one photo's face across a 1280x720 scene while it grows (the person walks
towards the camera), with some frames blurred or dimmed; sometimes two people pass together.
Idle frames (an empty gate) separate passages. The same seed gives the same clip.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from edge_agent.vision.types import Frame, read_image

WIDTH, HEIGHT = 1280, 720


@dataclass(frozen=True, slots=True)
class Passage:
    identity: str
    image: Path
    start: int
    frames: int
    lane: int  # 0 left half, 1 right half
    inbound: bool


@dataclass(frozen=True, slots=True)
class ClipPlan:
    passages: tuple[Passage, ...]
    length: int


def background(seed: int) -> Frame:
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, HEIGHT, dtype=np.float32)[:, None]
    x = np.linspace(0, 1, WIDTH, dtype=np.float32)[None, :]
    base = 90 + 60 * y + 20 * np.sin(6 * x)
    img = np.stack([base * 0.9, base, base * 1.05], axis=-1)
    img += rng.normal(0, 3, img.shape)
    cv2.rectangle(img, (40, 60), (200, 700), (60, 60, 70), -1)  # gate posts
    cv2.rectangle(img, (1080, 60), (1240, 700), (60, 60, 70), -1)
    return np.asarray(np.clip(img, 0, 255), dtype=np.uint8)


def plan_clip(
    people: Sequence[tuple[str, Path]],
    seed: int = 0,
    frames_per_passage: int = 16,
    idle_frames: int = 6,
    pair_every: int = 3,
) -> ClipPlan:
    """Lay out passages in time: one after another, every ``pair_every``-th with a companion."""
    rng = np.random.default_rng(seed)
    passages = []
    t = idle_frames
    i = 0
    while i < len(people):
        together = pair_every > 0 and (i + 1) % pair_every == 0 and i + 1 < len(people)
        group = people[i : i + (2 if together else 1)]
        for lane, (identity, image) in enumerate(group):
            lane_index = lane if together else int(rng.integers(0, 2))
            passages.append(
                Passage(
                    identity, image, t, frames_per_passage, lane_index, bool(rng.integers(0, 2))
                )
            )
        t += frames_per_passage + idle_frames
        i += len(group)
    return ClipPlan(tuple(passages), t)


def _face_sprite(image: Frame, size: int) -> tuple[Frame, npt.NDArray[np.float32]]:
    sprite = np.asarray(cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR), np.uint8)
    mask = np.zeros((size, size), dtype=np.float32)
    cv2.ellipse(
        mask, (size // 2, size // 2), (int(size * 0.36), int(size * 0.46)), 0, 0, 360, 1.0, -1
    )
    soft = np.asarray(cv2.GaussianBlur(mask, (0, 0), size * 0.04), dtype=np.float32)
    return sprite, soft[..., None]


def render(
    plan: ClipPlan, seed: int = 0, sprite_scale: float = 1.7
) -> Iterator[tuple[Frame, list[Passage]]]:
    """Yield (frame, passages visible in it) for every frame of the plan."""
    scene = background(seed)
    rng = np.random.default_rng(seed + 1)
    photos = {p.image: read_image(p.image) for p in plan.passages}
    for index in range(plan.length):
        frame = scene.copy()
        visible = []
        for p in plan.passages:
            k = index - p.start
            if not 0 <= k < p.frames:
                continue
            progress = k / max(p.frames - 1, 1)
            size = int(250 * sprite_scale * (0.8 + 0.4 * progress))
            sprite, mask = _face_sprite(photos[p.image], size)
            lane_x = WIDTH * (0.3 if p.lane == 0 else 0.7)
            drift = (progress - 0.5) * 200 * (1 if p.inbound else -1)
            cx = int(lane_x + drift)
            cy = int(HEIGHT * 0.5)
            x0, y0 = cx - size // 2, cy - size // 2
            x1, y1 = max(0, x0), max(0, y0)
            x2, y2 = min(WIDTH, x0 + size), min(HEIGHT, y0 + size)
            if x2 <= x1 or y2 <= y1:
                continue
            crop = sprite[y1 - y0 : y2 - y0, x1 - x0 : x2 - x0].astype(np.float32)
            alpha = mask[y1 - y0 : y2 - y0, x1 - x0 : x2 - x0]
            region = frame[y1:y2, x1:x2].astype(np.float32)
            frame[y1:y2, x1:x2] = (alpha * crop + (1 - alpha) * region).astype(np.uint8)
            visible.append(p)
        roll = rng.random()
        if visible and roll < 0.15:
            frame = np.asarray(cv2.blur(frame, (9, 9)), dtype=np.uint8)  # motion blur
        elif visible and roll < 0.25:
            frame = (frame * 0.55).astype(np.uint8)  # a cloud, a shadow
        yield frame, visible
