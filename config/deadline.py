"""A deadline for the work of one unit (a chat turn), carried in a context variable down to foreign calls.

The turn runner opens `deadline_scope(seconds)`; the LLM client and the merchant HTTP client ask
`timeout_capped(t)` for each request, which answers the smaller of their own timeout and the time
left, so a slow model or shop cannot keep a turn past its deadline. Code that is about to start new
work calls `deadline_check()`, which raises `DeadlineExceeded` once the time is up.

`DeadlineExceeded` derives from BaseException on purpose (like asyncio's CancelledError): it stops the
unit of work, and the many `except Exception` blocks that turn a failed step into a polite message
must not swallow it. Only the runner that opened the scope catches it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# A request never gets less than this: a zero timeout would be no request at all, and an error path
# (a retry, a repair) still needs an answer that says "too late" rather than a ValueError.
MIN_TIMEOUT_SECONDS = 0.05

_deadline: ContextVar[float | None] = ContextVar("deadline", default=None)


class DeadlineExceeded(BaseException):
    """The unit of work ran past its deadline; nothing new may start."""


@contextmanager
def deadline_scope(seconds: float) -> Iterator[float]:
    """Run the block under a deadline `seconds` from now (never later than an enclosing one)."""
    at = time.monotonic() + max(0.0, float(seconds))
    outer = _deadline.get()
    if outer is not None:
        at = min(at, outer)
    token = _deadline.set(at)
    try:
        yield at
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds until the current deadline (negative once past it); None outside any deadline."""
    at = _deadline.get()
    return None if at is None else at - time.monotonic()


def deadline_passed() -> bool:
    left = time_left()
    return left is not None and left <= 0


def deadline_check() -> None:
    """Raise DeadlineExceeded when the current deadline has passed (a no-op outside any deadline)."""
    if deadline_passed():
        raise DeadlineExceeded("the deadline passed")


def timeout_capped(timeout: float | tuple[float, float]) -> float | tuple[float, float]:
    """`timeout` (seconds, or a requests-style (connect, read) pair) capped by the time left."""
    left = time_left()
    if left is None:
        return timeout
    left = max(MIN_TIMEOUT_SECONDS, left)
    if isinstance(timeout, tuple):
        return tuple(min(part, left) for part in timeout)  # type: ignore[return-value]
    return min(timeout, left)
