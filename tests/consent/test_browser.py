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


def _signed_in_page(chromium, live_server, username: str = "alice", **options):
    from django.conf import settings

    from tests.browser.conftest import session_cookie

    page = chromium.new_page(viewport={"width": 375, "height": 700}, **options)
    page.set_default_timeout(10_000)
    cookie = in_thread(session_cookie, username)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page.goto(f"{live_server.url}/settings/")
    return page


def _in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_answer_to_a_change_is_shown_where_it_was_made_and_takes_the_focus(live_server, chromium):
    # On a phone the page came back scrolled to the section and its message sat at the top of the page, a
    # screen's height out of sight, with the focus on the body: a refused cap looked like a saved one.
    in_thread(consent_demo_seed)
    page = _signed_in_page(chromium, live_server)

    page.get_by_label("Skip the confirm step for orders under").fill("60")
    page.get_by_role("button", name="Save threshold").click()
    page.wait_for_load_state()

    refusal = page.locator("#caps").get_by_role("alert")
    assert "The auto-checkout threshold can be at most $50.00" in refusal.inner_text()
    assert _in_viewport(page, refusal)
    assert page.evaluate("document.activeElement.textContent").startswith("The auto-checkout threshold can be")

    page.keyboard.press("Tab")  # the keyboard carries on from the message, in the section it is about
    assert page.evaluate("document.activeElement.closest('section').id") == "caps"

    page.get_by_label("Per order").fill("100")
    page.get_by_role("button", name="Save caps").click()
    page.wait_for_load_state()

    saved = page.locator("#caps").get_by_role("status")
    assert saved.inner_text() == "Your spending caps are saved."
    assert _in_viewport(page, saved)
    assert page.locator(".message").count() == 1  # shown once, in its section
