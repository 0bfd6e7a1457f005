"""The single-message corpus: each message with the commands a reader should get from it."""

from __future__ import annotations

import functools

from catalog_adapters.contract import Money, Product, ProductVariant
from ordering.agent.understand.lexicon import CatalogLexicon


@functools.cache
def demo_lexicon() -> CatalogLexicon:
    """The lexicon of the sandbox's demo catalog, built from its data without a database, the way the
    sandbox serves it (variant ids from `variant_id()`)."""
    from catalog_adapters.sandbox.demo import PRODUCTS, variant_id

    products = []
    for slug, title, category, brand, price, colours, sizes, stock, description in PRODUCTS:
        variants = tuple(
            ProductVariant(
                id=variant_id(slug, colour, size, single_colour=len(colours) == 1),
                sku=variant_id(slug, colour, size, single_colour=len(colours) == 1).removeprefix("var_").upper(),
                colour=colour,
                size=size or None,
                price=Money(price, "usd"),
                available=stock,
            )
            for colour in colours
            for size in sizes
        )
        products.append(
            Product(
                id=f"prod_{slug}", title=title, description=description, category=category, brand=brand,
                image_url=None, price=Money(price, "usd"), variants=variants,
            )  # fmt: skip
        )
    return CatalogLexicon.from_products(products)
