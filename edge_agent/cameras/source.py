"""One capture thread per camera, a bounded queue that drops the oldest frame, reconnection.

Capture never blocks on analysis: when the queue is full the oldest frame is dropped (and
counted). Streams that fail are reopened with exponential backoff. A video file with
``realtime: False`` is the exception: it waits for room instead, so a test or bench sees every
frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from edge_agent.cameras.config import CameraConfig
from edge_agent.vision.types import Frame

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CapturedFrame:
    frame: Frame
    captured_at: float  # scene time (a file read faster than real time gets a paced timeline)
    index: int
    read_at: float  # wall clock when it was read, for latency


class CameraSource:
    def __init__(self, config: CameraConfig, max_backoff_s: float = 30.0) -> None:
        self.config = config
        self.max_backoff_s = max_backoff_s
        self._queue: deque[CapturedFrame] = deque(maxlen=config.queue_frames)
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_read = 0
        self.frames_dropped = 0
        self.reconnects = 0
        self.connected = False
        self.finished = False  # a non-looping file reached its end
        self.last_frame_at: float | None = None  # time.monotonic() of the newest frame read

    @property
    def is_file(self) -> bool:
        src = self.config.source
        return not src.startswith(("rtsp://", "rtsps://", "http://", "https://", "usb:"))

    def _open(self) -> cv2.VideoCapture:
        src = self.config.source
        if src.startswith("usb:"):
            return cv2.VideoCapture(int(src[4:]))
        if self.is_file:
            return cv2.VideoCapture(src)
        return cv2.VideoCapture(src, cv2.CAP_FFMPEG)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"camera-{self.config.camera_id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(5)

    def get(self, timeout: float) -> CapturedFrame | None:
        with self._ready:
            if not self._queue:
                self._ready.wait(timeout)
            if not self._queue:
                return None
            item = self._queue.popleft()
            self._ready.notify_all()
            return item

    @property
    def backlog(self) -> int:
        return len(self._queue)

    def _put(self, item: CapturedFrame) -> None:
        self.last_frame_at = time.monotonic()
        with self._ready:
            if len(self._queue) == self._queue.maxlen:
                if self.is_file and not self.config.realtime:
                    while len(self._queue) == self._queue.maxlen and not self._stop.is_set():
                        self._ready.wait(0.1)
                else:
                    self.frames_dropped += 1  # deque drops the oldest on append
            self._queue.append(item)
            self._ready.notify_all()

    def _run(self) -> None:
        backoff = 0.5
        interval = 1.0 / self.config.fps_cap
        index = 0
        timeline = time.time()
        while not self._stop.is_set():
            capture = self._open()
            if not capture.isOpened():
                self.connected = False
                _LOGGER.warning(
                    "camera %s: cannot open %s; retrying in %.1f s",
                    self.config.camera_id,
                    self._redacted(),
                    backoff,
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                self.reconnects += 1
                continue
            self.connected = True
            backoff = 0.5
            next_due = 0.0
            while not self._stop.is_set():
                ok, frame = capture.read()
                if not ok or frame is None:
                    break
                now = time.time()
                if self.is_file and self.config.realtime:
                    delay = next_due - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                    next_due = time.monotonic() + interval
                elif not self.is_file:
                    if time.monotonic() < next_due:
                        continue  # over the frame-rate cap: read and drop, keep the stream fresh
                    next_due = time.monotonic() + interval
                self.frames_read += 1
                scene_time = now
                if self.is_file and not self.config.realtime:
                    scene_time = timeline + index * interval
                pixels = np.ascontiguousarray(frame, dtype=np.uint8)
                self._put(CapturedFrame(pixels, scene_time, index, time.time()))
                index += 1
            capture.release()
            self.connected = False
            if self.is_file and not self.config.loop:
                self.finished = True
                with self._ready:
                    self._ready.notify_all()
                return
            if not self.is_file:
                _LOGGER.warning("camera %s: stream dropped; reconnecting", self.config.camera_id)
                self.reconnects += 1
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)

    def _redacted(self) -> str:
        """The source without credentials (rtsp://user:pass@host...)."""
        src = self.config.source
        if "@" in src and "://" in src:
            scheme, rest = src.split("://", 1)
            return f"{scheme}://***@{rest.split('@', 1)[1]}"
        return src
