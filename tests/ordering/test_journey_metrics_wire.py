"""A shop failure in a chat turn, end to end over HTTP: the sandbox merchant answers 500 to the cart's checkout
create, the turn tells the customer and counts the failure for its cart step (issue #17; the other journey
metrics are in test_journey_metrics.py, on the fake merchant)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.conversations.conftest import chat  # noqa: F401 - the fixture reused as it is

pytestmark = [pytest.mark.postgres]


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_shop_failure_in_a_cart_turn_counts_for_the_cart_step(shop, chat):  # noqa: F811
    chat.start()
    before = _sample("ordering_turn_step_failures_total", step="cart", error_class="server_error")
    catalog_before = _sample("ordering_turn_step_failures_total", step="catalog", error_class="server_error")
    shop.sandbox.add_fault("server_error", operation="create", times=10)
    try:
        answer = chat.say("add the Blue Runner in size 42")
    finally:
        shop.sandbox.clear_faults()
    assert "did not answer properly" in " ".join(chat.assistant_texts(answer))
    assert _sample("ordering_turn_step_failures_total", step="cart", error_class="server_error") == before + 1
    assert _sample("ordering_turn_step_failures_total", step="catalog", error_class="server_error") == catalog_before
