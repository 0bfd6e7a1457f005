"""tests/support/static_files.py: WhiteNoise's table of static files is built once per test process and
answers exactly as a freshly built one does."""

from __future__ import annotations

from pathlib import Path

from django.test import Client
from whitenoise.middleware import WhiteNoiseMiddleware

WIDGET_JS = Path(__file__).resolve().parents[2] / "static" / "widget" / "widget.js"


def _middleware() -> WhiteNoiseMiddleware:
    return WhiteNoiseMiddleware(lambda request: None)


def test_a_later_middleware_gets_the_same_files_as_the_first():
    first, second = _middleware(), _middleware()

    assert "/static/widget/widget.js" in first.files
    assert len(first.files) > 20
    assert second.files.keys() == first.files.keys()
    assert all(second.files[url] is first.files[url] for url in first.files)


def test_other_whitenoise_settings_build_a_table_of_their_own(settings):
    kept = _middleware().files["/static/widget/widget.js"]
    settings.WHITENOISE_MAX_AGE = 1234

    rebuilt = _middleware().files["/static/widget/widget.js"]

    assert rebuilt is not kept
    assert dict(rebuilt.get_response("GET", {}).headers)["Cache-Control"] == "max-age=1234, public"
    assert "max-age=1234" not in dict(kept.get_response("GET", {}).headers).get("Cache-Control", "")


def test_a_new_client_is_served_the_file_as_it_is_on_disk():
    _middleware()  # the table exists already in this process

    response = Client().get("/static/widget/widget.js")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WIDGET_JS.read_bytes()
    assert response["Content-Type"].startswith("text/javascript")
