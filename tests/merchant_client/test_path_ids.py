"""Ids that go into merchant URL paths keep to a safe alphabet: anything else is refused before a request.

Against the sandbox merchant over real HTTP: what it received is read from its `ReceivedRequest` rows,
so "nothing was sent" is checked on the merchant's side of the wire, not inferred from our code.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model

from catalog_adapters.contract import PaymentData
from catalog_adapters.errors import MerchantClientError, MerchantIdInvalid
from catalog_adapters.http import path_segment
from ordering.agent.tools import ToolCall
from ordering.agent.turn import Turn
from ordering.services import conversation_open
from tests.merchant_client.test_acp_against_sandbox import acp  # noqa: F401 - the live-sandbox client fixture
from tests.ordering.conftest import shop  # noqa: F401 - alice's shop on the live sandbox

BAD_IDS = [
    "../orders/ord_1",
    "cs_1/cancel",
    "prod_blue_runner?x=1",
    "..%2Forders",
    "%2e%2e",
    "cs 1",
    "prod_blué",
    "ord_1#fragment",
    ".",
    "..",
    "",
    "a" * 129,
    "cs_1\n",
]


def _calls(acp):  # noqa: F811 - the fixture's value
    """Every client call that puts an id into the path, as (name, call taking the id)."""
    return [
        ("get_product", lambda bad: acp.catalog.get_product(product_id=bad)),
        ("list_saved_items", lambda bad: acp.catalog.list_saved_items(customer_id=bad, kind="liked")),
        ("checkout_get", lambda bad: acp.checkout.get(session_id=bad)),
        (
            "checkout_complete",
            lambda bad: acp.checkout.complete(
                session_id=bad,
                payment=PaymentData(token="vt_x", handler_id="card_tokenized"),
                operation_id=f"op-{uuid.uuid4().hex}",
            ),
        ),
        ("checkout_cancel", lambda bad: acp.checkout.cancel(session_id=bad, operation_id=f"op-{uuid.uuid4().hex}")),
        ("vault_revoke", lambda bad: acp.vault.revoke(token_id=bad, operation_id=f"op-{uuid.uuid4().hex}")),
        ("order_get", lambda bad: acp.orders.get(order_id=bad)),
        ("order_cancel", lambda bad: acp.orders.cancel(order_id=bad, operation_id=f"op-{uuid.uuid4().hex}")),
        ("order_refund", lambda bad: acp.orders.refund(order_id=bad, operation_id=f"op-{uuid.uuid4().hex}")),
    ]


def test_an_id_outside_the_safe_alphabet_is_refused_before_any_request(acp, sandbox_merchant):  # noqa: F811
    before = len(sandbox_merchant.received_requests())
    for operation, call in _calls(acp):
        for bad in BAD_IDS:
            with pytest.raises(MerchantIdInvalid) as refused:
                call(bad)
            assert refused.value.operation == operation
            assert refused.value.code == "invalid_id"
            # A client error: the saga fails the step instead of retrying the same id.
            assert isinstance(refused.value, MerchantClientError) and not refused.value.retry_later
    assert len(sandbox_merchant.received_requests()) == before


def test_good_ids_still_reach_the_merchant(acp, sandbox_merchant):  # noqa: F811
    assert acp.catalog.get_product(product_id="prod_blue_runner").id == "prod_blue_runner"
    with pytest.raises(MerchantClientError) as missing:
        acp.orders.get(order_id="ord_does-not-exist")
    assert missing.value.status == 404 and not isinstance(missing.value, MerchantIdInvalid)
    paths = [row.path for row in sandbox_merchant.received_requests()]
    assert any(path.endswith("/products/prod_blue_runner") for path in paths)
    assert any(path.endswith("/orders/ord_does-not-exist") for path in paths)


def test_a_path_built_by_hand_is_refused_by_the_http_base(acp, sandbox_merchant):  # noqa: F811
    before = len(sandbox_merchant.received_requests())
    for path in ("/orders/../customers/cus_alice", "/orders/ord%2F1", "/products?q=1", "/orders/ord 1", "/ördërs"):
        with pytest.raises(MerchantIdInvalid):
            acp.http.request("GET", path, operation="order_get")
    assert len(sandbox_merchant.received_requests()) == before


def test_path_segment_keeps_safe_ids_as_they_are():
    for good in ("cs_0123abcdef", "prod_blue-runner", "vt_ABC", "a" * 128):
        assert path_segment(good, merchant_id="m", operation="op") == good
    with pytest.raises(MerchantIdInvalid):
        path_segment(42, merchant_id="m", operation="op")


@pytest.mark.parametrize("bad", ["../orders/ord_1", "prod_blue_runner/../x", "prod?x", "prod%2Fx", "prod é"])
def test_an_agent_tool_given_a_bad_product_id_answers_plainly(shop, bad):  # noqa: F811
    customer = get_user_model().objects.get(username="alice")
    conversation = conversation_open(customer_id=customer.pk)
    before = len(shop.sandbox.received_requests())

    for name, arguments in (
        ("show_product", {"product_id": bad}),
        ("answer_product_question", {"product_id": bad, "aspect": "details"}),
        ("add_to_cart", {"product_id": bad, "variant_id": "var_blue_runner_42", "quantity": 1}),
    ):
        turn = Turn(conversation=conversation, record=None, customer_text="that one")
        result = turn.call_tool(ToolCall(name=name, arguments=arguments, rationale="id from the model"))
        assert result.ok is False, name
        assert result.error in (
            "No such product.",
            "That is not an id the shop uses (only letters, digits, '_' and '-'); nothing was looked up.",
        ), (name, result.error)
    assert len(shop.sandbox.received_requests()) == before
