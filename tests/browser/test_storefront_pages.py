"""The storefront and the product pictures, through Django's test client (no browser needed)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from sandbox_merchant.demo import demo_data_seed
from sandbox_merchant.models import Product, ProductImage
from sandbox_merchant.storefront import product_image_svg

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    demo_data_seed()


def test_the_shop_lists_the_catalog_embeds_the_widget_once_and_sets_the_csrf_cookie(catalog, client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Blue Runner" in html and "Summit Hiking Boot" in html
    assert html.count('src="/static/widget/widget.js"') == 1
    assert 'data-user-id=""' in html  # signed out: the widget asks to sign in
    assert "csrftoken" in response.cookies
    assert 'href="/accounts/login/?next=/"' in html
    assert "alice-demo-2026" in html  # the demo logins, while they are the built-in ones
    # every picture on the page is served by this site
    assert set(re.findall(r'<img[^>]+src="([^"]+)"', html)) <= {
        f"/sandbox-merchant/images/{product_id.removeprefix('prod_')}.svg"
        for product_id in Product.objects.values_list("id", flat=True)
    }


def test_a_signed_in_customer_gets_the_widget_with_their_id_and_no_demo_passwords(catalog, client):
    alice = get_user_model().objects.create_user(username="alice", password="x")
    client.force_login(alice)

    html = client.get("/").content.decode()

    assert f'data-user-id="{alice.pk}"' in html
    assert "alice-demo-2026" not in html
    assert "Signed in as <strong>alice</strong>" in html


def test_demo_passwords_set_in_the_environment_are_never_shown(catalog, client, monkeypatch):
    monkeypatch.setenv("DEMO_ALICE_PASSWORD", "a-secret-of-the-operator")

    html = client.get("/").content.decode()

    assert "a-secret-of-the-operator" not in html
    assert "alice-demo-2026" not in html
    assert "bob-demo-2026" in html


def test_the_seed_points_product_pictures_at_this_site_and_stays_idempotent(catalog):
    demo_data_seed()

    assert ProductImage.objects.count() == Product.objects.count()
    assert ProductImage.objects.get(product_id="prod_blue_runner").url == "/sandbox-merchant/images/blue_runner.svg"
    assert not ProductImage.objects.filter(url__contains="://").exists()


def test_a_product_picture_is_an_svg_in_the_products_colour(catalog, client):
    response = client.get("/sandbox-merchant/images/blue_runner.svg")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    svg = response.content.decode()
    assert svg.startswith("<svg") and "#2f6fd6" in svg  # blue
    assert client.get("/sandbox-merchant/images/no_such_thing.svg").status_code == 404


def test_a_title_is_escaped_in_the_picture():
    svg = product_image_svg(title='<script>alert(1)</script> & "x"', category="bags", colour_name="red")

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg and "&quot;x&quot;" in svg
