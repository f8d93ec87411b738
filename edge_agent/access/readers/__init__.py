"""Credential readers: a base class and a registry keyed by the config's ``type``."""

from edge_agent.access.readers.base import Present, Reader, create_reader, register_reader
from edge_agent.access.readers.config import LineReaderConfig

__all__ = ["LineReaderConfig", "Present", "Reader", "create_reader", "register_reader"]
