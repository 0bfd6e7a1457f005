"""Hot reads built once (sandbox_merchant/compiled.py): each call runs with its own values, never the first call's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sandbox_merchant import compiled
from sandbox_merchant.models import CheckoutSession, Customer, Promotion, ReceivedRequest, VaultCard, VaultToken

pytestmark = pytest.mark.django_db


def _customers(key: str, customer_id: str) -> list[Customer]:
    return compiled.rows(
        Customer, key, lambda: Customer.objects.filter(id=compiled.text("id")).order_by(), id=customer_id
    )


def test_a_compiled_read_binds_each_calls_values():
    Customer.objects.create(id="cus_one", email="one@example.com")
    Customer.objects.create(id="cus_two", email="two@example.com")

    assert [c.email for c in _customers("test-customer", "cus_one")] == ["one@example.com"]
    with CaptureQueriesContext(connection) as queries:
        second = _customers("test-customer", "cus_two")
        missing = _customers("test-customer", "cus_nobody")

    assert [c.email for c in second] == ["two@example.com"]
    assert missing == []
    assert len(queries.captured_queries) == 2
    assert "cus_two" in queries.captured_queries[0]["sql"]


def test_a_moment_placeholder_compares_with_each_calls_time():
    now = timezone.now()
    Promotion.objects.create(code="SOON", kind="percent", percent_off=10, starts_at=now + timedelta(hours=1))

    def started(at):
        return compiled.rows(
            Promotion,
            "test-promotion-started",
            lambda: Promotion.objects.filter(code=compiled.text("code"), starts_at__lte=compiled.moment("at")),
            code="SOON",
            at=at,
        )

    assert started(now) == []
    assert [p.code for p in started(now + timedelta(hours=2))] == ["SOON"]


def test_like_lookups_escape_each_calls_value_as_the_orm_does():
    Customer.objects.create(id="cus_under", email="a_b@example.com")
    Customer.objects.create(id="cus_other", email="axb@example.com")

    def matching(key, lookup, value):
        found = compiled.rows(
            Customer,
            key,
            lambda: Customer.objects.filter(**{f"email__{lookup}": compiled.text("value")}).order_by("id"),
            value=value,
        )
        return [customer.id for customer in found]

    # "_" is a LIKE wildcard: taken literally, as Customer.objects.filter(email__icontains="A_B") would
    assert matching("test-icontains", "icontains", "A_B") == ["cus_under"]
    assert matching("test-icontains", "icontains", "XB@") == ["cus_other"]
    assert matching("test-iexact", "iexact", "A_B@EXAMPLE.COM") == ["cus_under"]
    assert matching("test-iexact", "iexact", "a%b@example.com") == []


def test_a_lookup_that_changes_its_value_otherwise_is_refused_when_built():
    with pytest.raises(ValueError, match="placeholders"):
        compiled.rows(
            CheckoutSession,
            "test-session-buyer",
            lambda: CheckoutSession.objects.filter(buyer=compiled.text("buyer")),
            buyer="alice",
        )


def test_an_insert_returns_its_rows_key_and_an_update_changes_that_row_only():
    now = timezone.now()
    first = compiled.insert(
        ReceivedRequest, method="GET", path="/a", query_string="", trace_id="", request_id="", idempotency_key="",
        operation="get", received_at=now, status=None, faults="", replayed=False,
    )  # fmt: skip
    second = compiled.insert(
        ReceivedRequest, method="POST", path="/b", query_string="", trace_id="", request_id="", idempotency_key="k",
        operation="create", received_at=now, status=201, faults="", replayed=False, duration_ms=4,
    )  # fmt: skip

    assert compiled.update(ReceivedRequest, first, status=200, duration_ms=7) == 1

    rows = ReceivedRequest.objects.order_by("id").values_list("id", "path", "status", "duration_ms", "received_at")
    assert list(rows) == [(first, "/a", 200, 7, now), (second, "/b", 201, 4, now)]


def test_a_compiled_read_gives_the_instance_the_orm_would():
    session = CheckoutSession.objects.create(
        id="cs_same",
        status="ready_for_payment",
        buyer={"email": "alice@example.com"},
        quote={"totals": [{"type": "total", "amount": 6950}]},
        discount_codes=["ALICE10"],
        continue_url="http://shop.example/checkout/cs_same",
        expires_at=timezone.now() + timedelta(minutes=30),
    )

    found = compiled.rows(
        CheckoutSession,
        "test-session",
        lambda: CheckoutSession.objects.filter(id=compiled.text("id")).order_by(),
        id=session.id,
    )

    loaded = CheckoutSession.objects.get(id=session.id)
    assert len(found) == 1 and not found[0]._state.adding
    fields = [field.attname for field in CheckoutSession._meta.concrete_fields]
    assert [getattr(found[0], name) for name in fields] == [getattr(loaded, name) for name in fields]
    assert found[0].buyer == {"email": "alice@example.com"}


def test_a_compiled_read_that_joins_fills_the_related_instances_as_the_orm_would():
    # the complete's locking reads: the token with its card (and the lines with their variants and products)
    customer = Customer.objects.create(id="cus_joined", email="joined@example.com")
    card = VaultCard.objects.create(
        reference="card_joined", customer=customer, brand="visa", last4="4242", exp_month=12, exp_year=2030
    )
    later = timezone.now() + timedelta(minutes=15)
    for token_id in ("vt_one", "vt_two"):
        VaultToken.objects.create(
            id=token_id, card=card, max_amount=100, currency="usd", checkout_session_id="cs_x", merchant_id="m",
            expires_at=later, metadata={"k": token_id},
        )  # fmt: skip

    def token(token_id):
        return compiled.rows(
            VaultToken,
            "test-token-with-card",
            lambda: VaultToken.objects.select_related("card").filter(id=compiled.text("id")).order_by("pk")[:1],
            id=token_id,
        )

    token("vt_one")
    with CaptureQueriesContext(connection) as queries:
        found = token("vt_two")
        brand, metadata = found[0].card.brand, found[0].metadata

    loaded = VaultToken.objects.select_related("card").get(id="vt_two")
    assert len(queries.captured_queries) == 1  # the card came with the token
    assert (brand, metadata) == ("visa", {"k": "vt_two"})
    for model, mine, theirs in ((VaultToken, found[0], loaded), (VaultCard, found[0].card, loaded.card)):
        fields = [field.attname for field in model._meta.concrete_fields]
        assert [getattr(mine, name) for name in fields] == [getattr(theirs, name) for name in fields]
        assert not mine._state.adding
    assert token("vt_none") == []


def test_create_and_save_write_what_the_orms_create_and_save_write():
    # given a session made as the ORM makes one, and the same through compiled.create
    expires = timezone.now() + timedelta(minutes=30)
    values = dict(status="ready_for_payment", continue_url="http://shop.example/c", expires_at=expires)
    orm = CheckoutSession.objects.create(id="cs_orm", **values)
    mine = compiled.create(CheckoutSession, id="cs_mine", **values)

    # then both rows hold the same columns (defaults and auto_now_add filled in), and the instance is a saved one
    fields = [field.attname for field in CheckoutSession._meta.concrete_fields if field.attname not in ("id",)]
    stored = CheckoutSession.objects.get(id="cs_mine")
    assert not mine._state.adding and mine.created_at is not None
    assert [getattr(stored, name) for name in fields if name not in ("created_at", "updated_at")] == [
        getattr(orm, name) for name in fields if name not in ("created_at", "updated_at")
    ]

    # when a loaded row changes and is saved: every column written, updated_at moved on (auto_now)
    before = stored.updated_at
    stored.status, stored.messages = "completed", [{"type": "info", "code": "x", "content": "y"}]
    with CaptureQueriesContext(connection) as queries:
        compiled.save(stored)
    again = CheckoutSession.objects.get(id="cs_mine")
    assert len(queries.captured_queries) == 1
    assert (again.status, again.messages) == ("completed", [{"type": "info", "code": "x", "content": "y"}])
    assert again.updated_at > before


@pytest.mark.django_db(transaction=True)
def test_a_compiled_locking_read_is_refused_outside_a_transaction_as_the_orm_refuses_it():
    def locked():
        return compiled.rows(
            Customer,
            "test-customer-lock",
            lambda: Customer.objects.select_for_update().filter(id=compiled.text("id")).order_by(),
            id="cus_locked",
        )

    with transaction.atomic():
        assert locked() == []  # built and run inside one
    if connection.features.has_select_for_update:
        with pytest.raises(TransactionManagementError):
            locked()  # its lock would end with the statement
