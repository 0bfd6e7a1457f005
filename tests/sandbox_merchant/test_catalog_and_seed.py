"""The catalog, customer and saved-item extensions, and the demo data they serve."""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from sandbox_merchant import models
from tests.support.sandbox import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_matches_every_word_in_any_case_and_reports_availability(sandbox_merchant):
    response = sandbox_merchant.get("/products", params={"q": "Blue RUNNING shoes"})

    assert response.status_code == 200
    products = response.json()["data"]
    # Cloud Jogger comes in blue too, but q matches title, description and category, not variant colours.
    assert [p["id"] for p in products] == ["prod_blue_runner"]
    runner = products[0]
    assert runner["title"] == "Blue Runner"
    assert runner["category"] == "running-shoes"
    assert runner["price"] == {"amount": 7200, "currency": "usd"}
    assert runner["image_url"].endswith("/sandbox-merchant/images/blue_runner.svg")
    assert [v["size"] for v in runner["variants"]] == ["40", "41", "42", "43", "44", "45"]
    assert {v["colour"] for v in runner["variants"]} == {"blue"}
    assert all(v["available"] == 8 for v in runner["variants"])


def test_search_filters_by_category_colour_size_and_limit(sandbox_merchant):
    by_category = sandbox_merchant.get("/products", params={"category": "running-shoes"}).json()["data"]
    red_shoes = sandbox_merchant.get("/products", params={"q": "shoes", "colour": "red"}).json()["data"]
    size_xl = sandbox_merchant.get("/products", params={"size": "XL", "limit": 3}).json()["data"]
    nothing = sandbox_merchant.get("/products", params={"q": "running spaceship"}).json()["data"]

    assert {p["id"] for p in by_category} == {
        "prod_blue_runner",
        "prod_trail_blazer",
        "prod_tempo_racer",
        "prod_cloud_jogger",
    }
    assert [p["id"] for p in red_shoes] == ["prod_tempo_racer"]
    assert len(size_xl) == 3
    assert nothing == []


def test_a_reservation_shows_in_the_available_count(sandbox_merchant):
    sandbox_merchant.create_session(quantity=3)

    product = sandbox_merchant.get("/products/prod_blue_runner").json()

    assert next(v["available"] for v in product["variants"] if v["id"] == "var_blue_runner_42") == 5
    assert sandbox_merchant.get("/products/prod_nope").status_code == 404


def test_saved_items_by_kind_and_since_newest_first(sandbox_merchant):
    liked = sandbox_merchant.get("/customers/cus_alice/saved_items", params={"kind": "liked"}).json()["data"]
    week_ago = (timezone.now() - timedelta(days=7)).isoformat()
    liked_last_week = sandbox_merchant.get(
        "/customers/cus_alice/saved_items", params={"kind": "liked", "since": week_ago}
    ).json()["data"]
    everything = sandbox_merchant.get("/customers/cus_alice/saved_items").json()["data"]

    assert [(i["product_id"], i["variant_id"]) for i in liked] == [
        ("prod_blue_runner", "var_blue_runner_42"),
        ("prod_steel_bottle", "var_steel_bottle_blue"),
    ]
    assert [i["product_id"] for i in liked_last_week] == ["prod_blue_runner"]
    liked_at = datetime.fromisoformat(liked_last_week[0]["saved_at"])
    assert timedelta(days=5, hours=23) < timezone.now() - liked_at < timedelta(days=6, hours=1)
    saved_ats = [i["saved_at"] for i in everything]
    assert saved_ats == sorted(saved_ats, reverse=True)
    assert {i["kind"] for i in everything} == {"liked", "viewed", "purchased"}


def test_saved_items_errors(sandbox_merchant):
    assert sandbox_merchant.get("/customers/cus_nobody/saved_items").status_code == 404
    assert sandbox_merchant.get("/customers/cus_alice/saved_items", params={"kind": "loved"}).status_code == 400
    bad_since = sandbox_merchant.get("/customers/cus_alice/saved_items", params={"since": "last week"})
    assert bad_since.status_code == 400 and bad_since.json()["param"] == "since"


def test_a_purchase_becomes_a_purchased_saved_item(sandbox_merchant):
    session = sandbox_merchant.ready_session(variant_id="var_tempo_racer_red_44")
    total = next(t["amount"] for t in session["totals"] if t["type"] == "total")
    token = sandbox_merchant.delegate(session["id"], total)
    sandbox_merchant.post(f"/checkout_sessions/{session['id']}/complete", {"payment_data": payment_data(token)})

    purchased = sandbox_merchant.get("/customers/cus_alice/saved_items", params={"kind": "purchased"}).json()["data"]

    assert purchased[0]["product_id"] == "prod_tempo_racer"
    assert purchased[0]["variant_id"] == "var_tempo_racer_red_44"


def test_customer_detail_and_personal_promotions(sandbox_merchant):
    alice = sandbox_merchant.get("/customers/cus_alice").json()
    promotions = sandbox_merchant.get("/customers/cus_alice/promotions").json()["data"]
    bob_promotions = sandbox_merchant.get("/customers/cus_bob/promotions").json()["data"]

    assert alice["email"] == "alice@example.com"
    assert [a["label"] for a in alice["addresses"]] == ["home", "work"]
    assert alice["addresses"][0]["is_default"] is True
    assert {(p["vault_reference"], p["brand"], p["last4"]) for p in alice["payment_methods"]} == {
        ("pm_alice_visa", "visa", "4242"),
        ("pm_alice_decline", "visa", "0002"),
        ("pm_alice_3ds", "mastercard", "3220"),
    }
    assert [(p["code"], p["kind"], p["percent_off"]) for p in promotions] == [("ALICE10", "percent", 10)]
    assert bob_promotions == []


def test_promotions_with_the_codes_anyone_may_use(sandbox_merchant):
    from sandbox_merchant.models import Promotion

    Promotion.objects.filter(code="SAVE10").update(active=False)  # a code switched off is not listed
    alice = sandbox_merchant.get("/customers/cus_alice/promotions", params={"include": "public"}).json()["data"]
    bob = sandbox_merchant.get("/customers/cus_bob/promotions", params={"include": "public"}).json()["data"]
    refused = sandbox_merchant.get("/customers/cus_bob/promotions", params={"include": "everything"})

    # the customer's own first, then the open ones; another customer's personal code never
    assert (alice[0]["code"], alice[0]["personal"]) == ("ALICE10", True)
    assert ("RUN15", False) in [(p["code"], p["personal"]) for p in alice]
    assert "SAVE10" not in {p["code"] for p in alice}
    assert "ALICE10" not in {p["code"] for p in bob}
    assert all(p["personal"] is False for p in bob) and {p["code"] for p in bob} >= {"RUN15"}
    assert refused.status_code == 400


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            models.Product,
            models.ProductImage,
            models.Variant,
            models.Customer,
            models.CustomerAddress,
            models.SavedItem,
            models.Promotion,
            models.VaultCard,
        )
    }


def test_the_seed_command_is_idempotent_and_restores_demo_prices_and_stock(transactional_db, capsys):
    # given
    call_command("seed_sandbox_merchant")
    first = _counts()
    models.Variant.objects.filter(id="var_blue_runner_42").update(stock=0, price_amount=1)

    # when
    call_command("seed_sandbox_merchant")

    # then
    assert _counts() == first
    assert 38 <= first["Product"] <= 45
    assert len({p.category for p in models.Product.objects.all()}) >= 10
    assert first["Customer"] == 2
    runner = models.Variant.objects.get(id="var_blue_runner_42")
    assert (runner.stock, runner.price_amount) == (8, 7200)
    assert set(models.Variant.objects.filter(product_id="prod_blue_runner").values_list("size", flat=True)) == {
        "40",
        "41",
        "42",
        "43",
        "44",
        "45",
    }
    assert models.Customer.objects.get(id="cus_alice").email == "alice@example.com"
    assert models.Customer.objects.get(id="cus_bob").email == "bob@example.com"
    assert models.Promotion.objects.get(code="ALICE10").customer_id == "cus_alice"
    assert models.Promotion.objects.get(code="SAVE10").customer_id is None
    assert "Sandbox merchant seeded" in capsys.readouterr().out


def test_the_project_demo_seed_leaves_the_sandbox_to_its_own_command(transactional_db, settings):
    # the sandbox is its own service: our seed_demo seeds our side only; scripts/run seeds the sandbox
    settings.DEBUG = True

    call_command("seed_demo")
    assert not models.Product.objects.exists()
    call_command("seed_sandbox_merchant")
    call_command("seed_sandbox_merchant")

    assert models.Product.objects.filter(id="prod_blue_runner").exists()
    assert models.SavedItem.objects.filter(customer_id="cus_alice", kind="liked").count() == 2
