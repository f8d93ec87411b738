"""Credential reader interface and registry. A reader hands each credential it reads to
``present(reader, value)``; where it stands (gate, lane, kind, direction) is its config."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from edge_agent.access.readers.config import LineReaderConfig
from edge_agent.plugins import Registry

Present = Callable[[LineReaderConfig, str], None]


class Reader(ABC):
    def __init__(self, config: LineReaderConfig, present: Present) -> None:
        self.config = config
        self.present = present

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...


_REGISTRY: Registry[Present, Reader] = Registry(
    "credential reader", {"line": "edge_agent.access.readers.line"}
)
register_reader = _REGISTRY.register


def create_reader(config: LineReaderConfig, present: Present) -> Reader:
    return _REGISTRY.create(config, present)
