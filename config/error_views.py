"""Error answers for what never reaches a DRF view: JSON under /api/, Django's pages everywhere else.

DRF's exception handler (config.api) shapes every error a view raises. These handlers (handler400, 403,
404 and 500 in config/urls.py) shape the rest the same way for the API: a URL that matches no route
(`/api/v1/consent/grants/abc/`), a body over the size limit found by a middleware, and an exception in a
middleware, such as the session or the signed-in user read while PostgreSQL is down, which is the
outage's 503 with Retry-After (config.outages). The two browser pages under /api/ (the 3-D Secure
round trip in ordering/views.py) and every page outside it keep Django's HTML error pages.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from rest_framework.views import APIView

from config.api import RequestTooLarge
from config.outages import outage_response, unavailable_dependency

API_PREFIX = "/api/"
# Django's own one-line pages, answered when ours cannot be drawn
_PLAIN = {"permission_denied": (403, "403 Forbidden"), "page_not_found": (404, "Not Found")}
logger = logging.getLogger(__name__)


def answers_json(request: HttpRequest) -> bool:
    """An API address: under /api/, and either no route at all or a route to a DRF view (not a page)."""
    if not request.path_info.startswith(API_PREFIX):
        return False
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return True
    view_class = getattr(match.func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


def _json(status: int, error: str, message: str) -> JsonResponse:
    return JsonResponse({"error": error, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not answers_json(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _json(413, "request_too_large", str(RequestTooLarge().detail))
    if isinstance(exception, TooManyFieldsSent):
        return _json(400, "too_many_fields", "The request has more fields than this API accepts.")
    return _json(400, "bad_request", "The request could not be read.")


def _page(default_view, request: HttpRequest, exception: Exception) -> HttpResponse:
    """Our page for the error (templates/403.html, 404.html: what happened and the way back), or Django's one line
    when it cannot be drawn (a static file missing from the manifest, a database outage in a context processor): an
    error page never turns a 404 into a 500."""
    try:
        return default_view(request, exception)
    except Exception:
        status, title = _PLAIN[default_view.__name__]
        logger.warning("the %s page could not be drawn; a plain one is answered", status, exc_info=True)
        return HttpResponse(f"<!doctype html><title>{title}</title><h1>{title}</h1>", status=status)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not answers_json(request):
        return _page(defaults.permission_denied, request, exception)
    return _json(403, "permission_denied", "You do not have permission to do this.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not answers_json(request):
        return _page(defaults.page_not_found, request, exception)
    return _json(404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still the current one.
    error = sys.exc_info()[1]
    if not answers_json(request):
        return defaults.server_error(request)
    dependency = unavailable_dependency(error)
    if dependency is not None:
        return outage_response(request=request, dependency=dependency, error=error)
    # The trace id is what support looks the failure up by (it is in every log line of the request).
    return JsonResponse(
        {
            "error": "server_error",
            "message": "Something went wrong on our side. Please try again in a moment; if it keeps happening, "
            "contact us and give this reference: " + str(getattr(request, "trace_id", "") or "none") + ".",
            "trace_id": getattr(request, "trace_id", None),
        },
        status=500,
    )


# What a browser shows for an upload over the limit (no template: nothing of the request is read to draw it).
_TOO_LARGE_PAGE = (
    "<!doctype html><title>Request too large</title><h1>Request too large</h1>"
    "<p>What you sent is larger than this site accepts ({limit:,} bytes).</p>"
)


class RequestSizeLimitMiddleware:
    """Refuses a request whose declared body is over DATA_UPLOAD_MAX_MEMORY_SIZE, before anything reads it.

    Under /api/: any body, a JSON 413. Django checks that limit only when a form is read, and an endpoint that takes
    no body never reads one: without this, the same oversized body would be a 413 at one endpoint and accepted at the
    next. A body sent without a length is still stopped when it is read (config.api's parsers).

    Everywhere else: an upload (multipart/form-data), a 413. Django's limit counts a multipart body's fields but
    never its files, which it writes to a temporary file as they arrive, and nothing here takes a file: a 50 MB
    "file" posted to the sign-in page was read and written to disk in full (before the CSRF check, which reads the
    form) and answered 200. Other bodies outside /api/ keep Django's own check when the form is read (a 400), and
    the merchant webhooks their own 413 in ACP's error shape."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                if request.path_info.startswith(API_PREFIX):
                    return _json(413, "request_too_large", str(RequestTooLarge(limit).detail))
                if request.content_type == "multipart/form-data":
                    return HttpResponse(_TOO_LARGE_PAGE.format(limit=limit), status=413)
        return self.get_response(request)
