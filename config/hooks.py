"""The one hook mechanism: an app announces a committed change, apps above it in the tree react.

Apps form a tree (catalog_adapters and consent below ordering), so a lower app never imports a
higher one; it exposes a `Hook` and the higher app registers a handler from its `AppConfig.ready`.
Handlers run in the web or worker process right after commit, so they must be quick: enqueue a Celery
task (by id) and return. A handler that raises is logged and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import transaction

logger = logging.getLogger(__name__)

Event = TypeVar("Event")
Handler = TypeVar("Handler", bound=Callable[..., object])
Registered = TypeVar("Registered")


class HookNotSubscribed(RuntimeError):
    """An app asked a question that must be answered and nobody registered to answer it (a deployment
    without the answering app, or a test that unregistered it). Never silent."""


class Handlers(Generic[Handler]):
    """The registry every hook of any number of handlers shares: registering one twice counts once, and the
    handlers run in the order they registered."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Handler] = []

    def register(self, handler: Handler) -> Handler:
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def unregister(self, handler: Handler) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    @property
    def handlers(self) -> tuple[Handler, ...]:
        return tuple(self._handlers)


class Single(Generic[Registered]):
    """Exactly one registered thing (a handler, a provider): a second, different one is refused, the same
    one again counts once, and `get` with nothing registered raises HookNotSubscribed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: Registered | None = None

    def register(self, registered: Registered) -> Registered:
        if self._registered is not None and self._registered != registered:
            raise RuntimeError(f"{self.name} is answered already by {self._registered!r}; one answer only.")
        self._registered = registered
        return registered

    def unregister(self, registered: Registered) -> None:
        if self._registered == registered:
            self._registered = None

    @property
    def registered(self) -> Registered | None:
        return self._registered

    def get(self) -> Registered:
        if self._registered is None:
            raise HookNotSubscribed(f"Nobody answers {self.name}: is the app that answers it installed?")
        return self._registered


class Hook(Handlers[Callable[[Event], object]]):
    """An explicit list of handlers, sent one event after the current transaction commits."""

    def send_on_commit(self, event: Event) -> None:
        # Never announce a change that may still roll back; outside a transaction this runs at once.
        transaction.on_commit(lambda: self.send(event))

    def send(self, event: Event) -> None:
        if not self._handlers:
            logger.info("hook %s has no handlers", self.name, extra={"hook": self.name})
        for handler in self.handlers:
            try:
                handler(event)
            except Exception:
                logger.exception("hook %s handler %r failed", self.name, handler)
