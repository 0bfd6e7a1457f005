"""The saga's guards for what its types allow but a placing flow never has (ordering/saga/base.py).

A confirmed flow always has a card and an address, and a merchant step's claim always has its row; the
saga says so by name instead of failing later on `None`.
"""

from __future__ import annotations

import time
import uuid

import pytest

from consent.models import PaymentMethod
from ordering.errors import FlowNotConfirmable
from ordering.models import OrderFlow
from ordering.saga.base import Claim, StepHistory, flow_instruments


def test_a_flow_without_a_card_or_an_address_has_no_instruments_to_place_with():
    flow = OrderFlow(pk=uuid.uuid4(), payment_method=PaymentMethod(), shipping_address=None)

    with pytest.raises(FlowNotConfirmable):
        flow_instruments(flow)


def test_a_local_steps_claim_has_no_row_yet_and_a_merchant_steps_has_its_row():
    flow = OrderFlow(pk=uuid.uuid4())
    local = Claim(flow.pk, None, "check_consent", 1, "key", time.monotonic(), flow=flow, history=StepHistory())
    remote = Claim(flow.pk, 7, "verify_price", 1, "key", time.monotonic(), flow=flow, history=StepHistory())

    with pytest.raises(ValueError, match="runs locally"):
        _ = local.step_row_id
    assert remote.step_row_id == 7
