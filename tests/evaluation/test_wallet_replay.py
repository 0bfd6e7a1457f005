"""tests/support/wallet_replay.py: the demo wallet written again for a new user is the one the services give."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from consent.demo import DEMO_CUSTOMERS, demo_wallet_give
from consent.models import MerchantAccount
from ordering.evaluation.tasks import EXTRA_ADDRESSES
from tests.support import wallet_replay

pytestmark = pytest.mark.django_db


def _table_counts() -> dict[str, int]:
    names = connection.introspection.django_table_names(only_existing=True, include_views=False)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM {quote(name)})" for name in names))
        return dict(zip(names, cursor.fetchone(), strict=True))


def _given(give, customer: str) -> dict:
    """A fresh user given `customer`'s wallet by `give`, as customer_prepare does; what it wrote."""
    spec = DEMO_CUSTOMERS[customer]
    MerchantAccount.objects.filter(customer_ref=spec["customer_ref"]).delete()  # one of our users at a time
    user = get_user_model().objects.create(username=f"wallet-{uuid.uuid4().hex[:10]}", email=spec["email"])
    wallet_replay.audit_flush()
    before = _table_counts()
    with CaptureQueriesContext(connection) as queries:
        give(user_id=user.pk, spec=spec, extra_addresses=tuple(EXTRA_ADDRESSES.get(customer, [])))
        wallet_replay.audit_flush()
    after = _table_counts()
    rows, positions = {}, {}
    for model in wallet_replay.WALLET_MODELS:
        found = list(model.objects.filter(user_id=user.pk).order_by("pk").values())
        for index, row in enumerate(found):
            positions[(model._meta.label_lower, str(row["id"]))] = (model.__name__, index)
        times = {key for key, value in found[0].items() if hasattr(value, "tzinfo")} if found else set()
        for row in found:
            for key in times:
                if row[key] is not None:
                    assert abs(row[key] - timezone.now()) < timedelta(seconds=30), (model, key)
                    row[key] = "a moment ago"
            row.pop("id"), row.pop("user_id")
        rows[model.__name__] = found
    events = [
        {**event, "target_id": positions.get((event["target_type"], str(event["target_id"])))}
        for event in AuditEvent.objects.filter(customer_id=user.pk)
        .order_by("sequence")
        .values("action", "actor_type", "actor_id", "target_type", "target_id", "outcome", "data", "policy_version",
                "origin_ip", "origin_user_agent", "origin_channel")
    ]  # fmt: skip
    written = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    return {"rows": rows, "events": events, "written": written, "statements": len(queries.captured_queries)}


@pytest.mark.parametrize("customer", ["alice", "bob"])
def test_the_replayed_wallet_is_the_one_the_services_give(monkeypatch, customer):
    monkeypatch.setattr(wallet_replay, "_wallets", {})
    # the first call gives it through the services and keeps what they wrote
    _given(wallet_replay.demo_wallet_replaying, customer)

    by_the_services = _given(demo_wallet_give, customer)
    replayed = _given(wallet_replay.demo_wallet_replaying, customer)

    assert replayed["rows"] == by_the_services["rows"]
    assert replayed["events"] == by_the_services["events"]
    assert all(event["target_id"] is not None for event in replayed["events"])
    assert replayed["written"] == by_the_services["written"]
    assert replayed["written"]["consent_consentgrant"] == 3 and replayed["written"]["audit_auditevent"] >= 6
    # in a few statements: the probe, one INSERT per table, the events
    assert replayed["statements"] <= 10 < by_the_services["statements"], (replayed, by_the_services)


def test_a_user_who_has_a_wallet_gets_the_services(monkeypatch):
    monkeypatch.setattr(wallet_replay, "_wallets", {})
    spec = DEMO_CUSTOMERS["bob"]
    first = _given(wallet_replay.demo_wallet_replaying, "bob")
    user = get_user_model().objects.get(merchant_accounts__customer_ref=spec["customer_ref"])
    # given again to the same user: the services' idempotent answer (nothing new), not a second wallet
    wallet_replay.demo_wallet_replaying(user_id=user.pk, spec=spec)

    assert first["written"]["consent_paymentmethod"] == 1
    assert MerchantAccount.objects.filter(user=user).count() == 1
    assert user.payment_methods.count() == 1 and user.saved_addresses.count() == 1
