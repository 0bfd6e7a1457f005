"""`Catalog.list_saved_products` over real HTTP: the sandbox's saved_products extension in one request,
and the one-by-one fallback for a merchant without it (found by its 404, remembered)."""

from __future__ import annotations

import pytest

from catalog_adapters.acp import saved_products_forget
from catalog_adapters.contract import Catalog
from catalog_adapters.errors import MerchantClientError


@pytest.fixture
def acp(sandbox_merchant, configure_merchant):
    merchant = configure_merchant(sandbox_merchant.base_url, token=sandbox_merchant.token, read_timeout=10)
    saved_products_forget()
    yield merchant
    saved_products_forget()


def _paths(sandbox_merchant) -> list[str]:
    return [r.path.removeprefix("/sandbox-merchant") for r in sandbox_merchant.received_requests()]


def _summary(found) -> list[tuple]:
    return [(s.item.kind, s.item.product_id, s.item.variant_id, s.product.id, len(s.product.variants)) for s in found]


def test_the_extension_answers_saved_items_with_their_products_in_one_request(acp, sandbox_merchant):
    assert isinstance(acp.catalog, Catalog)

    found = acp.catalog.list_saved_products(customer_id="cus_alice", kind="liked")

    assert _paths(sandbox_merchant) == ["/customers/cus_alice/saved_products"]
    assert [s.item.product_id for s in found] == ["prod_blue_runner", "prod_steel_bottle"]  # newest first
    runner = found[0].product
    assert runner.title == "Blue Runner"
    assert any(v.id == "var_blue_runner_42" and v.available > 0 for v in runner.variants)
    # the same facts as the one-by-one path
    one_by_one = [acp.catalog.get_product(product_id=s.item.product_id) for s in found]
    assert [s.product for s in found] == one_by_one


def test_only_the_named_products_and_at_most_the_limit(acp, sandbox_merchant):
    named = acp.catalog.list_saved_products(customer_id="cus_alice", kind="liked", product_ids=["prod_steel_bottle"])
    newest = acp.catalog.list_saved_products(customer_id="cus_alice", kind="viewed", limit=1)

    assert [s.product.id for s in named] == ["prod_steel_bottle"]
    assert [s.product.id for s in newest] == ["prod_trail_blazer"]
    assert len(sandbox_merchant.received_requests()) == 2


def test_an_unknown_customer_is_a_404_and_does_not_switch_the_extension_off(acp, sandbox_merchant):
    with pytest.raises(MerchantClientError) as raised:
        acp.catalog.list_saved_products(customer_id="cus_nobody", kind="liked")
    assert raised.value.status == 404

    acp.catalog.list_saved_products(customer_id="cus_alice", kind="liked")

    assert _paths(sandbox_merchant)[-1] == "/customers/cus_alice/saved_products"


def test_without_the_extension_the_one_by_one_path_answers_the_same_and_is_remembered(acp, sandbox_merchant, settings):
    expected = _summary(acp.catalog.list_saved_products(customer_id="cus_alice", kind="liked"))
    from sandbox_merchant.models import ReceivedRequest

    ReceivedRequest.objects.all().delete()
    settings.SANDBOX_MERCHANT_SAVED_PRODUCTS = False  # the sandbox now plays a merchant without it

    first = acp.catalog.list_saved_products(customer_id="cus_alice", kind="liked")

    assert _summary(first) == expected
    assert _paths(sandbox_merchant) == [
        "/customers/cus_alice/saved_products",  # 404: not offered
        "/customers/cus_alice/saved_items",
        "/products/prod_blue_runner",
        "/products/prod_steel_bottle",
    ]

    # when: asked again, with one product already in the caller's hands
    ReceivedRequest.objects.all().delete()
    known = {"prod_blue_runner": first[0].product}
    again = acp.catalog.list_saved_products(customer_id="cus_alice", kind="liked", known_products=known)

    # then: the extension is not asked again, and a known product is not fetched again
    assert _summary(again) == expected
    assert _paths(sandbox_merchant) == ["/customers/cus_alice/saved_items", "/products/prod_steel_bottle"]
