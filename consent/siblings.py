"""The one "default among siblings" rule, for saved cards and addresses alike.

A customer's live rows of one kind (`removed_at` empty) have at most one default (a partial unique index
says so in the database): the first row saved becomes it, a row saved "as default" takes it over, and when
the default is removed the oldest remaining row inherits it. Callers hold the customer's row lock
(`_lock_customer`), so two requests never decide the default at the same time.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models

Row = TypeVar("Row", bound=models.Model)


def _live(model: type[Row], user_id: int) -> models.QuerySet[Row]:
    return model.objects.filter(user_id=user_id, removed_at__isnull=True)


def default_for_new(model: type[Row], *, user_id: int, row: Row, make_default: bool) -> None:
    """Before a new row is inserted: make it the default when asked to, or when it is the first one."""
    current = _live(model, user_id).filter(is_default=True)
    if make_default:
        current.update(is_default=False)
        row.is_default = True
    else:
        row.is_default = not current.exists()


def default_move_to(model: type[Row], *, user_id: int, row: Row) -> bool:
    """Make `row` (locked, live) the default; False when it already was (nothing changed)."""
    if row.is_default:
        return False
    model.objects.filter(user_id=user_id, is_default=True).update(is_default=False)
    row.is_default = True
    row.save(update_fields=["is_default"])
    return True


def default_remove(model: type[Row], *, user_id: int, row: Row, removed_at) -> Row | None:
    """Remove `row` (locked, live); when it was the default, the oldest remaining row inherits it (returned)."""
    was_default = row.is_default
    row.removed_at = removed_at
    row.is_default = False
    row.save(update_fields=["removed_at", "is_default"])
    if not was_default:
        return None
    successor = _live(model, user_id).order_by("created_at", "pk").first()
    if successor is not None:
        successor.is_default = True
        successor.save(update_fields=["is_default"])
    return successor
