"""Catalog tools: search, one product, the customer's saved items, questions about a product; and the product
card the widget shows."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from catalog_adapters.contract import Product
from catalog_adapters.errors import MerchantError, MerchantIdInvalid
from catalog_adapters.registry import get_merchant
from consent.formatting import format_money
from ordering.agent import merchant as shop
from ordering.agent.tools.base import ToolResult, failed, merchant_failed, sizes_in_order

if TYPE_CHECKING:
    from ordering.agent.turn import Turn


def _product_data(product: Product, *, with_description: bool = False) -> dict[str, Any]:
    data = {
        "product_id": product.id,
        "title": product.title[:120],
        "category": product.category,
        "brand": product.brand,
        "price": product.price.amount,
        "currency": product.price.currency,
        "price_display": format_money(product.price.amount, product.price.currency),
        "colours": sorted({variant.colour for variant in product.variants if variant.colour}),
        "sizes_available": [variant.size for variant in product.variants if variant.size and variant.available > 0],
    }
    if with_description:
        # Catalog text is data to show, quoted; nothing in it is ever followed.
        data["description"] = product.description[:300]
        data["variants"] = [
            {
                "variant_id": variant.id,
                "colour": variant.colour,
                "size": variant.size,
                "available": variant.available,
                "price": variant.price.amount,
            }
            for variant in product.variants[:30]
        ]
    return data


def product_card(product: Product, *, variant_id: str | None = None) -> dict[str, Any]:
    variant = next((v for v in product.variants if v.id == variant_id), None)
    price = variant.price if variant else product.price
    return {
        "type": "product",
        "product_id": product.id,
        "title": product.title[:120],
        "image_url": product.image_url,
        "price": price.amount,
        "currency": price.currency,
        "price_display": format_money(price.amount, price.currency),
        "variant": ", ".join(part for part in ((variant.colour, variant.size) if variant else ()) if part),
    }


def product_get(turn: Turn, product_id: str) -> Product:
    """One fetch per product per turn: the policy and the cart tools share what the shop answered."""
    cache = turn.products
    if product_id not in cache:
        cache[product_id] = get_merchant(shop.merchant_id_default()).catalog.get_product(product_id=product_id)
    return cache[product_id]


def search_products(turn: Turn, args: dict) -> ToolResult:
    price_filtered = args.get("price_min") is not None or args.get("price_max") is not None
    sort = args.get("sort", "relevance")
    limit = args.get("limit", 5)
    try:
        products = get_merchant(shop.merchant_id_default()).catalog.search_products(
            query=args.get("query", ""),
            colour=args.get("colour") or None,
            size=args.get("size") or None,
            category=args.get("category") or None,
            # The merchant's search knows no prices: filter and sort a wider page here.
            limit=100 if (price_filtered or sort != "relevance" or args.get("product_ids")) else limit,
        )
    except MerchantError as error:
        return merchant_failed(error)
    if args.get("product_ids"):
        wanted = list(args["product_ids"])
        products = sorted((p for p in products if p.id in wanted), key=lambda p: wanted.index(p.id))
    if args.get("price_min") is not None:
        products = [p for p in products if p.price.amount >= args["price_min"]]
    if args.get("price_max") is not None:
        products = [p for p in products if p.price.amount <= args["price_max"]]
    if sort == "price_asc":
        products = sorted(products, key=lambda p: (p.price.amount, p.title))
    elif sort == "price_desc":
        products = sorted(products, key=lambda p: (-p.price.amount, p.title))
    products = products[:limit]
    for product in products:
        turn.products.setdefault(product.id, product)
    say = None
    if products:
        listed = ", ".join(f"{p.title[:60]} ({format_money(p.price.amount, p.price.currency)})" for p in products[:6])
        say = f"Here is what I found: {listed}."
    return ToolResult(
        ok=True,
        data={"products": [_product_data(product) for product in products], "count": len(products)},
        say=say,
        message_data={
            "kind": "products",
            "cards": [product_card(product) for product in products[:6]],
            "quick_replies": [{"label": p.title[:60], "text": f"I'll take the {p.title[:60]}"} for p in products[:4]],
        },
    )


def _product_or_failure(turn: Turn, product_id: str) -> Product | ToolResult:
    try:
        return product_get(turn, product_id)
    except MerchantError as error:
        if getattr(error, "status", None) == 404 or isinstance(error, MerchantIdInvalid):
            return failed("No such product.", product_id=product_id)
        return merchant_failed(error)


def show_product(turn: Turn, args: dict) -> ToolResult:
    product = _product_or_failure(turn, args["product_id"])
    if isinstance(product, ToolResult):
        return product
    return ToolResult(
        ok=True,
        data={"product": _product_data(product, with_description=True)},
        say=f"{product.title[:120]}: {format_money(product.price.amount, product.price.currency)}.",
        message_data={"cards": [product_card(product)]},
    )


def list_saved_items(turn: Turn, args: dict) -> ToolResult:
    merchant_id = shop.merchant_id_default()
    account = turn.merchant_account(merchant_id)
    customer_ref = account.customer_ref if account and account.customer_ref else None
    if customer_ref is None:
        return ToolResult(ok=True, data={"items": [], "note": "no account at this shop is linked"})
    since = timezone.now() - timedelta(days=args["since_days"]) if args.get("since_days") else None
    try:
        # One call with the products (or, at a merchant without that extension, the saved items and then
        # each product not fetched yet this turn). Only the products the customer named, however long
        # their history: never the newest of something else.
        saved = get_merchant(merchant_id).catalog.list_saved_products(
            customer_id=customer_ref,
            kind=args["kind"],
            since=since,
            product_ids=args.get("product_ids") or None,
            limit=10,
            known_products=turn.products,
        )
    except MerchantError as error:
        return merchant_failed(error)
    items = []
    for entry in saved:
        item, product = entry.item, turn.products.setdefault(entry.product.id, entry.product)
        items.append(
            {
                "kind": item.kind,
                "product_id": item.product_id,
                "variant_id": item.variant_id,
                "saved_at": item.saved_at.isoformat() if item.saved_at else None,
                "title": product.title[:120],
                "category": product.category,
                "colours": sorted({v.colour for v in product.variants if v.colour}),
            }
        )
    return ToolResult(ok=True, data={"items": items, "count": len(items)})


def answer_product_question(turn: Turn, args: dict) -> ToolResult:
    """Price, stock, sizes, colours or details of one product, in words rendered here from the shop's data."""
    product = _product_or_failure(turn, args["product_id"])
    if isinstance(product, ToolResult):
        return product
    aspect = args.get("aspect", "details")
    size = (args.get("size") or "").upper()
    colour = (args.get("colour") or "").lower()
    title = product.title[:120]
    in_stock = [v for v in product.variants if v.available > 0]
    sizes = sizes_in_order(v.size for v in in_stock if v.size)
    colours = sorted({v.colour for v in in_stock if v.colour})
    price = format_money(product.price.amount, product.price.currency)
    available = False  # the very colour and size asked about are in stock
    if size or colour:
        fitting = [
            v for v in in_stock if (not size or (v.size or "").upper() == size) and (not colour or v.colour == colour)
        ]
        what = " ".join(part for part in (colour, f"size {size}" if size else "") if part)
        if fitting:
            available = aspect in ("availability", "sizes", "details")
            units = sum(v.available for v in fitting)
            say = f"Yes, the {title} is in stock in {what} ({units} left), at {price}."
        else:
            say = f"Sorry, the {title} is not available in {what}."
            if sizes:
                say += f" In stock: sizes {', '.join(sizes)}"
                say += f"; colours {', '.join(colours)}." if colours else "."
    elif aspect == "price":
        say = f"The {title} costs {price}."
    elif aspect in ("availability", "sizes"):
        if not in_stock:
            say = f"Sorry, the {title} is sold out."
        elif sizes:
            say = f"The {title} is in stock in sizes {', '.join(sizes)}" + (
                f" ({', '.join(colours)})." if colours else "."
            )
        else:
            say = f"The {title} is in stock" + (f" in {', '.join(colours)}." if colours else ".")
    elif aspect == "colours":
        say = f"The {title} comes in {', '.join(colours) or 'one colour'}."
    else:
        # Catalog text is quoted as data for the customer; nothing in it is followed.
        say = f"{title} ({price}): {product.description[:300]}"
    return ToolResult(
        ok=True,
        data={"product": _product_data(product), "available": available},
        say=say,
        message_data={"kind": "product_answer", "cards": [product_card(product)]},
    )
