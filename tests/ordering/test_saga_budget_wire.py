"""What one placed order asks the merchant over HTTP (the sandbox on a live socket): the requests our client
sends are the subject (the query and commit budgets, on the fake merchant, are in test_saga_budget.py)."""

from __future__ import annotations

import pytest

from ordering.models import FlowStatus, OrderFlow
from ordering.services import flow_confirm


@pytest.mark.postgres
@pytest.mark.usefixtures("eager_tasks")
def test_a_placed_order_asks_the_merchant_three_times(shop, settings, monkeypatch):
    # verify_price reads the session; mint_token delegates the card; complete_checkout pays with the token and
    # the payment handler of the same task (no second delegate for the same token, no second session read).
    from catalog_adapters.http import MerchantHttpClient

    settings.AUDIT_SEAL_ON_COMMIT = False
    base = settings.MERCHANTS["sandbox"]["BASE_URL"].rstrip("/")
    flow = shop.start_flow()
    calls = []
    original = MerchantHttpClient.send

    def counting(self, method, url, **kwargs):
        if str(url).startswith(base):
            calls.append((method, str(url)[len(base) :]))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(MerchantHttpClient, "send", counting)

    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED
    session = flow.checkout_session_id
    print(calls)
    assert [(method, path.split("?")[0]) for method, path in calls] == [
        ("GET", f"/checkout_sessions/{session}"),
        ("POST", "/agentic_commerce/delegate_payment"),
        ("POST", f"/checkout_sessions/{session}/complete"),
    ]
