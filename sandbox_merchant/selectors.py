"""Reads: stock availability, catalog search, customers, sessions and orders as wire representations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from sandbox_merchant import compiled
from sandbox_merchant.errors import InvalidRequest, NotFound
from sandbox_merchant.models import (
    OPEN_CHECKOUT_STATUSES,
    CheckoutLine,
    CheckoutSession,
    CheckoutStatus,
    Customer,
    FaultOperation,
    FaultRule,
    IssuerChallenge,
    IssuerChallengeStatus,
    Order,
    Product,
    ProductImage,
    Promotion,
    ReceivedRequest,
    SavedItem,
    SavedItemKind,
    Variant,
    VaultToken,
)
from sandbox_merchant.rules import (
    authentication_metadata,
    order_line,
    order_reference,
    order_status,
    session_contents,
)
from sandbox_merchant.wire import parse_moment, rfc3339, vault_reference_in

# -- stock -------------------------------------------------------------------------------------------


def live_reservations(*, now: datetime) -> QuerySet[CheckoutLine]:
    """Lines that hold stock now: their session is open and not past its expiry.

    Expiry is applied here, at read time, so a session nobody touched since it lapsed stops
    holding stock at once, before the sweeper gets round to marking it expired.
    """
    return CheckoutLine.objects.filter(
        reserved_quantity__gt=0, session__status__in=OPEN_CHECKOUT_STATUSES, session__expires_at__gt=now
    )


def reserved_quantities(
    *, variant_ids: Iterable[str], now: datetime, exclude_session_id: str | None = None
) -> dict[str, int]:
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    excluding = bool(exclude_session_id)

    def build() -> QuerySet:
        lines = live_reservations(now=compiled.moment("now")).filter(
            variant_id__in=[compiled.text(f"v{index}") for index in range(len(ids))]
        )
        if excluding:
            lines = lines.exclude(session_id=compiled.text("session"))
        return lines.values_list("variant_id").annotate(held=Sum("reserved_quantity")).values_list("variant_id", "held")

    values = {f"v{index}": variant_id for index, variant_id in enumerate(ids)}
    if excluding:
        values["session"] = exclude_session_id
    return dict(compiled.tuples(("reserved", len(ids), excluding), build, now=now, **values))


def variant_available(*, variant_id: str, now: datetime | None = None) -> int:
    now = now or timezone.now()
    variant = Variant.objects.get(id=variant_id)
    held = reserved_quantities(variant_ids=[variant_id], now=now).get(variant_id, 0)
    return max(variant.stock - held, 0)


# -- catalog -----------------------------------------------------------------------------------------


def _money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def _product_representation(product: Product, *, held: dict[str, int]) -> dict:
    images = list(product.images.all())
    return {
        "id": product.id,
        "title": product.title,
        "description": product.description,
        "category": product.category,
        "brand": product.brand,
        "image_url": images[0].url if images else None,
        "images": [{"url": image.url, "alt_text": image.alt_text} for image in images],
        "price": _money(product.price_amount, product.currency),
        "variants": [
            {
                "id": variant.id,
                "sku": variant.sku,
                "colour": variant.colour,
                "size": variant.size,
                "price": _money(variant.price_amount, variant.currency),
                "available": max(variant.stock - held.get(variant.id, 0), 0),
            }
            for variant in product.variants.all()
        ],
    }


def _products_with_availability(products: list[Product]) -> list[dict]:
    variant_ids = [variant.id for product in products for variant in product.variants.all()]
    held = reserved_quantities(variant_ids=variant_ids, now=timezone.now())
    return [_product_representation(product, held=held) for product in products]


def product_search(*, q: str = "", category: str = "", colour: str = "", size: str = "", limit: int = 20) -> list[dict]:
    # Every word must match somewhere (title, description or category), in any case.
    words = q.lower().replace("-", " ").split()
    values = {f"w{index}": word for index, word in enumerate(words)}
    filters = (("category", category), ("colour", colour), ("size", size))
    values.update({name: value for name, value in filters if value})

    def build() -> QuerySet[Product]:
        products = Product.objects.all()
        for index in range(len(words)):
            word = compiled.text(f"w{index}")
            products = products.filter(
                Q(title__icontains=word) | Q(description__icontains=word) | Q(category__icontains=word)
            )
        if category:
            products = products.filter(category__iexact=compiled.text("category"))
        if colour:
            products = products.filter(variants__colour__iexact=compiled.text("colour"))
        if size:
            products = products.filter(variants__size__iexact=compiled.text("size"))
        return products.distinct().order_by("title", "id")[:limit]

    shape = ("product_search", len(words), bool(category), bool(colour), bool(size), limit)
    products = compiled.rows(Product, shape, build, **values)
    _prefetch_images_and_variants(products)
    return _products_with_availability(products)


def _prefetch_images_and_variants(products: list[Product]) -> None:
    """What prefetch_related("images", "variants") reads, in the related managers' order: two reads in all."""
    ids = [product.id for product in products]
    if not ids:
        return
    slots = {f"p{index}": product_id for index, product_id in enumerate(ids)}
    placeholders = [compiled.text(name) for name in slots]
    images: dict[str, list[ProductImage]] = {product_id: [] for product_id in ids}
    variants: dict[str, list[Variant]] = {product_id: [] for product_id in ids}
    for image in compiled.rows(
        ProductImage, ("images_of", len(ids)), lambda: ProductImage.objects.filter(product_id__in=placeholders), **slots
    ):
        images[image.product_id].append(image)
    for variant in compiled.rows(
        Variant, ("variants_of", len(ids)), lambda: Variant.objects.filter(product_id__in=placeholders), **slots
    ):
        variants[variant.product_id].append(variant)
    for product in products:
        product._prefetched_objects_cache = {"images": images[product.id], "variants": variants[product.id]}


def product_detail(*, product_id: str) -> dict:
    found = compiled.rows(
        Product, "product", lambda: Product.objects.filter(id=compiled.text("id")).order_by()[:1], id=product_id
    )
    if not found:
        raise NotFound(f"No product {product_id}.")
    _prefetch_images_and_variants(found)
    return _products_with_availability(found)[0]


# -- customers ---------------------------------------------------------------------------------------


def customer_by_email(*, email: str | None) -> Customer | None:
    if not email:
        return None
    found = compiled.rows(
        Customer,
        "customer_by_email",
        lambda: Customer.objects.filter(email__iexact=compiled.text("email")).order_by("pk")[:1],
        email=email.strip(),
    )
    return found[0] if found else None


def _customer_or_404(customer_id: str) -> Customer:
    found = compiled.rows(
        Customer, "customer", lambda: Customer.objects.filter(id=compiled.text("id")).order_by()[:1], id=customer_id
    )
    if not found:
        raise NotFound(f"No customer {customer_id}.")
    return found[0]


def _saved_items_filtered(
    items: QuerySet[SavedItem], *, kind: str | None, since: datetime | None
) -> QuerySet[SavedItem]:
    if kind:
        items = items.filter(kind=kind)
    if since:
        items = items.filter(saved_at__gte=since)
    return items.order_by("-saved_at", "id")


def _saved_items_query(*, kind: str | None, since: str | None) -> tuple[str | None, datetime | None]:
    if kind and kind not in SavedItemKind.values:
        raise InvalidRequest(f"kind must be one of {', '.join(SavedItemKind.values)}.", param="kind")
    return kind or None, parse_moment(since, param="since") if since else None


def saved_items_list(*, customer_id: str, kind: str | None = None, since: str | None = None) -> list[dict]:
    _customer_or_404(customer_id)
    wanted_kind, since_moment = _saved_items_query(kind=kind, since=since)
    mine = SavedItem.objects.filter(customer_id=customer_id)
    items = _saved_items_filtered(mine, kind=wanted_kind, since=since_moment)
    return [_saved_item(item, title=item.product.title) for item in items.select_related("product")]


def _saved_item(item: SavedItem, *, title: str) -> dict:
    return {
        "kind": item.kind,
        "product_id": item.product_id,
        "variant_id": item.variant_id,
        "title": title,
        "saved_at": rfc3339(item.saved_at),
    }


def saved_products_list(
    *,
    customer_id: str,
    kind: str | None = None,
    since: str | None = None,
    product_ids: list[str] | None = None,
    limit: int = 10,
) -> list[dict]:
    """Saved items with their products (the `saved_products` extension): one answer instead of one
    product request per item. Newest first, only `product_ids` when given, at most `limit` items."""
    _customer_or_404(customer_id)
    wanted_kind, since_moment = _saved_items_query(kind=kind, since=since)
    values: dict[str, object] = {"customer": customer_id}
    if wanted_kind:
        values["kind"] = wanted_kind
    if since_moment:
        values["since"] = since_moment
    items = compiled.rows(
        SavedItem,
        ("saved_items", bool(wanted_kind), bool(since_moment)),
        lambda: _saved_items_filtered(
            SavedItem.objects.filter(customer_id=compiled.text("customer")),
            kind=compiled.text("kind") if wanted_kind else None,
            since=compiled.moment("since") if since_moment else None,
        ),
        **values,
    )
    if product_ids:
        items = [item for item in items if item.product_id in product_ids]
    items = items[:limit]
    if not items:
        # Nothing saved in range: no products to read (a statement with `id IN ()` cannot be built).
        return []
    wanted = sorted({item.product_id for item in items})
    slots = {f"p{index}": product_id for index, product_id in enumerate(wanted)}
    products = compiled.rows(
        Product,
        ("products_by_id", len(wanted)),
        lambda: Product.objects.filter(id__in=[compiled.text(name) for name in slots]).order_by("id"),
        **slots,
    )
    _prefetch_images_and_variants(products)
    titles = {product.id: product.title for product in products}
    by_id = {product["id"]: product for product in _products_with_availability(products)}
    return [
        {**_saved_item(item, title=titles[item.product_id]), "product": by_id[item.product_id]}
        for item in items
        if item.product_id in by_id
    ]


def customer_detail(*, customer_id: str) -> dict:
    customer = _customer_or_404(customer_id)
    return {
        "id": customer.id,
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone_number": customer.phone_number,
        "addresses": [
            {
                "label": address.label,
                "is_default": address.is_default,
                "name": address.name,
                "line_one": address.line_one,
                "line_two": address.line_two,
                "city": address.city,
                "state": address.state,
                "country": address.country,
                "postal_code": address.postal_code,
            }
            for address in customer.addresses.all()
        ],
        "payment_methods": [
            {
                "vault_reference": card.reference,
                "brand": card.brand,
                "last4": card.last4,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
            }
            for card in customer.cards.order_by("reference")
        ],
    }


def customer_promotions(*, customer_id: str, include_public: bool = False) -> list[dict]:
    """The customer's personal codes that are usable now (how an agent learns what "my promo" is); with
    `include_public`, then the codes anyone may use now (how it answers "any promo codes going?"). Each says
    whether it is the customer's own (`personal`)."""
    _customer_or_404(customer_id)
    now = timezone.now()
    whose = Q(customer_id=customer_id) | Q(customer__isnull=True) if include_public else Q(customer_id=customer_id)
    promotions = Promotion.objects.filter(whose, active=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), Q(starts_at__isnull=True) | Q(starts_at__lte=now)
    )
    # the customer's own first, then by code (a stable order for the list the customer reads)
    ordered = sorted(promotions, key=lambda promotion: (promotion.customer_id is None, promotion.code))
    return [promotion_representation(promotion) for promotion in ordered]


def promotion_representation(promotion: Promotion) -> dict:
    return {
        "code": promotion.code,
        "description": promotion.description,
        "kind": promotion.kind,
        "percent_off": promotion.percent_off,
        "amount_off": promotion.amount_off,
        "currency": promotion.currency,
        "minimum_spend": promotion.minimum_spend_amount,
        "category": promotion.category or None,
        "expires_at": rfc3339(promotion.expires_at),
        "personal": promotion.customer_id is not None,
    }


def promotions_by_code(*, codes: Iterable[str]) -> dict[str, Promotion]:
    wanted = sorted({code.strip().upper() for code in codes})
    if not wanted:
        return {}
    promotions = compiled.rows(
        Promotion,
        ("promotions", len(wanted)),
        lambda: Promotion.objects.filter(code__in=[compiled.text(f"c{index}") for index in range(len(wanted))]),
        **{f"c{index}": code for index, code in enumerate(wanted)},
    )
    return {promotion.code: promotion for promotion in promotions}


# -- checkout and orders -----------------------------------------------------------------------------


def checkout_session_status(session: CheckoutSession, *, now: datetime) -> str:
    if session.status in OPEN_CHECKOUT_STATUSES and session.expires_at <= now:
        return CheckoutStatus.EXPIRED
    return session.status


def checkout_session_representation(session: CheckoutSession, *, now: datetime | None = None) -> dict:
    """The official ACP CheckoutSession (CheckoutSessionWithOrder once completed). Absent objects are omitted."""
    from sandbox_merchant.acp import PROTOCOL_VERSION, session_capabilities

    now = now or timezone.now()
    quote = session.quote or {}
    public_base_url = session.continue_url.removesuffix(f"/checkout/{session.id}")
    body: dict = {
        "id": session.id,
        "protocol": {"version": PROTOCOL_VERSION},
        "capabilities": session_capabilities(agent=session.capabilities, public_base_url=public_base_url),
        "status": checkout_session_status(session, now=now),
        "currency": session.currency,
    }
    body.update(
        session_contents(
            buyer=session.buyer,
            line_items=[_official_line(line) for line in quote.get("line_items", [])],
            fulfillment_details=session.fulfillment_details,
            quote=quote,
            selected=session.selected_fulfillment_options,
            codes=session.discount_codes,
            messages=session.messages,
        )
    )
    body.update(
        {
            "links": [
                {"type": "terms_of_use", "url": f"{public_base_url}/terms"},
                {"type": "privacy_policy", "url": f"{public_base_url}/privacy"},
            ],
            "created_at": rfc3339(session.created_at),
            "updated_at": rfc3339(session.updated_at),
            "expires_at": rfc3339(session.expires_at),
            "continue_url": session.continue_url,
        }
    )
    if body["status"] == CheckoutStatus.AUTHENTICATION_REQUIRED:
        body["authentication_metadata"] = _authentication_metadata(session)
    order = None
    if session.status == CheckoutStatus.COMPLETED:
        # The complete that just placed it hands it on; anyone else reads it.
        order = getattr(session, "placed_order", None) or Order.objects.filter(session_id=session.id).first()
    if order is not None:
        body["order"] = order_reference(
            order_id=order.id,
            session_id=session.id,
            permalink_url=order.permalink_url,
            status=order_status(order.status),
        )
    return body


def _official_line(line: dict) -> dict:
    """A stored line as an ACP LineItem (lines stored before 2026-04-17 carried `title` and flat amounts)."""
    if "totals" in line and "quantity" in line:
        return line
    quantity = int((line.get("item") or {}).get("quantity") or 1)
    return {
        "id": line["id"],
        "item": {"id": (line.get("item") or {}).get("id", line["id"])},
        "quantity": quantity,
        "name": line.get("title", ""),
        "unit_amount": line.get("unit_amount", 0),
        "totals": [
            {"type": "items_base_amount", "display_text": "Items", "amount": line.get("base_amount", 0)},
            {"type": "items_discount", "display_text": "Item discounts", "amount": line.get("discount", 0)},
            {"type": "subtotal", "display_text": "Subtotal", "amount": line.get("subtotal", 0)},
            {"type": "tax", "display_text": "Tax", "amount": line.get("tax", 0)},
            {"type": "total", "display_text": "Total", "amount": line.get("total", 0)},
        ],
    }


def _authentication_metadata(session: CheckoutSession) -> dict:
    """ACP AuthenticationMetadata: what a 3-D Secure provider needs, for the card of the last payment token."""
    token = VaultToken.objects.filter(checkout_session_id=session.id).select_related("card").order_by("-created_at")
    brand = token[0].card.brand if token else "visa"
    return authentication_metadata(brand=brand, challenge=session.authentication_challenge)


def issuer_challenge_representation(challenge: IssuerChallenge, *, public_base_url: str) -> dict:
    """ACP delegate_authentication: the session, its status, the challenge action or the issuer's result."""
    body: dict = {"authentication_session_id": challenge.id, "status": challenge.status}
    if challenge.status == IssuerChallengeStatus.ACTION_REQUIRED:
        if challenge.expires_at <= timezone.now():
            body["status"] = IssuerChallengeStatus.EXPIRED
        else:
            body["action"] = {
                "type": "challenge",
                "challenge": {
                    "acs_url": f"{public_base_url}/issuer/challenge/{challenge.acs_trans_id}",
                    "acs_trans_id": challenge.acs_trans_id,
                    "three_ds_server_trans_id": challenge.three_ds_server_trans_id,
                    "message_version": "2.2.0",
                },
            }
    if challenge.result:
        body["authentication_result"] = challenge.result
    return body


def issuer_challenge_detail(*, authentication_session_id: str, public_base_url: str) -> dict:
    challenge = IssuerChallenge.objects.filter(id=authentication_session_id).first()
    if challenge is None:
        raise NotFound(f"No authentication session {authentication_session_id}.")
    return issuer_challenge_representation(challenge, public_base_url=public_base_url)


def checkout_session_detail(*, session_id: str) -> dict:
    found = compiled.rows(
        CheckoutSession,
        "session",
        lambda: CheckoutSession.objects.filter(id=compiled.text("id")).order_by()[:1],
        id=session_id,
    )
    if not found:
        raise NotFound(f"No checkout session {session_id}.")
    return checkout_session_representation(found[0])


_ADJUSTMENT_TYPES = {"refund": "refund", "cancel": "cancellation"}


def order_representation(order: Order) -> dict:
    """The official ACP Order (no currency field: each adjustment carries its own)."""
    adjustments = list(order.adjustments.all())
    canceled = order.status == "canceled"
    refunded = sum(adjustment.amount for adjustment in adjustments)
    line_items = []
    for raw in order.line_items:
        line = _official_line(raw)
        line_items.append(order_line(line, canceled=canceled))
    totals = list(order.totals)
    if refunded:
        totals.append({"type": "amount_refunded", "display_text": "Refunded", "amount": refunded})
    return {
        "type": "order",
        "id": order.id,
        "checkout_session_id": order.session_id,
        "order_number": order.id.removeprefix("ord_")[:12].upper(),
        "permalink_url": order.permalink_url,
        "status": order_status(order.status),
        "line_items": line_items,
        "adjustments": [
            {
                "id": f"adj_{adjustment.pk}",
                "type": _ADJUSTMENT_TYPES.get(adjustment.type, adjustment.type),
                "occurred_at": rfc3339(adjustment.created_at),
                "status": "completed",
                "amount": adjustment.amount,
                "currency": order.currency,
                **({"reason": adjustment.reason} if adjustment.reason else {}),
            }
            for adjustment in adjustments
        ],
        "totals": totals,
    }


def order_detail(*, order_id: str) -> dict:
    order = Order.objects.filter(id=order_id).first()
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order_representation(order)


# -- faults and the request log ----------------------------------------------------------------------


@dataclass(frozen=True)
class FaultContext:
    """Who a request concerns, so per-customer and per-card fault rules know whether they match."""

    operation: str
    customer_id: str | None = None
    vault_reference: str | None = None


def _dig(value: object, *keys: str) -> object:
    """value[k1][k2]… or None when any level is missing or not an object (bodies are untrusted here)."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def fault_context(*, operation: str, path_ids: dict, body: dict) -> FaultContext:
    customer_id = None
    vault_reference = None
    if operation == FaultOperation.CREATE:
        email = _dig(body, "buyer", "email")
        customer = customer_by_email(email=email if isinstance(email, str) else None)
        customer_id = customer.id if customer else None
    elif "session_id" in path_ids:
        customer_id = (
            CheckoutSession.objects.filter(id=path_ids["session_id"]).values_list("customer_id", flat=True).first()
        )
    elif "customer_id" in path_ids:
        customer_id = path_ids["customer_id"]
    elif "order_id" in path_ids:
        customer_id = Order.objects.filter(id=path_ids["order_id"]).values_list("customer_id", flat=True).first()
    if operation == FaultOperation.COMPLETE:
        token = _dig(body, "payment_data", "token") or _dig(body, "payment_data", "instrument", "credential", "token")
        if isinstance(token, str):
            vault_reference = VaultToken.objects.filter(id=token).values_list("card_id", flat=True).first()
    elif operation == FaultOperation.DELEGATE_PAYMENT:
        payment_method = body.get("payment_method") if isinstance(body, dict) else None
        reference = vault_reference_in(payment_method)[0] if isinstance(payment_method, dict) else None
        vault_reference = reference if isinstance(reference, str) else None
        if vault_reference:
            customer_id = Customer.objects.filter(cards__reference=vault_reference).values_list("id", flat=True).first()
    return FaultContext(operation=operation, customer_id=customer_id, vault_reference=vault_reference)


def fault_rule_representation(rule: FaultRule) -> dict:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "operation": rule.operation,
        "customer_id": rule.customer_id or None,
        "vault_reference": rule.vault_reference or None,
        "times": rule.times_remaining,
        "delay_ms": rule.delay_ms,
        "from_header": bool(rule.header_scope),
        "created": rfc3339(rule.created_at),
    }


def fault_rules_list() -> list[dict]:
    return [fault_rule_representation(rule) for rule in FaultRule.objects.filter(header_scope="")]


def received_requests(*, path_contains: str = "", since_id: int = 0) -> QuerySet[ReceivedRequest]:
    requests = ReceivedRequest.objects.filter(id__gt=since_id)
    if path_contains:
        requests = requests.filter(path__contains=path_contains)
    return requests.order_by("id")
