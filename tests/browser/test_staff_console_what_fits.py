"""The escalation's page in real Chromium, as support staff meet it first: a 3-D Secure escalation whose card issuer
mandates its own check (the sandbox's pm_alice_3ds over HTTP) offers no verification by two specialists, says why and
what to do instead, and the words above the buttons name only buttons that are there
(every reason and state: tests/escalations/test_staff_console_what_fits.py)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import in_thread, screenshot
from tests.browser.test_csp_pages import Watched
from tests.browser.test_escalation_console import _payment_verification, _staff_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]


def test_a_mandated_bank_check_offers_no_two_specialist_verification_and_says_what_to_do(
    shop, live_server, chromium, otp_login
):
    escalation = in_thread(_payment_verification, shop)
    page = _staff_page(chromium, live_server, otp_login)
    watched = Watched(page)
    page.goto(f"{live_server.url}/admin/escalations/escalation/{escalation.pk}/change/")
    with page.expect_navigation():
        page.get_by_role("button", name="Claim").click()

    actions = page.locator("#esc-actions")
    # what happened says the merchant will refuse two specialists, and the page does not offer them
    assert "a verification by two specialists will be refused" in page.locator("#esc-what").inner_text()
    assert actions.get_by_role("button", name=re.compile("Payment verified")).count() == 0
    assert actions.get_by_label("How did you verify the payment with the customer?").count() == 0
    not_offered = page.locator("#esc-verify-not-offered")
    assert not_offered.is_visible()
    assert not_offered.inner_text().startswith("The card's issuer mandates its own 3-D Secure check for this payment")
    # why it cannot be closed yet names what this page has: the customer's own check, and the cancel button
    hint = page.locator("#esc-close-hint").inner_text()
    assert "approve" not in hint.lower() and "retry" not in hint.lower()
    assert "“Cancel the order”" in hint
    assert actions.get_by_role("button", name="Cancel the order").is_visible()
    screenshot(page, "console-mandated-3ds", full_page=True)
    watched.assert_clean()
