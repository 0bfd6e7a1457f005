"""The merchant's lexicon is built from its catalog over the contract (the sandbox over real HTTP) and
kept for a short time, so a turn does not fetch the catalog again."""

from __future__ import annotations

import pytest

from catalog_adapters.registry import reset_merchants
from ordering.agent.understand import catalog_lexicon, catalog_lexicon_forget
from ordering.evaluation.messages import demo_lexicon

pytestmark = pytest.mark.postgres


@pytest.fixture
def sandbox_catalog(sandbox_merchant, settings):
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], "BASE_URL": sandbox_merchant.base_url},
    }
    reset_merchants()
    catalog_lexicon_forget()
    yield sandbox_merchant
    catalog_lexicon_forget()
    reset_merchants()


def test_lexicon_from_the_merchants_catalog_matches_the_demo_data(sandbox_catalog):
    lexicon = catalog_lexicon("sandbox")
    demo = demo_lexicon()
    assert {entry.id for entry in lexicon.products} == {entry.id for entry in demo.products}
    assert set(lexicon.variant_products) == set(demo.variant_products)
    assert lexicon.shoe_sizes == ("40", "41", "42", "43", "44", "45")
    assert lexicon.find("blue runer").product_ids == ("prod_blue_runner",)


def test_lexicon_is_cached_for_its_ttl(sandbox_catalog, settings):
    settings.ORDERING_LEXICON_TTL_SECONDS = 300
    first = catalog_lexicon("sandbox")
    searches = len(sandbox_catalog.received_requests("/products"))
    assert catalog_lexicon("sandbox") is first
    assert len(sandbox_catalog.received_requests("/products")) == searches

    settings.ORDERING_LEXICON_TTL_SECONDS = 0
    fresh = catalog_lexicon("sandbox")
    assert fresh is not first
    assert len(sandbox_catalog.received_requests("/products")) == searches + 1


def test_a_worker_process_warms_every_merchants_lexicon_before_its_first_turn(sandbox_catalog, settings):
    from config.celery import warm_catalog_lexicons

    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "gone": {**settings.MERCHANTS["sandbox"], "ID": "gone", "BASE_URL": "http://127.0.0.1:9", "MAX_ATTEMPTS": 1},
    }
    reset_merchants()
    searches = len(sandbox_catalog.received_requests("/products"))
    # An unreachable merchant is skipped, not fatal: its first turn fetches the catalog as before.
    assert warm_catalog_lexicons() == ["sandbox"]
    assert len(sandbox_catalog.received_requests("/products")) == searches + 1
    catalog_lexicon("sandbox")  # the turn's read: from the cache, no request
    assert len(sandbox_catalog.received_requests("/products")) == searches + 1
