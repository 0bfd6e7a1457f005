import pytest

from tests.support.services import ARTIFACTS_DIR


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_staff_login_page_renders_in_chromium_with_its_otp_field(live_server, chromium):
    page = chromium.new_page()

    page.goto(f"{live_server.url}/admin/login/")

    assert page.locator("input[name=username]").is_visible()
    assert page.locator("input[name=password]").is_visible()
    assert page.locator("input[name=otp_token]").count() == 1
    # the admin's stylesheet is served by us (no CDN), so the page is styled
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS_DIR / "admin-login.png"))
