"""The JSON API's one error mapping: domain errors, validation errors, 404s and outages to HTTP.

Every app's domain errors derive from `config.errors.DomainError`: `code`, `message` (for a person), `details`, and
`http_status` on the class; the handler below is DRF's EXCEPTION_HANDLER for the whole site, so every error body has one
shape: `{"error": <code>, "message": <for a person>, ...details}`. An error that asks the client to wait also carries
`retry_after_seconds` and the `Retry-After` header. Errors raised before or outside a DRF view (a URL that matches
nothing, a body too large, a middleware that cannot reach the database) get the same shape from `config.error_views` for
every address under /api/.

Bodies: every endpoint takes a JSON object (or a form), so `JSONObjectParser` refuses any other JSON value (`[null,
null]`, `"x"`, `null`, `true`, `1`) with a 400 before a view sees it. A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413
at every endpoint (config.error_views.RequestSizeLimitMiddleware): Django itself checks that limit only for forms,
when one is read.
"""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, Throttled, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.utils import json

from config.errors import DomainError
from config.outages import outage_body, outage_reported, unavailable_dependency


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit: int | None = None) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
        super().__init__(f"The request body is larger than the {limit:,} bytes this API accepts.")


def throttled(*, wait: float | None, message: str) -> Throttled:
    """A 429 whose message states the wait once: `message` may say `{seconds}`.

    DRF's Throttled appends "Expected available in N seconds." to any message it is given; ours already
    says how long to wait, in words, so the wait goes on the exception (the Retry-After header and
    `retry_after_seconds`) and not a second time into the message.
    """
    seconds = max(1, math.ceil(wait or 1))
    error = Throttled(detail=message.format(seconds=seconds))
    error.wait = seconds
    return error


def _with_wait(response: Response, body: dict[str, Any]) -> Response:
    """Any error that asks the client to wait says so the same way: the body's seconds and Retry-After."""
    seconds = body.get("retry_after_seconds", body.get("retry_after"))
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        body["retry_after_seconds"] = math.ceil(seconds)
        response["Retry-After"] = str(math.ceil(seconds))
    return response


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES (this module's parser) as it loads, so a
    # top-level import makes "import config.api" fail whenever nothing imported DRF's views before it.
    from rest_framework.views import exception_handler, set_rollback

    if isinstance(exc, DomainError):
        details = {key: value for key, value in exc.details.items() if key != "fields"}
        body: dict[str, Any] = {"error": exc.code, "message": exc.message, **details}
        if "fields" in exc.details:
            body["fields"] = exc.details["fields"]
        return _with_wait(Response(body, status=exc.http_status), body)
    dependency = unavailable_dependency(exc)
    if dependency is not None:
        set_rollback()
        seconds = outage_reported(request=context.get("request"), dependency=dependency, error=exc)
        body = outage_body(seconds)
        return _with_wait(Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE), body)
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        return Response({"error": "not_found", "message": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        first_field, messages = next(iter(fields.items()), ("", ["That is not valid."]))
        first = messages[0] if isinstance(messages, list) and messages else str(messages)
        label = "" if first_field in ("", "non_field_errors") else f"{first_field.replace('_', ' ').capitalize()}: "
        return Response(
            {"error": "invalid", "message": f"{label}{first}", "fields": fields}, status=status.HTTP_400_BAD_REQUEST
        )
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, APIException):
        body = {"error": exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code}
        body["message"] = str(exc.detail)
        if getattr(exc, "wait", None) is not None:
            body["retry_after_seconds"] = int(exc.wait)
        response.data = body
    return response


# -- bodies ----------------------------------------------------------------------------------------


_JSON_KINDS = {list: "a list", str: "a string", bool: "true or false", int: "a number", float: "a number"}


class JSONObjectParser(JSONParser):
    """JSON bodies that are objects; any other JSON value, or no JSON at all, is a 400 in our shape."""

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            data = json.loads(raw.decode(encoding), parse_constant=json.strict_constant if self.strict else None)
        except ValueError as error:
            raise ParseError(f"The body is not valid JSON ({error}).") from None
        if not isinstance(data, dict):
            kind = "null" if data is None else _JSON_KINDS.get(type(data), type(data).__name__)
            raise ParseError(f'The body must be a JSON object, like {{"name": "value"}}; this one is {kind}.')
        return data
