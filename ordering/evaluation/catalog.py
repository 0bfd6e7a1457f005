"""The sandbox shop's demo catalog as our side knows it: data (corpus/catalog.json), not the sandbox's code.

The evaluation's corpus and the offline reader's demo lexicon name these products and variant ids; the
sandbox serves the same catalog once seeded (`manage.py seed_sandbox_merchant`).
tests/evaluation/test_demo_catalog.py checks that the two agree, product by product and variant by variant.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from catalog_adapters.contract import Money, Product, ProductVariant

CATALOG_PATH = Path(__file__).resolve().parent / "corpus" / "catalog.json"


@functools.cache
def demo_products() -> tuple[Product, ...]:
    """Every demo product with its variants (`available` is the demo's stock on hand per variant)."""
    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
    return tuple(
        Product(
            id=product["id"],
            title=product["title"],
            description=product["description"],
            category=product["category"],
            brand=product["brand"],
            image_url=None,
            price=Money(product["price"], product["currency"]),
            variants=tuple(
                ProductVariant(
                    id=variant["id"],
                    sku=variant["sku"],
                    colour=variant["colour"],
                    size=variant["size"],
                    price=Money(variant["price"], product["currency"]),
                    available=variant["stock"],
                )
                for variant in product["variants"]
            ),
        )
        for product in raw["products"]
    )


def demo_variant(variant_id: str) -> tuple[Product, ProductVariant]:
    """The demo product and variant with this id (KeyError when the demo catalog has none)."""
    for product in demo_products():
        for variant in product.variants:
            if variant.id == variant_id:
                return product, variant
    raise KeyError(variant_id)


@functools.cache
def demo_promotion_codes() -> frozenset[str]:
    """The codes the demo shop knows (valid, personal, conditional or expired): what the corpus may use."""
    return frozenset(json.loads(CATALOG_PATH.read_text(encoding="utf-8"))["promotion_codes"])
