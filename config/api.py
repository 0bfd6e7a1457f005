"""The JSON API's one error mapping: domain errors, validation errors and 404s to HTTP.

Every app's domain errors carry `code` and `message` (for a person) and `details`. An app registers
which of its error classes answer which status with `register_error_statuses` (most specific class
first); the handler below is DRF's EXCEPTION_HANDLER for the whole site, so every error body has one
shape: `{"error": <code>, "message": <for a person>, ...details}`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

_ERROR_STATUS: list[tuple[type[Exception], int]] = []


def register_error_statuses(pairs: list[tuple[type[Exception], int]]) -> None:
    for pair in pairs:
        if pair not in _ERROR_STATUS:
            _ERROR_STATUS.append(pair)


def _domain_status(exc: Exception) -> int | None:
    return next((code for kind, code in _ERROR_STATUS if isinstance(exc, kind)), None)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    domain_status = _domain_status(exc)
    if domain_status is not None:
        details = {key: value for key, value in getattr(exc, "details", {}).items() if key != "fields"}
        body: dict[str, Any] = {"error": exc.code, "message": exc.message, **details}
        if "fields" in getattr(exc, "details", {}):
            body["fields"] = exc.details["fields"]
        return Response(body, status=domain_status)
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
