"""A plugin registry keyed by a configuration's ``type``, loading plugin modules lazily.

Plugins import heavy libraries (dlib, onnxruntime); a module is imported only when a
configuration asks for its type.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from edge_agent.vision.errors import UnknownModelError

P = TypeVar("P")
Factory = Callable[[Any, Path], Any]
F = TypeVar("F", bound=Factory)


class Registry(Generic[P]):
    def __init__(self, what: str, modules: dict[str, str]) -> None:
        self.what = what
        self._modules = modules
        self._factories: dict[str, Factory] = {}

    def register(self, type_name: str) -> Callable[[F], F]:
        def wrap(factory: F) -> F:
            self._factories[type_name] = factory
            return factory

        return wrap

    def create(self, config: Any, models_dir: Path) -> P:
        type_name = str(config.type)
        if type_name not in self._factories and type_name in self._modules:
            importlib.import_module(self._modules[type_name])
        if type_name not in self._factories:
            raise UnknownModelError(f"no {self.what} plugin of type {type_name!r}")
        plugin: P = self._factories[type_name](config, models_dir)
        return plugin
