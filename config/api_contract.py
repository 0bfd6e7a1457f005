"""The JSON API's contract in code: the one error body, and each response rendered by the serializer documenting it.

Every response body of the API is produced by the `serializers.Serializer` its view names in `@extend_schema`, so
the OpenAPI schema (`/api/schema/`) and the answers come from one declaration per shape;
tests/contract/test_api_responses_match_schema.py validates every answer of every operation against that schema.

`render` keeps one bound instance per serializer class: binding a serializer deep-copies its declared fields
(and those of every nested serializer), which costs more than rendering a few messages, and nothing of it depends
on the request. A bound serializer only reads its fields while rendering, so the instance is shared by every
request and thread; it must not be given a request context (ours read none).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from rest_framework import serializers


class UTCDateTimeField(serializers.DateTimeField):
    """A moment as the API has always written it: ISO 8601 in UTC ("…Z"), whatever TIME_ZONE is (DRF's own field
    would convert to TIME_ZONE; the database and `timezone.now()` give UTC)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)


class StoredJSONOut(serializers.Serializer):
    """The shape of JSON read back from storage (a message's data, a turn's saved answer), rendered key by key.

    Rows written by an older version may lack a key added since: the key is left out of that answer, as before
    the API rendered through serializers, instead of failing the whole conversation with a 500. Every key present
    is rendered by its declared field, and a key not declared is never sent. Reading a mapping directly also skips
    DRF's per-field attribute lookup, the cost of rendering many messages."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        if not isinstance(instance, dict):
            return super().to_representation(instance)
        rendered: dict[str, Any] = {}
        for field in self._readable_fields:
            name = field.field_name
            if name in instance:
                value = instance[name]
                rendered[name] = None if value is None else field.to_representation(value)
        return rendered


# What config.api.api_exception_handler and config.error_views answer; the docstring below is the schema's text.
class ErrorOut(serializers.Serializer):
    """Every error of the API: `error` is a stable code, `message` a sentence for a person; an error adds its own
    details (docs/conversation-api.md, "Errors")."""

    error = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.JSONField(required=False, help_text="invalid: every field's messages, by field name")
    retry_after_seconds = serializers.IntegerField(
        required=False, help_text="throttled, turn_in_progress, service_unavailable: also the Retry-After header"
    )
    checkout_url = serializers.CharField(
        required=False,
        help_text="assistant_not_available, assistant_paused, rollout_limit: the shop's own checkout page",
    )


ERRORS: dict[int, type[serializers.Serializer]] = {
    400: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    # PostgreSQL, Redis or the broker unreachable: try again after Retry-After (config/outages.py).
    503: ErrorOut,
}

_bound: dict[type[serializers.BaseSerializer], serializers.BaseSerializer] = {}


def render(serializer_class: type[serializers.BaseSerializer], instance: Any) -> Any:
    """`instance` as the JSON-ready body `serializer_class` documents (what `serializer_class(instance).data` is)."""
    serializer = _bound.get(serializer_class)
    if serializer is None:
        serializer = _bound.setdefault(serializer_class, serializer_class())
    return serializer.to_representation(instance)
