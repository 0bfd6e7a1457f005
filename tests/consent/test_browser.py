"""The settings page in headless Chromium: sign in, see what the assistant may do, revoke with a click."""

from __future__ import annotations

import pytest

from consent.demo import consent_demo_seed
from consent.models import ConsentGrant, GrantStatus
from tests.browser.conftest import in_thread
from tests.support.services import ARTIFACTS_DIR


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_alice_signs_in_and_revokes_the_ordering_grant_in_chromium(live_server, chromium):
    in_thread(consent_demo_seed)
    page = chromium.new_page(viewport={"width": 375, "height": 900})

    page.goto(f"{live_server.url}/settings/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "alice-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/settings/")

    assert page.get_by_text("Visa •••• 4242").is_visible()
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    page.get_by_role("button", name="Revoke: Place orders for me").click()
    page.wait_for_load_state()

    assert page.get_by_text("Revoked: “Place orders for me”").is_visible()
    assert page.get_by_role("button", name="Allow: Place orders for me").is_visible()
    assert page.locator("#grants tbody tr").first.get_by_text("Revoked", exact=True).is_visible()
    grant = in_thread(lambda: ConsentGrant.objects.get(user__username="alice", scope="place_orders"))
    assert grant.status == GrantStatus.REVOKED
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "consent-settings-revoked.png"), full_page=True)
