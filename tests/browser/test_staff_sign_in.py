"""The staff console's sign-in in Chromium: username, password and code in one step, the first time."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from escalations.staff import staff_user_create
from tests.browser.conftest import TIMEOUT_MS, in_thread, screenshot
from tests.security.conftest import PASSWORD, current_code, wrong_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, base_url: str, code: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Log in").click()


def test_a_staff_member_signs_in_with_username_password_and_code_the_first_time(live_server, chromium):
    _, device = in_thread(staff_user_create, username="sam", password=PASSWORD, support=True)
    page = chromium.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    _sign_in(page, live_server.url, in_thread(current_code, device))

    page.wait_for_url(f"{live_server.url}/admin/")
    assert "Support and audit" in page.content()
    assert page.get_by_text("Please select a device").count() == 0
    screenshot(page, "staff-signed-in")
    user_id = in_thread(lambda: get_user_model().objects.get(username="sam").pk)
    assert (
        in_thread(lambda: AuditEvent.objects.filter(action="identity.signed_in", target_id=str(user_id)).count()) == 1
    )


def test_a_wrong_code_shows_a_clear_error_and_five_lock_the_page_with_a_429(live_server, chromium):
    _, device = in_thread(staff_user_create, username="sam", password=PASSWORD)
    page = chromium.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    _sign_in(page, live_server.url, in_thread(wrong_code, device))

    page.get_by_role("alert").wait_for()
    assert "That code is wrong or has expired" in page.get_by_role("alert").inner_text()
    assert page.url.startswith(f"{live_server.url}/admin/login/")

    for _ in range(3):
        _sign_in(page, live_server.url, in_thread(wrong_code, device))
        page.get_by_role("alert").wait_for()
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        _sign_in(page, live_server.url, in_thread(wrong_code, device))

    assert answer.value.status == 429
    assert page.get_by_role("alert").inner_text().strip() == (
        "Too many failed sign-in attempts; try again in 15 minutes."
    )
    screenshot(page, "staff-locked-out")
