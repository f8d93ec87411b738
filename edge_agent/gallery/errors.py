"""Exception tree of the gallery.

GalleryError
├── StoreError            the store file is unreadable, corrupt or of an unknown version
│   └── KeyMismatchError  the store was encrypted with a key we do not hold
├── TemplateKeyError      the key file is missing or malformed
└── EnrolmentRefused      enrolment refused (no good frames, duplicate of another resident...)
"""

from __future__ import annotations

from edge_agent.errors import EdgeError


class GalleryError(EdgeError):
    pass


class StoreError(GalleryError):
    pass


class KeyMismatchError(StoreError):
    pass


class TemplateKeyError(GalleryError):
    pass


class EnrolmentRefused(GalleryError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
