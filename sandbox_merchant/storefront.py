"""The sandbox merchant's demo storefront at `/`, and its product pictures.

The shop page lists the sandbox catalog (read through the sandbox's own selectors: this is the
merchant's own site, not a client of it) and embeds the chat widget with one script tag. The
pictures are SVG placeholders drawn in each product's first colour, so no page ever loads an image
from outside this site.
"""

from __future__ import annotations

import os
import time

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.html import escape
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from ordering.rollout.assignment import assign_user
from sandbox_merchant.models import Product
from sandbox_merchant.selectors import product_search
from sandbox_merchant.shop import urls as shop_urls
from sandbox_merchant.shop.cart import cart_quantity

SHOP_PRODUCT_LIMIT = 40
EXAMPLE_REQUESTS = [
    "Buy the blue running shoes I liked last week and apply my 10% promo",
    "Buy the Blue Runner in size 43, pay with my card ending 3220",
    "My usual please",
    "Talk to a human",
]

COLOURS = {
    "blue": "#2f6fd6",
    "navy": "#23355f",
    "green": "#2f8f5b",
    "olive": "#6b7a3a",
    "lime": "#9ccf3a",
    "black": "#2a2d33",
    "grey": "#8b919c",
    "silver": "#b8bec8",
    "white": "#eef0f3",
    "clear": "#dfeef6",
    "red": "#d2423b",
    "pink": "#e27ab0",
    "purple": "#7c55c7",
    "orange": "#ee8a2f",
    "yellow": "#f2c531",
    "brown": "#8a5a3b",
    "tan": "#c9a27a",
    "khaki": "#b9a97c",
    "beige": "#e3d5b8",
}
DEFAULT_COLOUR = "#9aa3b2"


def _shade(hex_colour: str) -> str:
    """A lighter tint of the colour for the picture's background."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(round(c + (255 - c) * 0.78) for c in (red, green, blue)))


def _is_light(hex_colour: str) -> bool:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return (red * 299 + green * 587 + blue * 114) / 1000 > 180


def _colour_names(product: dict) -> list[str]:
    seen: list[str] = []
    for variant in product["variants"]:
        if variant["colour"] and variant["colour"] not in seen:
            seen.append(variant["colour"])
    return seen


def _sizes(product: dict) -> list[str]:
    seen: list[str] = []
    for variant in product["variants"]:
        if variant["size"] and variant["size"] not in seen:
            seen.append(variant["size"])
    return seen


def _shop_product(product: dict) -> dict:
    colours = _colour_names(product)
    return {
        "id": product["id"],
        "title": product["title"],
        "brand": product["brand"],
        "description": product["description"],
        "category": product["category"].replace("-", " "),
        "image_url": product["image_url"],
        "price": product["price"]["amount"] / 100,
        "currency": product["price"]["currency"].upper(),
        "colours": [{"name": name, "hex": COLOURS.get(name, DEFAULT_COLOUR)} for name in colours],
        "sizes": _sizes(product),
        "in_stock": any(variant["available"] > 0 for variant in product["variants"]),
        # What "Add to cart" offers: each variant the shop has on hand, by its colour and size.
        "variants": [
            {"id": variant["id"], "label": ", ".join(part for part in (variant["colour"], variant["size"]) if part)}
            for variant in product["variants"]
            if variant["available"] > 0
        ],
    }


def _demo_logins() -> list[dict]:
    # Shown only while the demo customers keep their built-in passwords (no DEMO_*_PASSWORD override).
    from consent.demo import DEMO_CUSTOMERS

    return [
        {"username": username, "password": data["password"], "first_name": data["first_name"]}
        for username, data in DEMO_CUSTOMERS.items()
        if not os.environ.get(data["password_env"])
    ]


@require_GET
@ensure_csrf_cookie  # the widget sends Django's csrftoken cookie back as X-CSRFToken
def storefront_page(request: HttpRequest) -> HttpResponse:
    products = [_shop_product(product) for product in product_search(limit=SHOP_PRODUCT_LIMIT)]
    # The chat widget only for customers the rollout gives the assistant (ordering.rollout); the others
    # (the A/B experiment's control arm) shop with the plain cart and checkout. Signed out, the widget
    # stays: it asks them to sign in.
    signed_in = request.user.is_authenticated
    context = {
        "products": products,
        "assistant": not signed_in or assign_user(request.user).assistant,
        "cart_count": cart_quantity(request.session) if signed_in else 0,
        "demo_logins": _demo_logins() if not request.user.is_authenticated else [],
        "examples": EXAMPLE_REQUESTS,
    }
    return render(request, "storefront/shop.html", context)


# -- product pictures ------------------------------------------------------------------------------

_SHAPES = {
    # A simple silhouette per category, drawn in the product's colour on a 400x300 canvas.
    "shoe": '<path d="M70 190c40 0 70-10 95-45l20-25c10 15 35 30 70 35 45 6 75 20 75 45v15H70z" fill="{c}"/>'
    '<rect x="70" y="203" width="260" height="14" rx="7" fill="{d}"/>',
    "top": '<path d="M150 80l-60 30 20 45 25-10v95h130v-95l25 10 20-45-60-30c-8 18-25 28-50 28s-42-10-50-28z" '
    'fill="{c}"/>',
    "bottom": '<path d="M140 80h120l15 160h-50l-25-110-25 110h-50z" fill="{c}"/>',
    "bag": '<rect x="120" y="100" width="160" height="140" rx="24" fill="{c}"/>'
    '<path d="M160 100v-18a40 40 0 0 1 80 0v18" fill="none" stroke="{d}" stroke-width="10"/>',
    "round": '<circle cx="200" cy="150" r="72" fill="{c}"/><circle cx="200" cy="150" r="40" fill="{d}" opacity=".35"/>',
    "bottle": '<rect x="165" y="70" width="70" height="170" rx="28" fill="{c}"/>'
    '<rect x="180" y="52" width="40" height="26" rx="6" fill="{d}"/>',
}
_CATEGORY_SHAPES = {
    "running-shoes": "shoe",
    "sneakers": "shoe",
    "boots": "shoe",
    "t-shirts": "top",
    "hoodies": "top",
    "jackets": "top",
    "shorts": "bottom",
    "pants": "bottom",
    "socks": "bottom",
    "bags": "bag",
    "bottles": "bottle",
}


def product_image_svg(*, title: str, category: str, colour_name: str) -> str:
    colour = COLOURS.get(colour_name, DEFAULT_COLOUR)
    background = _shade(colour)
    detail = "#2a2d33" if _is_light(colour) else "#ffffff"
    shape = _SHAPES[_CATEGORY_SHAPES.get(category, "round")].format(c=colour, d=detail)
    label = escape(title)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300" '
        f'role="img" aria-label="{label}">'
        f'<rect width="400" height="300" fill="{background}"/>'
        f"{shape}"
        f'<text x="200" y="282" text-anchor="middle" font-family="system-ui, sans-serif" font-size="18" '
        f'fill="#1b2230" opacity=".7">{label}</text>'
        "</svg>"
    )


# Browsers and proxies may keep a picture this long (Cache-Control), so this process may too: every shop page
# asks for its ~20 pictures in view, each a product and a variants query otherwise.
PICTURE_MAX_AGE_SECONDS = 3600
_pictures: dict[str, tuple[float, str]] = {}  # slug -> (time.monotonic() it is good until, SVG); found ones only


def _product_picture(slug: str) -> str | None:
    cached = _pictures.get(slug)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    product = Product.objects.filter(id=f"prod_{slug}").prefetch_related("variants").first()
    if product is None:
        return None
    colours = [variant.colour for variant in product.variants.all() if variant.colour]
    svg = product_image_svg(title=product.title, category=product.category, colour_name=colours[0] if colours else "")
    _pictures[slug] = (time.monotonic() + PICTURE_MAX_AGE_SECONDS, svg)
    return svg


@require_GET
@cache_control(public=True, max_age=PICTURE_MAX_AGE_SECONDS)
def product_image(request: HttpRequest, slug: str) -> HttpResponse:
    svg = _product_picture(slug)
    if svg is None:
        raise Http404("No such product.")
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # The picture is data, never a document: no scripts even when opened on its own.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


urlpatterns = [path("", storefront_page, name="storefront"), *shop_urls.urlpatterns]
