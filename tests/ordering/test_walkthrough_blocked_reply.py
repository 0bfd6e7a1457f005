"""The reply to an order the customer's own settings block (a revoked grant, a cap): one clear statement of what
is blocked and why, once, with the settings button and no bare path (the walkthrough read "I'll order 1x … I can't
place this order: You revoked … Grant it again on your settings page to continue. You can change this on your
settings page: /settings/"). The block itself is unchanged: no confirmation is offered. Through the conversation
API, the sandbox merchant over HTTP."""

from __future__ import annotations

import pytest

from consent.models import Scope
from consent.selectors import grants_for_customer
from consent.services.grants import consent_revoke, spend_caps_set
from tests.conversations.conftest import chat  # noqa: F401 - the fixture, reused as it is

pytestmark = pytest.mark.usefixtures("eager_tasks")


def _blocked(answer: dict) -> dict:
    # a preview_blocked message: its card has no Confirm and an "Open your settings" button (static/widget/widget.js)
    [message] = [m for m in answer["messages"] if m["kind"] == "preview_blocked"]
    assert message["preview"] is not None
    return message


def test_a_revoked_grant_is_said_once_with_the_settings_button(shop, chat):  # noqa: F811
    grant = grants_for_customer(user_id=shop.alice.pk).get(scope=Scope.PLACE_ORDERS, status="active")
    consent_revoke(user_id=shop.alice.pk, grant_id=grant.pk, via="settings_page")
    chat.start()

    answer = chat.say("buy the blue runner in size 42")

    blocked = _blocked(answer)
    assert blocked["text"] == (
        "I can't place this order: you revoked the assistant's permission to place orders for you. "
        "Grant it again on your settings page to continue."
    )
    assert answer["pending_confirmation"] is None


def test_a_cap_is_said_once_with_the_settings_button(shop, chat):  # noqa: F811
    spend_caps_set(user_id=shop.alice.pk, caps={"per_order": 10000})  # $100.00 per order
    chat.start()

    answer = chat.say("2 blue runners in size 42")

    blocked = _blocked(answer)
    text = blocked["text"]
    assert text.startswith("I can't place this order: its total of $"), text
    assert text.endswith(" is over your per-order cap of $100.00. You can change that in your settings."), text
    assert "I'll order" not in text and "/settings/" not in text and text.count("settings") == 1
    assert answer["pending_confirmation"] is None
