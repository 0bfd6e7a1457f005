"""The OpenAPI schema is the API's contract: every answer of every operation matches it, and no operation goes untested.

The schema is generated in-process by drf-spectacular, exactly as `/api/schema/` serves it. One journey drives
every documented operation of the JSON API against the real application (PostgreSQL, Redis, the sandbox merchant
on a live socket, Celery tasks run eagerly): alice opens a conversation, buys, declines, buys again and confirms,
rates the chat; manages her grants, caps, cards, addresses and step-up; reads her activity; and the main errors:
not signed in (403), someone else's or an unknown id (404), a body or query that is not valid (400), a stale
preview (409), a reused Idempotency-Key (422), too many requests (429). Every answer is validated against the
operation's documented response for its status, with every object *closed* (`additionalProperties: false`), so a
field the API sends but does not document fails as surely as a documented field it leaves out. A status the
operation does not document fails too.

`test_every_operation_in_the_schema_is_exercised` fails when an operation is added to the schema (or a status to
an operation's required set below) that the journey does not reach: coverage cannot shrink without a failing test.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from django.core.cache import cache
from django_otp.oath import hotp, totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator, FormatChecker
from rest_framework.test import APIClient

from tests.ordering.conftest import shop  # noqa: F401 - fixtures reused as they are

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

BUY = "Buy the Blue Runner in size 42"
# The error body's details differ by error (`fields`, `retry_after_seconds`, `checkout_url`, `turn_id`,
# `current_preview_hash`, …: docs/conversation-api.md, "Errors"), so only that object stays open.
OPEN_OBJECTS = {"ErrorOut"}
# 503 is every operation's answer while PostgreSQL, Redis or the broker is down: tests/foundation/
# test_dependency_outages.py takes the site's dependencies down for real; it is not repeated per operation here.
NOT_REQUIRED = {"503"}
# A valid body for the operations that read one before they look their path's ids up.
VALID_BODIES = {
    "/api/v1/conversations/{conversation_id}/messages/": {"text": "hello"},
    "/api/v1/conversations/{conversation_id}/confirm/": {"preview_hash": "0" * 64, "decision": "confirm"},
    "/api/v1/conversations/{conversation_id}/csat/": {"score": 5},
}
_OPENAPI_ONLY = {"nullable", "readOnly", "writeOnly", "example", "examples", "discriminator", "xml", "deprecated"}


def _generated_schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(node: Any, *, closed: bool) -> Any:
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable` becomes a union with null, objects are closed."""
    if isinstance(node, list):
        return [_json_schema(item, closed=closed) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value, closed=closed) for key, value in node.items() if key not in _OPENAPI_ONLY}
    if closed and converted.get("type") == "object" and "properties" in converted:
        converted.setdefault("additionalProperties", False)
    if node.get("nullable"):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_date_time(value: object) -> bool:
        return not isinstance(value, str) or bool(datetime.fromisoformat(value).tzinfo)

    return checker


@dataclass
class Contract:
    schema: dict[str, Any]
    components: dict[str, Any] = field(init=False)
    routes: list[tuple[re.Pattern[str], str]] = field(init=False)

    def __post_init__(self) -> None:
        self.components = {
            name: _json_schema(body, closed=name not in OPEN_OBJECTS)
            for name, body in self.schema["components"]["schemas"].items()
        }
        self.routes = [
            (re.compile("^" + re.sub(r"\\{(\w+)\\}", r"[^/]+", re.escape(path)) + "$"), path)
            for path in self.schema["paths"]
        ]
        self.checker = _format_checker()

    def operations(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (method.upper(), path): operation
            for path, methods in self.schema["paths"].items()
            for method, operation in methods.items()
        }

    def operation_for(self, method: str, url: str) -> tuple[str, dict[str, Any]]:
        path = url.split("?")[0]
        for pattern, template in self.routes:
            if pattern.match(path) and method.lower() in self.schema["paths"][template]:
                return template, self.schema["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path} is not an operation of the schema")

    def problems(self, method: str, url: str, status: int, body: Any) -> list[str]:
        template, operation = self.operation_for(method, url)
        documented = operation["responses"].get(str(status))
        if documented is None:
            return [f"{method} {template}: status {status} is not documented ({sorted(operation['responses'])})"]
        content = documented.get("content")
        if content is None:
            return [] if body is None else [f"{method} {template} {status}: documented without a body, sent {body!r}"]
        schema = _json_schema(content["application/json"]["schema"], closed=True)
        validator = Draft202012Validator(
            {**schema, "components": {"schemas": self.components}}, format_checker=self.checker
        )
        return [
            f"{method} {template} {status} at {'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
            for error in validator.iter_errors(body)
        ]


@dataclass
class Recorder:
    """Sends requests through a DRF test client and checks each answer against the contract as it comes."""

    contract: Contract
    problems: list[str] = field(default_factory=list)
    seen: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def call(self, client: APIClient, method: str, url: str, data: Any = None, *, expect: int, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"format": "json"} if data is not None and not isinstance(data, str) else {}
        if isinstance(data, str):
            kwargs["content_type"] = "application/json"
        response = getattr(client, method.lower())(url, data, **kwargs, **extra)
        assert response.status_code == expect, f"{method} {url}: {response.status_code} {response.content[:500]!r}"
        body = response.json() if response.content else None
        template, _ = self.contract.operation_for(method, url)
        self.seen.setdefault((method, template), set()).add(str(response.status_code))
        self.problems.extend(self.contract.problems(method, url, response.status_code, body))
        return body


def required_statuses(operation: dict[str, Any]) -> set[str]:
    """What the journey must reach for this operation: every documented success and the main errors."""
    documented = set(operation["responses"])
    required = {status for status in documented if status.startswith("2")} | {"403"}
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        required.add("404")
    # A body, or a query parameter that must be a number, can be refused.
    if "requestBody" in operation or any(
        parameter["in"] == "query" and parameter["schema"].get("type") in ("integer", "number")
        for parameter in operation.get("parameters", [])
    ):
        required.add("400")
    required |= documented & {"422", "429"}
    return required - NOT_REQUIRED


def _filled(path: str, operation: dict[str, Any], ids: dict[str, Any]) -> str:
    return path.format(**{p["name"]: ids[p["name"]] for p in operation.get("parameters", []) if p["in"] == "path"})


def _unknown_ids(operation: dict[str, Any]) -> dict[str, Any]:
    return {
        p["name"]: 2_000_000_000 if p["schema"].get("type") == "integer" else str(uuid.uuid4())
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    # The device refuses a code it already accepted, so a second check uses a later time step: counted from the step it
    # last accepted, not from the clock (a 30-second boundary between the two calls made the device's synced drift
    # refuse "now + 1")
    if steps_ahead:
        device.refresh_from_db()
        return f"{hotp(device.bin_key, device.last_t + steps_ahead, digits=device.digits):06d}"
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _journey(record: Recorder, alice_api: APIClient, shop, settings) -> None:  # noqa: F811
    call = record.call
    api = "/api/v1"

    # -- the conversation: open, buy, decline, buy again, confirm, follow the order, rate ----------------
    created = call(alice_api, "POST", f"{api}/conversations/", expect=201)
    conversation = f"{api}/conversations/{created['id']}"
    call(alice_api, "GET", f"{conversation}/", expect=200)
    turn = call(alice_api, "POST", f"{conversation}/messages/", {"text": BUY}, expect=202, HTTP_IDEMPOTENCY_KEY="k1")
    call(alice_api, "POST", f"{conversation}/messages/", {"text": "hello"}, expect=422, HTTP_IDEMPOTENCY_KEY="k1")
    call(alice_api, "POST", f"{conversation}/messages/", {"text": ""}, expect=400)
    call(alice_api, "GET", turn["turn"]["url"], expect=200)
    call(alice_api, "GET", turn["turn"]["url"] + "?wait=1", expect=200)
    call(alice_api, "GET", turn["turn"]["url"] + "?wait=soon", expect=400)
    call(alice_api, "GET", f"{conversation}/", expect=200)  # with the pending confirmation
    preview_hash = turn["pending_confirmation"]["preview_hash"]
    call(alice_api, "POST", f"{conversation}/confirm/", {"preview_hash": "0" * 64, "decision": "confirm"}, expect=409)
    call(alice_api, "POST", f"{conversation}/confirm/", {"preview_hash": "no", "decision": "confirm"}, expect=400)
    call(
        alice_api, "POST", f"{conversation}/confirm/", {"preview_hash": preview_hash, "decision": "decline"}, expect=200
    )
    again = call(alice_api, "POST", f"{conversation}/messages/", {"text": BUY}, expect=202)
    preview_hash = again["pending_confirmation"]["preview_hash"]
    flow = call(
        alice_api, "POST", f"{conversation}/confirm/", {"preview_hash": preview_hash, "decision": "confirm"}, expect=202
    )
    call(alice_api, "GET", f"{api}/flows/{flow['id']}/", expect=200)  # placed by the eager task, with its steps
    call(alice_api, "GET", f"{conversation}/", expect=200)  # with its flow
    call(alice_api, "GET", f"{conversation}/events/", expect=200)
    events = call(alice_api, "GET", f"{conversation}/events/?after={turn['messages'][0]['id']}", expect=200)
    assert events["flows"], events
    call(alice_api, "GET", f"{conversation}/events/?after=last", expect=400)
    call(alice_api, "POST", f"{conversation}/messages/", {"text": "what do you sell?"}, expect=202)  # cards, chips
    call(alice_api, "POST", f"{conversation}/csat/", {"score": 5, "comment": "quick"}, expect=201)
    call(alice_api, "POST", f"{conversation}/csat/", {"score": 9}, expect=400)

    # -- consent: grants ------------------------------------------------------------------------------
    grants = call(alice_api, "GET", f"{api}/consent/grants/", expect=200)["results"]
    grant = call(alice_api, "POST", f"{api}/consent/grants/", {"scope": "use_saved_address"}, expect=201)
    call(alice_api, "POST", f"{api}/consent/grants/", {"scope": "everything"}, expect=400)
    call(alice_api, "GET", f"{api}/consent/grants/{grants[0]['id']}/", expect=200)
    call(alice_api, "POST", f"{api}/consent/grants/{grant['id']}/revoke/", {"reason": "testing"}, expect=200)
    call(alice_api, "GET", f"{api}/consent/grants/{grant['id']}/", expect=200)  # revoked: ended_at set
    # -- caps --------------------------------------------------------------------------------------------
    call(alice_api, "GET", f"{api}/consent/caps/", expect=200)
    call(alice_api, "GET", f"{api}/consent/caps/?chat_session={created['id']}", expect=200)
    call(alice_api, "PATCH", f"{api}/consent/caps/", {"per_day": 20_000, "auto_checkout_threshold": 0}, expect=200)
    call(alice_api, "PATCH", f"{api}/consent/caps/", {}, expect=400)
    # -- cards ---------------------------------------------------------------------------------------------
    cards = call(alice_api, "GET", f"{api}/consent/payment-methods/", expect=200)["results"]
    three_ds = next(card for card in cards if card["last4"] == "3220")
    call(alice_api, "GET", f"{api}/consent/payment-methods/{three_ds['id']}/", expect=200)
    call(alice_api, "POST", f"{api}/consent/payment-methods/{three_ds['id']}/default/", expect=200)
    call(alice_api, "POST", f"{api}/consent/payment-methods/{cards[0]['id']}/default/", expect=200)
    call(alice_api, "DELETE", f"{api}/consent/payment-methods/{three_ds['id']}/", expect=204)
    call(alice_api, "POST", f"{api}/consent/payment-methods/", {"vault_reference": "pm_alice_3ds"}, expect=201)
    call(alice_api, "POST", f"{api}/consent/payment-methods/", {"vault_reference": "4242424242424242"}, expect=400)
    # -- addresses -----------------------------------------------------------------------------------------
    call(alice_api, "GET", f"{api}/consent/addresses/", expect=200)
    office = call(
        alice_api,
        "POST",
        f"{api}/consent/addresses/",
        {
            "label": "Office",
            "recipient": "Alice",
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
        expect=201,
    )
    call(alice_api, "POST", f"{api}/consent/addresses/", {"label": "Nowhere"}, expect=400)
    call(alice_api, "GET", f"{api}/consent/addresses/{office['id']}/", expect=200)
    call(alice_api, "POST", f"{api}/consent/addresses/{office['id']}/default/", expect=200)
    call(alice_api, "DELETE", f"{api}/consent/addresses/{office['id']}/", expect=204)
    # -- step-up -------------------------------------------------------------------------------------------
    call(alice_api, "GET", f"{api}/consent/step-up/", expect=200)
    call(alice_api, "POST", f"{api}/consent/step-up/enrol/", {}, expect=201)
    device = TOTPDevice.objects.get(user=shop.alice, confirmed=False)
    call(alice_api, "POST", f"{api}/consent/step-up/confirm/", {"code": "not a code"}, expect=400)
    call(alice_api, "POST", f"{api}/consent/step-up/confirm/", {"code": _code(device)}, expect=200)
    call(alice_api, "POST", f"{api}/consent/step-up/verify/", {"code": _code(device, 1)}, expect=200)
    call(alice_api, "GET", f"{api}/consent/step-up/", expect=200)  # verified: last_verified_at set
    # -- activity ------------------------------------------------------------------------------------------
    page = call(alice_api, "GET", f"{api}/activity/?limit=2", expect=200)
    assert page["results"] and page["next_before"], page
    call(alice_api, "GET", f"{api}/activity/?before={page['next_before']}", expect=200)
    call(alice_api, "GET", f"{api}/activity/?before=yesterday", expect=400)
    call(alice_api, "GET", f"{api}/activity/{page['results'][0]['id']}/", expect=200)

    # -- every operation: not signed in (403), an id that is not alice's (404), a body not an object (400) --
    ids = {
        "conversation_id": created["id"],
        "turn_id": turn["turn"]["id"],
        "flow_id": flow["id"],
        "grant_id": grant["id"],
        "payment_method_id": cards[0]["id"],
        "address_id": office["id"],
        "event_id": page["results"][0]["id"],
    }
    anonymous = APIClient()
    for (method, path), operation in record.contract.operations().items():
        body = VALID_BODIES.get(path, {}) if "requestBody" in operation else None
        call(anonymous, method, _filled(path, operation, ids), body, expect=403)
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            call(alice_api, method, _filled(path, operation, _unknown_ids(operation)), body, expect=404)
        if "requestBody" in operation:
            call(alice_api, method, _filled(path, operation, ids), "[1, 2]", expect=400)

    # -- too many: a new conversation, a message, a confirmation over their rates (429) -----------------
    settings.ORDERING_CONVERSATIONS_RATE = "1/hour"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"conversation_turns": "1/hour"}}
    cache.clear()
    call(alice_api, "POST", f"{api}/conversations/", expect=201)
    call(alice_api, "POST", f"{api}/conversations/", expect=429)
    call(alice_api, "POST", f"{conversation}/messages/", {"text": "hello"}, expect=202)
    call(alice_api, "POST", f"{conversation}/messages/", {"text": "hello"}, expect=429)
    call(
        alice_api, "POST", f"{conversation}/confirm/", {"preview_hash": preview_hash, "decision": "confirm"}, expect=429
    )


def test_every_answer_of_every_operation_matches_the_schema(shop, settings):  # noqa: F811
    # Throttles are exercised on purpose at the end; until then they must not interfere.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"conversation_turns": "10000/min"}}
    settings.ORDERING_CONVERSATIONS_RATE = "10000/min"
    cache.clear()
    contract = Contract(_generated_schema())
    record = Recorder(contract)
    alice_api = APIClient()
    alice_api.force_login(shop.alice)

    _journey(record, alice_api, shop, settings)

    assert not record.problems, "\n".join(record.problems[:30])
    missing = {
        f"{method} {path}": sorted(required_statuses(operation) - record.seen.get((method, path), set()))
        for (method, path), operation in contract.operations().items()
        if required_statuses(operation) - record.seen.get((method, path), set())
    }
    assert not missing, f"documented but never answered in this test: {missing}"


def test_every_operation_in_the_schema_is_exercised():
    """The journey above must reach each operation: this lists what it reaches, so an operation added to the
    API fails here (and in the journey) until the journey exercises it."""
    exercised = {
        ("POST", "/api/v1/conversations/"),
        ("GET", "/api/v1/conversations/{conversation_id}/"),
        ("POST", "/api/v1/conversations/{conversation_id}/messages/"),
        ("GET", "/api/v1/conversations/{conversation_id}/turns/{turn_id}/"),
        ("POST", "/api/v1/conversations/{conversation_id}/confirm/"),
        ("GET", "/api/v1/conversations/{conversation_id}/events/"),
        ("POST", "/api/v1/conversations/{conversation_id}/csat/"),
        ("GET", "/api/v1/flows/{flow_id}/"),
        ("GET", "/api/v1/consent/grants/"),
        ("POST", "/api/v1/consent/grants/"),
        ("GET", "/api/v1/consent/grants/{grant_id}/"),
        ("POST", "/api/v1/consent/grants/{grant_id}/revoke/"),
        ("GET", "/api/v1/consent/caps/"),
        ("PATCH", "/api/v1/consent/caps/"),
        ("GET", "/api/v1/consent/payment-methods/"),
        ("POST", "/api/v1/consent/payment-methods/"),
        ("GET", "/api/v1/consent/payment-methods/{payment_method_id}/"),
        ("DELETE", "/api/v1/consent/payment-methods/{payment_method_id}/"),
        ("POST", "/api/v1/consent/payment-methods/{payment_method_id}/default/"),
        ("GET", "/api/v1/consent/addresses/"),
        ("POST", "/api/v1/consent/addresses/"),
        ("GET", "/api/v1/consent/addresses/{address_id}/"),
        ("DELETE", "/api/v1/consent/addresses/{address_id}/"),
        ("POST", "/api/v1/consent/addresses/{address_id}/default/"),
        ("GET", "/api/v1/consent/step-up/"),
        ("POST", "/api/v1/consent/step-up/enrol/"),
        ("POST", "/api/v1/consent/step-up/confirm/"),
        ("POST", "/api/v1/consent/step-up/verify/"),
        ("GET", "/api/v1/activity/"),
        ("GET", "/api/v1/activity/{event_id}/"),
    }

    in_schema = set(Contract(_generated_schema()).operations())

    assert in_schema - exercised == set(), "operations in the schema that the response test does not exercise"
    assert exercised - in_schema == set(), "operations the response test lists that the schema no longer has"


def test_the_check_finds_an_undocumented_field_a_missing_one_a_wrong_type_and_an_undocumented_status():
    contract = Contract(_generated_schema())
    rating = {"score": 5, "comment": "quick"}
    url = f"/api/v1/conversations/{uuid.uuid4()}/csat/"

    assert contract.problems("POST", url, 201, rating) == []
    assert contract.problems("POST", url, 201, {**rating, "internal": 1}) != []
    assert contract.problems("POST", url, 201, {"score": 5}) != []
    assert contract.problems("POST", url, 201, {**rating, "score": "5"}) != []
    assert contract.problems("POST", url, 201, {**rating, "comment": None}) != []
    assert contract.problems("POST", url, 418, {"error": "teapot", "message": "no"}) != []
    assert contract.problems("GET", "/api/v1/flows/x/", 200, {"id": "x"}) != []
    assert contract.problems("GET", f"/api/v1/conversations/{uuid.uuid4()}/", 404, {"error": "not_found"}) != []


def test_a_message_stored_before_a_key_existed_renders_without_it_and_undeclared_keys_never_leave():
    from django.utils import timezone

    from config.api_contract import render
    from ordering.models import Message
    from ordering.serializers import MessageOut

    card = {"type": "product", "product_id": "prod_1", "title": "Blue Runner", "image_url": None, "price": 100}
    message = Message(
        pk=7,
        role="assistant",
        text="Here it is",
        created_at=timezone.now(),
        data={"kind": "products", "cards": [{**card, "internal_score": 0.9}], "quick_replies": [{"label": "Yes"}]},
    )

    rendered = render(MessageOut, message)

    assert rendered["cards"] == [card]  # currency, price_display, variant: not written then, left out now
    assert rendered["quick_replies"] == [{"label": "Yes"}]
    assert rendered["created_at"].endswith("Z")
