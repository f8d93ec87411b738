"""One plugin pattern for the whole edge: a registry keyed by a configuration's ``type``.

Detectors, embedders, door actuators and credential readers each have a base class and a
registry; each plugin module registers its factory with ``@register_x("type")``. A module is
imported only when a configuration asks for its type, so heavy libraries (dlib, onnxruntime,
libgpiod) load only where they are used. Tests register their doubles the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from edge_agent.errors import EdgeError, UnknownPluginError

P = TypeVar("P")
A = TypeVar("A")
F = TypeVar("F", bound=Callable[..., object])


class TypedConfig(Protocol):
    """A plugin's pydantic configuration: its ``type`` field names the plugin."""

    @property
    def type(self) -> str: ...


class Registry(Generic[A, P]):
    """Factories ``(config, context) -> plugin`` by type name; ``context`` is what every plugin
    of this kind needs besides its own configuration (the models folder, the gate...)."""

    def __init__(
        self,
        what: str,
        modules: dict[str, str],
        unknown: type[EdgeError] = UnknownPluginError,
    ) -> None:
        self.what = what
        self._modules = modules
        self._unknown = unknown
        self._factories: dict[str, Callable[[Any, A], P]] = {}

    def register(self, type_name: str) -> Callable[[F], F]:
        def wrap(factory: F) -> F:
            self._factories[type_name] = factory  # type: ignore[assignment]
            return factory

        return wrap

    def create(self, config: TypedConfig, context: A) -> P:
        type_name = str(config.type)
        if type_name not in self._factories and type_name in self._modules:
            importlib.import_module(self._modules[type_name])
        if type_name not in self._factories:
            raise self._unknown(f"no {self.what} plugin of type {type_name!r}")
        return self._factories[type_name](config, context)
