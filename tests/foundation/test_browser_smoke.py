import re
from pathlib import Path

import pytest

from tests.support.services import ARTIFACTS_DIR, chromium_args


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


def test_chromium_args_keep_the_features_playwright_turns_off():
    # Chromium reads only the last --disable-features; ours comes after Playwright's, so it must repeat it.
    import playwright

    bundle = Path(playwright.__file__).parent / "driver" / "package" / "lib" / "coreBundle.js"
    listed = re.search(r"disabledFeatures = \[(.*?)\]", bundle.read_text(), re.S)
    assert listed, f"Playwright's disabledFeatures not found in {bundle}"
    playwrights = set(re.findall(r'^\s*"(\w+)",?$', listed.group(1), re.M))
    ours = [arg for arg in chromium_args() if arg.startswith("--disable-features=")]

    assert len(playwrights) >= 10
    assert len(ours) == 1
    assert playwrights <= set(ours[0].removeprefix("--disable-features=").split(",")), playwrights


@pytest.mark.browser
def test_a_test_context_opens_no_browser_ui_pages(chromium):
    # Each context's window loaded the address bar's WebUI popups in renderers of their own (~0.7 s of CPU
    # per context) until chromium_args() turned them off; a Chromium that renames the feature brings them back.
    page = chromium.new_page()
    page.goto("data:text/html,<p>hi</p>")

    targets = chromium.new_browser_cdp_session().send("Target.getTargets")["targetInfos"]

    assert [target["type"] for target in targets] == ["page"], [target["url"] for target in targets]
