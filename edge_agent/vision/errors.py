"""Exception tree of the face engine.

VisionError
├── ImageError
│   ├── UnreadableImageError   a file or buffer that is not a decodable image
│   ├── EmptyFrameError        a frame with no pixels
│   └── FrameLayoutError       not an HxWx3 uint8 BGR frame (grey, RGBA, float...)
└── ModelError
    ├── UnknownModelError      a file or name the manifest does not know
    ├── ModelChecksumError     a file whose sha256 differs from the manifest
    └── ModelShapeError        a model whose inputs or outputs are not what the manifest says
"""

from __future__ import annotations

from edge_agent.errors import EdgeError


class VisionError(EdgeError):
    """Base class of face-engine errors."""


class ImageError(VisionError):
    """An input image or frame cannot be used."""


class UnreadableImageError(ImageError):
    pass


class EmptyFrameError(ImageError):
    pass


class FrameLayoutError(ImageError):
    pass


class ModelError(VisionError):
    """A model file cannot be used."""


class UnknownModelError(ModelError):
    pass


class ModelChecksumError(ModelError):
    pass


class ModelShapeError(ModelError):
    pass
