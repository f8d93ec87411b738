"""Face detectors: a base class and a registry keyed by the config's ``type``."""

from edge_agent.vision.detectors.base import Detector, create_detector, register_detector

__all__ = ["Detector", "create_detector", "register_detector"]
