"""A small registry of named backends (composers, embedders), as simonw/llm registers its models.

The default backend is registered exactly like any other, so choosing one in Settings and swapping one in a
test go through the same door::

    COMPOSERS.register("deterministic")(DeterministicComposer)
    composer = COMPOSERS.create(settings.composer, context)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class UnknownBackendError(ValueError):
    """A backend name that nothing registered; the message lists the registered ones."""


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            self._factories[name] = factory
            return factory

        return decorator

    def names(self) -> list[str]:
        return sorted(self._factories)

    def factory(self, name: str) -> Callable[..., T]:
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownBackendError(
                f"Unknown {self.kind} {name!r}. Registered: {', '.join(self.names()) or 'none'}."
            ) from None

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        return self.factory(name)(*args, **kwargs)
