"""The official ACP 2026-04-17 wire: what the sandbox declares, and requests checked against the spec's schemas.

The request schemas are the spec's own (`spec/schema.agentic_checkout.json` and `spec/schema.delegate_payment.json`,
copies of the official JSON schemas, Apache-2.0, see spec/NOTICE). A request that does not validate is a 400
`invalid_request` naming the first offending field as a JSONPath; the few leniencies the sandbox allows
(docs/sandbox-merchant-wire.md, "Leniencies") are taken out of the body before it is checked.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from django.conf import settings

from sandbox_merchant.errors import InvalidRequest

PROTOCOL_VERSION = "2026-04-17"
SPEC_DIR = Path(__file__).resolve().parent / "spec"
_BUNDLES = {"agentic_checkout": "schema.agentic_checkout.json", "delegate_payment": "schema.delegate_payment.json"}

# The one payment handler the sandbox offers (docs/sandbox-merchant-wire.md, "Payment handler"): a card
# delegated to the sandbox's vault (POST /agentic_commerce/delegate_payment), spent once as an `spt` credential.
PAYMENT_HANDLER_ID = "card_tokenized"
PAYMENT_HANDLER_NAME = "dev.acp.tokenized.card"
CREDENTIAL_TYPES = ("spt",)
CARD_HANDLER_CONFIG_SCHEMA = "https://acp.dev/schemas/handlers/tokenized.card/config.json"
_SPEC_BASE = "https://agenticcommerce.dev/spec/2026-04-17"

# What the sandbox can handle when the agent also can (the session answers the intersection).
MERCHANT_INTERVENTIONS = ("3ds",)
DISCOUNT_EXTENSION = {
    "name": "discount",
    "extends": [
        "$.CheckoutSessionCreateRequest.discounts",
        "$.CheckoutSessionUpdateRequest.discounts",
        "$.CheckoutSession.discounts",
    ],
    "spec": f"{_SPEC_BASE}/rfcs/rfc.discount_extension.md",
}


def payment_handler(*, public_base_url: str) -> dict:
    return {
        "id": PAYMENT_HANDLER_ID,
        "name": PAYMENT_HANDLER_NAME,
        "display_name": "Card (sandbox vault)",
        "version": PROTOCOL_VERSION,
        "spec": f"{_SPEC_BASE}/rfcs/rfc.payment_handlers.md",
        "requires_delegate_payment": True,
        "requires_pci_compliance": False,
        "psp": "sandbox",
        "config_schema": CARD_HANDLER_CONFIG_SCHEMA,
        "instrument_schemas": [f"{_SPEC_BASE}/json-schema/schema.delegate_payment.json#/$defs/PaymentMethodCard"],
        # The dev.acp.tokenized.card config (rfc.payment_handlers §10.4.1): merchant_id, psp and accepted_brands are
        # required and nothing else is allowed (additionalProperties: false). Credentials are `spt` (the handler's
        # tokenized pattern, §7.1-7.2); delegate_payment is at the merchant's own base URL. The brands are the
        # shop's setting (by default those of its test cards, rules.TEST_CARD_NUMBERS); complete holds to them.
        "config": {
            "merchant_id": settings.SANDBOX_MERCHANT_ID,
            "psp": "sandbox",
            "accepted_brands": list(settings.SANDBOX_MERCHANT_ACCEPTED_BRANDS),
            "supports_3ds": True,
            "environment": "sandbox",
        },
    }


def session_capabilities(*, agent: dict | None, public_base_url: str) -> dict:
    """The merchant's capabilities for one session: its handlers, the interventions both sides support,
    and its extensions as declaration objects."""
    declared = ((agent or {}).get("interventions") or {}).get("supported") or []
    interventions: dict[str, Any] = {"supported": [name for name in MERCHANT_INTERVENTIONS if name in declared]}
    display_context = ((agent or {}).get("interventions") or {}).get("display_context")
    if "3ds" in interventions["supported"] and display_context in ("webview", "redirect", "modal", "native"):
        interventions["display_context"] = display_context
    return {
        "payment": {"handlers": [payment_handler(public_base_url=public_base_url)]},
        "interventions": interventions,
        "extensions": [dict(DISCOUNT_EXTENSION)],
    }


# -- request validation ------------------------------------------------------------------------------


@cache
def intervention_enums() -> dict[str, frozenset[str]]:
    """The closed enums of the spec's InterventionCapabilities, by field (supported, display_context, ...)."""
    schema = json.loads((SPEC_DIR / _BUNDLES["agentic_checkout"]).read_text())
    enums = {}
    for name, definition in schema["$defs"]["InterventionCapabilities"]["properties"].items():
        values = definition.get("enum") or (definition.get("items") or {}).get("enum")
        if values:
            enums[name] = frozenset(values)
    return enums


@cache
def _validator(definition: str, bundle: str, read_here: tuple[str, ...] = ()) -> jsonschema.Draft202012Validator:
    schema = json.loads((SPEC_DIR / _BUNDLES[bundle]).read_text())
    root = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    if read_here:
        # Fields the caller reads itself, with its own errors: the schema only asks that they be objects.
        target = schema["$defs"][definition]
        properties = {**target["properties"], **{name: {"type": "object"} for name in read_here}}
        root = {"$schema": schema["$schema"], "$defs": schema["$defs"], **target, "properties": properties}
    # An e-mail the spec marks `format: email` is checked (a buyer's "useratexample.com" was taken, then answered
    # back in a session that broke the spec's own response schema). Only e-mail: the other formats' checks depend
    # on optional packages, and a date-time or URI the shop keeps is its own.
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker(formats=("email",)))


def _json_path(path) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _first_error(
    instance: Any, definition: str, bundle: str, read_here: tuple[str, ...]
) -> jsonschema.ValidationError | None:
    errors = list(_validator(definition, bundle, read_here).iter_errors(instance))
    if not errors:
        return None
    return jsonschema.exceptions.best_match(errors)


def schema_check(
    instance: Any,
    definition: str,
    *,
    bundle: str = "agentic_checkout",
    code: str = "invalid",
    read_here: tuple[str, ...] = (),
) -> None:
    """Raise InvalidRequest for the first way `instance` breaks the official `definition`, with its JSONPath.

    `read_here`: properties the caller reads and checks itself; here they need only be objects."""
    error = _first_error(instance, definition, bundle, read_here)
    if error is None:
        return
    path = list(error.absolute_path)
    # Descend into an anyOf/oneOf to name the field that is really wrong.
    while error.context:
        deeper = jsonschema.exceptions.best_match(error.context)
        if deeper is None:
            break
        error = deeper
        path = list(error.absolute_path)
    message = error.message[:300]
    error_code = code
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            path.append(missing[0])
            message = f"{missing[0]} is required."
            error_code = "missing" if code == "invalid" else code
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema or {}).get("properties") or {})
        extra = sorted(name for name in error.instance if name not in allowed)
        if extra:
            path.append(extra[0])
            message = f"{extra[0]} is not a field of this object."
    raise InvalidRequest(message, param=_json_path(path), code=error_code)
