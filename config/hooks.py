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


class Hook(Generic[Event]):
    """An explicit list of handlers, sent one event after the current transaction commits."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[[Event], object]] = []

    def register(self, handler: Callable[[Event], object]) -> Callable[[Event], object]:
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def unregister(self, handler: Callable[[Event], object]) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    @property
    def handlers(self) -> tuple[Callable[[Event], object], ...]:
        return tuple(self._handlers)

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
