"""Trace ids: one id follows a request through log lines, Celery tasks and merchant calls.

The id comes from the caller's `X-Trace-ID` header when it is well-formed (so a trace can start at
the chat widget or a load balancer), otherwise a new one is made. It lives in a contextvar for the
duration of the request or task, travels in Celery message headers, and is restored by the worker.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse

TRACE_HEADER = "X-Trace-ID"
CELERY_TRACE_HEADER = "trace_id"
# Bounded and plain so a hostile header cannot inject into log lines or blow up their size.
_VALID_TRACE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")

_trace_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)

request_logger = logging.getLogger("http.request")


def new_trace_id() -> str:
    return uuid.uuid4().hex


def get_trace_id() -> str | None:
    return _trace_id.get()


def clean_trace_id(candidate: str | None) -> str | None:
    if candidate and _VALID_TRACE_ID.match(candidate):
        return candidate
    return None


@contextlib.contextmanager
def trace_context(trace_id: str | None = None) -> Iterator[str]:
    """Run a block under a trace id (a given one, or a new one), restoring the previous after."""
    value = trace_id or new_trace_id()
    token = _trace_id.set(value)
    try:
        yield value
    finally:
        _trace_id.reset(token)


class TraceIdMiddleware:
    """Binds the trace id to the request, returns it in the response and logs one line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        trace_id = clean_trace_id(request.headers.get(TRACE_HEADER)) or new_trace_id()
        request.trace_id = trace_id
        started = time.monotonic()
        with trace_context(trace_id):
            response = self.get_response(request)
            response[TRACE_HEADER] = trace_id
            request_logger.info(
                "request.finished",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        return response


class TraceIdLogFilter(logging.Filter):
    """Puts the current trace id on every log record (None outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "trace_id", None):
            record.trace_id = get_trace_id()
        return True


# Celery signal handlers, connected in config/celery.py.


def celery_attach_trace_header(headers: dict | None = None, **_: object) -> None:
    trace_id = get_trace_id()
    if headers is not None and trace_id and CELERY_TRACE_HEADER not in headers:
        headers[CELERY_TRACE_HEADER] = trace_id


def celery_restore_trace(task: object = None, **_: object) -> None:
    request = getattr(task, "request", None)
    if request is None:
        return
    carried = getattr(request, CELERY_TRACE_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        CELERY_TRACE_HEADER
    )
    request._trace_token = _trace_id.set(clean_trace_id(carried) or new_trace_id())


def celery_forget_trace(task: object = None, **_: object) -> None:
    request = getattr(task, "request", None)
    token = getattr(request, "_trace_token", None)
    if token is not None:
        _trace_id.reset(token)
        request._trace_token = None
