"""The official ACP 2026-04-17 JSON schemas and examples (vendored in tests/contract/acp_spec/), for tests.

    from tests.support.acp_schema import assert_valid, schema_errors, example

    assert_valid(body, "CheckoutSession")                      # schema.agentic_checkout.json#/$defs/...
    assert_valid(body, "DelegatePaymentRequest", bundle="delegate_payment")
    assert_valid(event, "WebhookEvent")                         # the webhook OpenAPI's event, see below
    example("get_checkout_session_response")                     # examples.agentic_checkout.json
    example("create_multi_item_checkout_response", file="examples.multi_item_checkout.json")
    order_examples()                                             # examples/orders/*.json, as dicts

Validation is JSON Schema 2020-12 with format checks off (as the spec's own examples need), so
`additionalProperties: false`, required fields, enums and types are what is checked.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SPEC_DIR = Path(__file__).resolve().parents[1] / "contract" / "acp_spec"
SCHEMA_DIR = SPEC_DIR / "json-schema"
OPENAPI_DIR = SPEC_DIR / "openapi"
EXAMPLES_DIR = SPEC_DIR / "examples"

BUNDLES = {
    "agentic_checkout": "schema.agentic_checkout.json",
    "delegate_payment": "schema.delegate_payment.json",
    "delegate_authentication": "schema.delegate_authentication.json",
    "discount": "schema.discount.json",
    "extension": "schema.extension.json",
}


@cache
def _bundle(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / BUNDLES[name]).read_text())


def _webhook_event_schema() -> dict[str, Any]:
    # openapi.agentic_checkout_webhook.yaml: WebhookEvent {type, data: EventDataOrder}, where
    # EventDataOrder is the checkout spec's Order with type, checkout_session_id, permalink_url and
    # status required. Written out here against the JSON-schema bundle's Order (same definition).
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "type": {"type": "string"},
            "data": {
                "allOf": [{"$ref": "#/$defs/Order"}],
                "required": ["type", "checkout_session_id", "permalink_url", "status"],
            },
        },
        "required": ["type", "data"],
    }


@cache
def validator(definition: str, bundle: str = "agentic_checkout") -> jsonschema.Draft202012Validator:
    schema = _bundle(bundle)
    root = {"$schema": schema["$schema"], "$defs": schema["$defs"]}
    if definition == "WebhookEvent" and bundle == "agentic_checkout":
        root.update(_webhook_event_schema())
    else:
        if definition not in schema["$defs"]:
            raise KeyError(f"{BUNDLES[bundle]} has no $defs/{definition}")
        root["$ref"] = f"#/$defs/{definition}"
    return jsonschema.Draft202012Validator(root)


def schema_errors(instance: Any, definition: str, bundle: str = "agentic_checkout") -> list[str]:
    """Each problem as '<json path>: <message>' (empty when the instance conforms)."""
    problems = []
    for error in sorted(validator(definition, bundle).iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        problems.append(f"{path}: {error.message[:300]}")
    return problems


def assert_valid(instance: Any, definition: str, bundle: str = "agentic_checkout") -> None:
    problems = schema_errors(instance, definition, bundle)
    assert not problems, f"not a valid ACP 2026-04-17 {definition}:\n  " + "\n  ".join(problems)


@cache
def _examples(file: str) -> dict[str, Any]:
    return json.loads((EXAMPLES_DIR / file).read_text())


def example(name: str, file: str = "examples.agentic_checkout.json") -> Any:
    """One named official example (a fresh copy, safe to modify)."""
    return json.loads(json.dumps(_examples(file)[name]))


def example_names(file: str = "examples.agentic_checkout.json") -> list[str]:
    return list(_examples(file))


def order_examples() -> dict[str, dict[str, Any]]:
    """examples/orders/*.json by file stem, without their `$schema` and `_description` notes."""
    orders = {}
    for path in sorted((EXAMPLES_DIR / "orders").glob("*.json")):
        data = json.loads(path.read_text())
        orders[path.stem] = {key: value for key, value in data.items() if key not in ("$schema", "_description")}
    return orders
