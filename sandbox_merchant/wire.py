"""Reading request bodies into typed values, for the views to hand to services.

Malformed input is a protocol error (400 `invalid_request` with the JSONPath of the bad field);
anything a buyer can fix later is a message in the session instead (services decide those).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sandbox_merchant.errors import CardInvalid, InvalidRequest
from sandbox_merchant.models import FaultKind, FaultOperation

_CURRENCY = re.compile(r"^[a-z]{3}$")
_DIGITS_ONLY = re.compile(r"^[0-9]+$")  # str.isdigit() also takes "²", which int() refuses
MISSING = object()

# The largest whole numbers the sandbox keeps, by their columns: a count (a line's quantity, a variant's stock, a fault
# rule's times and delay_ms) is a PostgreSQL `integer`, an amount in minor units a `bigint`. A request beyond them is
# refused here, before any arithmetic or write (a larger one reached the database and answered 500); a quantity
# below COUNT_MAX is still answered by the stock (out_of_stock), as any other.
COUNT_MAX = 2**31 - 1
AMOUNT_MAX = 2**63 - 1


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_moment(value: object, *, param: str) -> datetime:
    """The moment in UTC. Well-formed but impossible (month 13, an offset of 99 hours) is refused like malformed, and
    so is a moment UTC cannot hold (9999-12-31T23:00:00-05:00): stored, it could not be read back."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidRequest("Expected an RFC 3339 date-time.", param=param)
    if timezone.is_naive(moment):
        raise InvalidRequest("The date-time needs a time zone (e.g. Z).", param=param)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidRequest("The date-time is out of range.", param=param) from None


def _string(value: object, *, param: str, max_length: int = 255) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidRequest(f"Expected a non-empty string of at most {max_length} characters.", param=param)
    return value.strip()


def _positive_int(value: object, *, param: str, maximum: int) -> int:
    # bool is an int in Python; a JSON true is not a quantity. A number with no fraction (2.0, 2e0) is the integer
    # it spells, as JSON Schema's `integer` and the idempotency fingerprint (rfc.agentic_checkout §6.2) take it.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= maximum:
        raise InvalidRequest(f"Expected a positive integer of at most {maximum}.", param=param)
    return value


def _currency(value: object, *, param: str) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise InvalidRequest("Expected a lower-case ISO 4217 currency code, e.g. usd.", param=param)
    return value


@dataclass(frozen=True)
class CheckoutRequest:
    """A create or update. A field left as MISSING keeps its current value on update."""

    line_items: list[tuple[str, int]] | object
    currency: str | object
    buyer: dict | object | None
    fulfillment_details: dict | object | None
    selected_fulfillment_options: list[dict] | object
    discount_codes: list[str] | object
    capabilities: dict | object = MISSING

    @classmethod
    def only(cls, **fields: object) -> CheckoutRequest:
        """A request that changes only `fields`, every other field left MISSING."""
        names = ("line_items", "currency", "buyer", "fulfillment_details", "selected_fulfillment_options")
        values: dict[str, object] = {name: MISSING for name in (*names, "discount_codes")}
        return cls(**{**values, **fields})  # type: ignore[arg-type]


def _group_items(raw_lines: object) -> list[tuple[str, int]] | None:
    """Official `Item`s, one per unit: equal ids become one line with a quantity, in first-seen order.

    Leniency: an item may carry a positive integer `quantity` (the pre-2026 shape); it counts as that
    many repeats. Returns None when the list is not a list (the schema check names the problem).
    """
    if not isinstance(raw_lines, list):
        return None
    merged: dict[str, int] = {}
    for index, raw in enumerate(raw_lines):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            return None
        variant_id = _string(raw["id"], param=f"$.line_items[{index}].id", max_length=64)
        param = f"$.line_items[{index}].quantity"
        quantity = _positive_int(raw.get("quantity", 1), param=param, maximum=COUNT_MAX)
        merged[variant_id] = merged.get(variant_id, 0) + quantity
        if merged[variant_id] > COUNT_MAX:
            raise InvalidRequest(f"At most {COUNT_MAX} units of one variant in all.", param=param)
    return list(merged.items())


def _without_unknown_capability_values(capabilities: object) -> object:
    """The agent's capabilities without the enum values this version does not know.

    rfc.capability_negotiation §4.6.2 (and §6.4, §10): implementations MUST ignore unknown capability values, so an
    agent of a later version declaring `supported: ["3ds", "<new>"]` or a new `display_context` is not refused; the
    schema's closed enums would refuse it. A known value is kept; a wrong type is left for the schema check to name.
    """
    from sandbox_merchant.acp import intervention_enums

    if not isinstance(capabilities, dict) or not isinstance(capabilities.get("interventions"), dict):
        return capabilities
    interventions = dict(capabilities["interventions"])
    for name, known in intervention_enums().items():
        value = interventions.get(name)
        if isinstance(value, list):
            interventions[name] = [item for item in value if not isinstance(item, str) or item in known]
        elif isinstance(value, str) and value not in known:
            del interventions[name]
    return {**capabilities, "interventions": interventions}


def _without_leniencies(body: dict, *, creating: bool) -> dict:
    """The body as the official schema sees it, once the documented leniencies are taken out."""
    nullable = ("buyer", "fulfillment_details", "discounts")  # leniency: null means "not given" / "clear"
    checked = {key: value for key, value in body.items() if value is not None or key not in nullable}
    if isinstance(checked.get("line_items"), list):
        checked["line_items"] = [
            {key: value for key, value in item.items() if key != "quantity"} if isinstance(item, dict) else item
            for item in checked["line_items"]
        ]
    if creating:
        checked.setdefault("currency", "usd")
        checked.setdefault("capabilities", {})
        checked["capabilities"] = _without_unknown_capability_values(checked["capabilities"])
        checked.pop("selected_fulfillment_options", None)  # validated below, as on update
    if isinstance(checked.get("selected_fulfillment_options"), list):
        checked["selected_fulfillment_options"] = [
            {"item_ids": [], **item} if isinstance(item, dict) else item
            for item in checked["selected_fulfillment_options"]
        ]
    return checked


def parse_checkout_request(body: dict, *, creating: bool) -> CheckoutRequest:
    from sandbox_merchant.acp import schema_check

    grouped = _group_items(body["line_items"]) if "line_items" in body else None
    schema_check(
        _without_leniencies(body, creating=creating),
        "CheckoutSessionCreateRequest" if creating else "CheckoutSessionUpdateRequest",
    )
    if creating and "selected_fulfillment_options" in body:
        schema_check(
            _without_leniencies({"selected_fulfillment_options": body["selected_fulfillment_options"]}, creating=False),
            "CheckoutSessionUpdateRequest",
        )

    line_items: list[tuple[str, int]] | object = MISSING
    if "line_items" in body:
        line_items = grouped or []
    if creating and (line_items is MISSING or not line_items):
        raise InvalidRequest("A checkout session needs at least one line item.", param="$.line_items", code="missing")

    currency: str | object = MISSING
    if "currency" in body:
        # CheckoutSessionCreateRequest.currency has no pattern and RFC §8 only recommends lower case: USD is usd.
        raw = body["currency"]
        currency = _currency(raw.lower() if isinstance(raw, str) and raw.isascii() else raw, param="$.currency")
        if currency != "usd":
            raise InvalidRequest("The sandbox sells in usd only.", param="$.currency", code="unsupported_currency")

    buyer: dict | object | None = MISSING
    if "buyer" in body:
        buyer = body["buyer"]  # None (leniency) clears it
        if buyer is not None:
            _string(buyer["email"], param="$.buyer.email")

    fulfillment_details: dict | object | None = MISSING
    if "fulfillment_details" in body:
        fulfillment_details = body["fulfillment_details"]

    selected: list[dict] | object = MISSING
    if "selected_fulfillment_options" in body:
        selected = [
            {"type": raw["type"], "option_id": raw["option_id"], "item_ids": list(raw.get("item_ids") or [])}
            for raw in body["selected_fulfillment_options"]
        ]

    codes: list[str] | object = MISSING
    if "discounts" in body or "coupons" in body:
        raw_codes = list((body.get("discounts") or {}).get("codes") or []) + list(body.get("coupons") or [])
        codes = [
            _string(code, param=f"$.discounts.codes[{index}]", max_length=64) for index, code in enumerate(raw_codes)
        ]

    return CheckoutRequest(
        line_items=line_items,
        currency=currency,
        buyer=buyer,
        fulfillment_details=fulfillment_details,
        selected_fulfillment_options=selected,
        discount_codes=codes,
        capabilities=body.get("capabilities") or {} if creating else MISSING,
    )


@dataclass(frozen=True)
class CompleteRequest:
    token: str
    # The ACP AuthenticationResult the client completes with, if any: its outcome and outcome_details.
    authentication_outcome: str | None = None
    authentication_details: dict | None = None
    # The final buyer (CheckoutSessionCompleteRequest.buyer), applied as an update would before anything is charged.
    buyer: dict | None = None

    @property
    def authenticated(self) -> bool:
        return self.authentication_outcome == "authenticated"


def parse_complete_request(body: dict) -> CompleteRequest:
    from sandbox_merchant.acp import CREDENTIAL_TYPES, PAYMENT_HANDLER_ID, schema_check

    payment_data = body.get("payment_data")
    if isinstance(payment_data, dict) and not {"handler_id", "purchase_order_number"} & set(payment_data):
        # The pre-2026 {token, provider} shape lands here: name the field the current shape needs.
        raise InvalidRequest(
            "payment_data needs handler_id and instrument (see the session's capabilities.payment.handlers).",
            param="$.payment_data.handler_id",
            code="missing",
        )
    # No leniency for authentication_result: an `authenticated` outcome without the issuer's outcome_details is
    # refused here (400), never filled in; what it says is then checked against the issuer's record (services).
    schema_check(body, "CheckoutSessionCompleteRequest")
    if "handler_id" not in payment_data:
        raise InvalidRequest(
            "The sandbox takes card payments only; purchase orders are not supported.",
            param="$.payment_data.handler_id",
            code="missing",
        )
    if payment_data["handler_id"] != PAYMENT_HANDLER_ID:
        raise InvalidRequest(
            f"Unknown payment handler; this merchant offers {PAYMENT_HANDLER_ID}.",
            param="$.payment_data.handler_id",
            code="invalid",
        )
    if "instrument" not in payment_data:
        raise InvalidRequest("instrument is required.", param="$.payment_data.instrument", code="missing")
    # The handler's instrument is a card (its instrument_schemas: PaymentMethodCard) and it takes the credential types
    # its config advertises: a token minted by delegate_payment, never a card number sent here.
    instrument = payment_data["instrument"]
    if instrument["type"] != "card":
        raise InvalidRequest(
            f"The {PAYMENT_HANDLER_ID} handler takes a card instrument.", param="$.payment_data.instrument.type"
        )
    if instrument["credential"]["type"] not in CREDENTIAL_TYPES:
        raise InvalidRequest(
            f"The {PAYMENT_HANDLER_ID} handler takes credentials of type {', '.join(CREDENTIAL_TYPES)} (a token from "
            "delegate_payment).",
            param="$.payment_data.instrument.credential.type",
        )
    token = _string(
        instrument["credential"]["token"],
        param="$.payment_data.instrument.credential.token",
        max_length=64,
    )
    buyer = body.get("buyer")
    if buyer is not None:
        _string(buyer["email"], param="$.buyer.email")
    authentication = body.get("authentication_result")
    return CompleteRequest(
        token=token,
        authentication_outcome=authentication["outcome"] if authentication else None,
        authentication_details=(authentication or {}).get("outcome_details"),
        buyer=buyer,
    )


@dataclass(frozen=True)
class AuthenticationCreateRequest:
    checkout_session_id: str
    challenge_notification_url: str


def parse_authentication_create_request(body: dict) -> AuthenticationCreateRequest:
    """POST /delegate_authentication: the session to authenticate and where the issuer sends the shopper back.

    The card is the one the session's last payment token delegated (the sandbox never sees a card
    number), so the RFC's `payment_method` and `amount` are taken from the session, not the body.
    """
    notification_url = _string(
        body.get("challenge_notification_url"), param="$.challenge_notification_url", max_length=500
    )
    if not notification_url.startswith(("https://", "http://")):
        raise InvalidRequest("challenge_notification_url must be an http(s) URL.", param="$.challenge_notification_url")
    return AuthenticationCreateRequest(
        checkout_session_id=_string(body.get("checkout_session_id"), param="$.checkout_session_id", max_length=64),
        challenge_notification_url=notification_url,
    )


@dataclass(frozen=True)
class PresentedCard:
    """A card number a delegate_payment carried (`card_number_type: fpan`), as the vault may keep it: one of the
    sandbox's test numbers (rules.TEST_CARD_NUMBERS) reduced to its brand, behaviour, last four digits and expiry.
    The number and the CVC are read once, checked, and not kept here or anywhere."""

    brand: str
    behaviour: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class DelegatePaymentRequest:
    vault_reference: str  # "" when the card was presented by its number (`presented`)
    max_amount: int
    currency: str
    checkout_session_id: str
    merchant_id: str
    expires_at: datetime
    metadata: dict
    vault_reference_param: str = "$.payment_method.metadata.vault_reference"  # where it was read, for errors
    presented: PresentedCard | None = None


def vault_reference_in(payment_method: dict) -> tuple[object, str]:
    """The sandbox vault card a delegate_payment names by reference, and where it was read (for the error's param).

    The extension for a card already vaulted (what our client sends: it never holds a card number): the official
    card object has no field for a vault reference, so it travels where the schema allows one,
    `metadata.vault_reference`, or as a network token, `number` with `card_number_type: "network_token"`. The older
    `payment_method.vault_reference` is still read. (None, ...) when the card is given by its number instead: an
    `fpan`, or a network token that is one of the sandbox's test card numbers.
    """
    from sandbox_merchant.rules import TEST_CARD_NUMBERS

    metadata = payment_method.get("metadata")
    if isinstance(metadata, dict) and metadata.get("vault_reference") is not None:
        return metadata["vault_reference"], "$.payment_method.metadata.vault_reference"
    number = payment_method.get("number")
    if (
        payment_method.get("card_number_type") == "network_token"
        and number is not None
        and number not in TEST_CARD_NUMBERS
    ):
        return number, "$.payment_method.number"
    if payment_method.get("vault_reference") is not None:
        return payment_method["vault_reference"], "$.payment_method.vault_reference"
    return None, "$.payment_method.number"


_DIGITS = re.compile(r"^[0-9]{12,19}$")
_EXP_MONTH = re.compile(r"^(0?[1-9]|1[0-2])$")
_EXP_YEAR = re.compile(r"^[0-9]{4}$")
_CVC = re.compile(r"^[0-9]{3,4}$")


def _card_expiry(payment_method: dict) -> tuple[int, int] | None:
    """The card's (month, year) when given, checked as the spec's own 422 example does (month 13 is invalid)."""
    month, year = payment_method.get("exp_month"), payment_method.get("exp_year")
    if month is None and year is None:
        return None
    if month is None:
        raise CardInvalid("A card number needs its expiration month (exp_month).", param="$.payment_method.exp_month")
    if year is None:
        raise CardInvalid("A card number needs its expiration year (exp_year).", param="$.payment_method.exp_year")
    if not isinstance(month, str) or not _EXP_MONTH.match(month):
        raise CardInvalid("Invalid card expiration month (01 to 12).", param="$.payment_method.exp_month")
    if not isinstance(year, str) or not _EXP_YEAR.match(year):
        raise CardInvalid("Invalid card expiration year (four digits).", param="$.payment_method.exp_year")
    today = timezone.now().date()
    if (int(year), int(month)) < (today.year, today.month):
        raise CardInvalid("The card has expired.", param="$.payment_method.exp_year")
    return int(month), int(year)


def _presented_card(payment_method: dict) -> PresentedCard:
    """The test card a number names. Never echoes the number (or the CVC) in an error: answers are stored."""
    from sandbox_merchant.rules import TEST_CARD_NUMBERS, card_number_luhn_valid

    if payment_method.get("card_number_type") not in ("fpan", "network_token"):
        raise InvalidRequest(
            "card_number_type must be fpan or network_token.", param="$.payment_method.card_number_type"
        )
    number = payment_method.get("number")
    if number is None:
        raise InvalidRequest(
            "A card is named by its number (or, as the sandbox's extension, by metadata.vault_reference).",
            param="$.payment_method.number",
            code="missing",
        )
    if not isinstance(number, str) or not _DIGITS.match(number) or not card_number_luhn_valid(number):
        raise InvalidRequest("Invalid card number.", param="$.payment_method.number")
    if number not in TEST_CARD_NUMBERS:
        raise CardInvalid(
            "This card number is not one of the sandbox's test cards (docs/sandbox-merchant-wire.md lists them); "
            "no real card is charged here.",
            param="$.payment_method.number",
        )
    cvc = payment_method.get("cvc")
    if cvc is not None and (not isinstance(cvc, str) or not _CVC.match(cvc)):
        raise CardInvalid("Invalid card security code (3 or 4 digits).", param="$.payment_method.cvc")
    last4 = payment_method.get("display_last4")
    if last4 is not None and last4 != number[-4:]:
        raise CardInvalid(
            "display_last4 is not the card number's last four digits.", param="$.payment_method.display_last4"
        )
    expiry = _card_expiry(payment_method)
    if expiry is None:
        raise CardInvalid("A card number needs its expiration month (exp_month).", param="$.payment_method.exp_month")
    brand, behaviour = TEST_CARD_NUMBERS[number]
    return PresentedCard(brand=brand, behaviour=behaviour, last4=number[-4:], exp_month=expiry[0], exp_year=expiry[1])


def parse_delegate_payment_request(body: dict) -> DelegatePaymentRequest:
    from sandbox_merchant.acp import schema_check

    # The official DelegatePaymentRequest: its fields, risk_signals and metadata required, each risk signal, the
    # billing address and metadata's string values. The card and the allowance are read below (the vault-reference
    # extension, and the spec's 422 for a well-formed card the sandbox cannot take), so the schema only asks that
    # they be objects.
    schema_check(
        body,
        "DelegatePaymentRequest",
        bundle="delegate_payment",
        read_here=("payment_method", "allowance"),
    )
    payment_method = body["payment_method"]
    if payment_method.get("type") != "card":
        raise InvalidRequest("Only card payment methods are supported.", param="$.payment_method.type")
    reference, param = vault_reference_in(payment_method)
    presented = None
    if reference is None:
        presented = _presented_card(payment_method)
        vault_reference = ""
    else:
        vault_reference = _string(reference, param=param, max_length=64)
        _card_expiry(payment_method)
    allowance = body["allowance"]
    if allowance.get("reason") != "one_time":
        raise InvalidRequest("Only one_time allowances are supported.", param="$.allowance.reason")
    expires_at = parse_moment(allowance.get("expires_at"), param="$.allowance.expires_at")
    if expires_at <= timezone.now():
        raise InvalidRequest("The allowance has already expired.", param="$.allowance.expires_at")
    return DelegatePaymentRequest(
        vault_reference=vault_reference,
        vault_reference_param=param,
        presented=presented,
        max_amount=_positive_int(allowance.get("max_amount"), param="$.allowance.max_amount", maximum=AMOUNT_MAX),
        currency=_currency(allowance.get("currency"), param="$.allowance.currency"),
        checkout_session_id=_string(
            allowance.get("checkout_session_id"), param="$.allowance.checkout_session_id", max_length=64
        ),
        merchant_id=_string(allowance.get("merchant_id"), param="$.allowance.merchant_id", max_length=64),
        expires_at=expires_at,
        metadata=body["metadata"],
    )


def parse_reason(body: dict) -> str:
    reason = body.get("reason")
    if reason is None:
        return ""
    return _string(reason, param="$.reason", max_length=200)


def parse_refund_request(body: dict) -> int | None:
    if body.get("amount") is None:
        return None
    return _positive_int(body["amount"], param="$.amount", maximum=AMOUNT_MAX)


@dataclass(frozen=True)
class FaultSpec:
    kind: str
    operation: str
    customer_id: str
    vault_reference: str
    times: int | None
    delay_ms: int | None


def _optional_count(value: object, *, param: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= COUNT_MAX:
        raise InvalidRequest(f"Expected a whole number from 0 to {COUNT_MAX}.", param=param)
    return value


def parse_fault_request(body: dict) -> FaultSpec:
    kind = body.get("kind")
    if kind not in FaultKind.values:
        raise InvalidRequest(f"kind must be one of {', '.join(FaultKind.values)}.", param="$.kind")
    operation = body.get("operation") or FaultOperation.ANY
    if operation not in FaultOperation.values:
        raise InvalidRequest(f"operation must be one of {', '.join(FaultOperation.values)}.", param="$.operation")
    times = _optional_count(body.get("times"), param="$.times")
    if times == 0:
        raise InvalidRequest("times must be at least 1 (leave it out for a rule that never runs out).", param="$.times")
    return FaultSpec(
        kind=kind,
        operation=operation,
        customer_id=str(body.get("customer_id") or ""),
        vault_reference=str(body.get("vault_reference") or ""),
        times=times,
        delay_ms=_optional_count(body.get("delay_ms"), param="$.delay_ms"),
    )


@dataclass(frozen=True)
class FaultHeader:
    kind: str
    times: int | None
    delay_ms: int | None


def parse_fault_header(value: str | None) -> FaultHeader | None:
    """`Sandbox-Fault: <kind>[;times=<n>][;delay_ms=<n>]`."""
    if not value:
        return None
    kind, *options = (part.strip() for part in value.split(";"))
    if kind not in FaultKind.values:
        raise InvalidRequest(f"Sandbox-Fault kind must be one of {', '.join(FaultKind.values)}.", code="invalid_fault")
    parsed: dict[str, int] = {}
    for option in options:
        name, _, raw = option.partition("=")
        if name.strip() not in ("times", "delay_ms") or not _DIGITS_ONLY.match(raw.strip()) or int(raw) > COUNT_MAX:
            raise InvalidRequest(
                f"Sandbox-Fault option {option!r} is not times=<n> or delay_ms=<n> (n at most {COUNT_MAX}).",
                code="invalid_fault",
            )
        parsed[name.strip()] = int(raw)
    if parsed.get("times") == 0:
        raise InvalidRequest("Sandbox-Fault times must be at least 1.", code="invalid_fault")
    return FaultHeader(kind=kind, times=parsed.get("times"), delay_ms=parsed.get("delay_ms"))


# RFC 9110 §12.5.4: `Accept-Language: da, en-GB;q=0.8, en;q=0.7`; a language range is RFC 4647's (1-8 letters, then
# "-" and 1-8 letters or digits per subtag) or "*", its weight a qvalue (0 to 1, three decimals at most).
_LANGUAGE_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")


def locale_negotiate(accept_language: str, *, supported: list[str]) -> str:
    """The one of `supported` (the first is the default) that an `Accept-Language` header asks for most.

    Ranges are tried by weight, then in the order written: a supported tag equal to the range, else one that the
    range, cut short one subtag at a time, covers (RFC 4647 basic filtering: "en" covers "en-US"; so "en-GB" is
    answered in "en-US" when that is the English on offer); "*" is the default. A header that names nothing
    supported, or that is malformed, gets the default: the answer is still served (RFC 9110 allows disregarding
    the header rather than answering 406), and Content-Language says in what.
    """
    default = supported[0]
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        language_range, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q" and _QVALUE.match(value.strip()):
                weight = float(value)
        if _LANGUAGE_RANGE.match(language_range) and weight > 0:
            weighted.append((-weight, position, language_range.lower()))
    by_lower = {tag.lower(): tag for tag in supported}
    for _, _, language_range in sorted(weighted):
        if language_range == "*":
            return default
        subtags = language_range.split("-")
        while subtags:
            prefix = "-".join(subtags)
            covered = [tag for lower, tag in by_lower.items() if lower == prefix or lower.startswith(f"{prefix}-")]
            if covered:
                return by_lower.get(prefix) or covered[0]
            subtags.pop()
    return default
