"""Face embedders: a base class and a registry keyed by the config's ``type``."""

from edge_agent.vision.embedders.base import Embedder, create_embedder, register_embedder

__all__ = ["Embedder", "create_embedder", "register_embedder"]
