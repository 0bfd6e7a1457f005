"""Our copy of the demo catalog (ordering/evaluation/corpus/catalog.json) is what the sandbox serves.

The evaluation's corpus and the offline reader's lexicon name products and variant ids from our copy;
the sandbox seeds its own (`seed_sandbox_merchant`). Products are compared as the shop serves them,
over HTTP through the merchant contract, after a seed; the promotion codes (no contract call lists a
shop's codes) against the sandbox's seed data, the one place this suite reads the sandbox's module.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog_adapters.registry import get_merchant, reset_merchants
from ordering.evaluation.catalog import demo_products, demo_promotion_codes, demo_variant

pytestmark = pytest.mark.postgres


@pytest.fixture
def catalog(sandbox_merchant, settings):
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], "BASE_URL": sandbox_merchant.base_url, "RATE_LIMIT": 0.0},
    }
    reset_merchants()
    yield get_merchant("sandbox").catalog
    reset_merchants()


def _shape(product) -> tuple:
    return (
        product.id,
        product.title,
        product.description,
        product.category,
        product.brand,
        product.price,
        tuple(
            sorted(
                (variant.id, variant.sku, variant.colour, variant.size or None, variant.price, variant.available)
                for variant in product.variants
            )
        ),
    )


def test_our_demo_catalog_is_the_catalog_the_sandbox_serves(catalog):
    ours = {product.id: _shape(product) for product in demo_products()}
    served = {product.id: _shape(product) for product in catalog.search_products(limit=100)}

    assert len(ours) == 40
    assert sorted(served) == sorted(ours)
    for product_id, shape in ours.items():
        assert served[product_id] == shape, product_id


def test_a_variant_of_our_copy_is_found_and_an_unknown_one_is_not():
    product, variant = demo_variant("var_blue_runner_42")

    assert (product.id, variant.size, variant.available, variant.price.amount) == ("prod_blue_runner", "42", 8, 7200)
    with pytest.raises(KeyError):
        demo_variant("var_nothing")


def test_our_promotion_codes_are_the_codes_the_sandbox_seeds():
    from sandbox_merchant.demo import _promotions  # the sandbox's seed data: what it will accept

    assert demo_promotion_codes() == {promotion["code"] for promotion in _promotions(timezone.now())}
