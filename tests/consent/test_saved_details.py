"""The customer's saved cards, addresses and shop account read in one query (what a chat turn reads with the
turn itself on PostgreSQL) are exactly what the per-kind selectors return: the same rows, in the same order, field
for field; and so are those of the ORM path (three queries: SQLite's, and PostgreSQL's with the hand-written
statements switched off, config/statements.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import Address, MerchantAccount, PaymentMethod
from consent.selectors import (
    addresses_for_customer,
    merchant_account_for_customer,
    payment_methods_for_customer,
    saved_details_for_customer,
)
from tests.consent.factories import address, card

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.fixture(params=[True, False], ids=["one_query", "orm"])
def hand_written(request, settings) -> bool:
    settings.DATABASE_HAND_WRITTEN_SQL = request.param
    return request.param and connection.vendor == "postgresql"


def test_one_query_reads_what_the_three_selectors_read(alice, bob, hand_written):
    # given alice's cards and addresses, one of each removed, a default that is not the oldest, and bob's
    card(alice, vault_reference="pm_alice_one", last4="1111")
    card(alice, vault_reference="pm_alice_two", last4="2222", make_default=True)
    gone = card(alice, vault_reference="pm_alice_gone", last4="3333")
    PaymentMethod.objects.filter(pk=gone.pk).update(removed_at=timezone.now())
    card(bob, vault_reference="pm_bob", last4="4444")
    address(alice, label="Home")
    address(alice, label="Work", line2="Floor 2", make_default=True)
    moved = address(alice, label="Old")
    Address.objects.filter(pk=moved.pk).update(removed_at=timezone.now())
    MerchantAccount.objects.create(user=alice, merchant_id="sandbox", customer_ref="cus_alice", email="a@example.com")
    MerchantAccount.objects.create(user=alice, merchant_id="other", customer_ref="cus_other", email="o@example.com")

    # when they are read (in one query on PostgreSQL)
    with CaptureQueriesContext(connection) as captured:
        saved = saved_details_for_customer(user_id=alice.pk, merchant_id="sandbox")

    # then it is one query (or the three selectors'), and each list is what its selector returns
    assert len(captured.captured_queries) == (1 if hand_written else 3)
    assert [_fields(m) for m in saved.payment_methods] == [
        _fields(m) for m in payment_methods_for_customer(user_id=alice.pk)
    ]
    assert [_fields(a) for a in saved.addresses] == [_fields(a) for a in addresses_for_customer(user_id=alice.pk)]
    assert [m.last4 for m in saved.payment_methods][:1] == ["2222"]  # the default first
    assert _fields(saved.account) == _fields(merchant_account_for_customer(user_id=alice.pk, merchant_id="sandbox"))
    assert saved.merchant_id == "sandbox"
    assert all(not m._state.adding for m in saved.payment_methods)


def test_a_customer_with_nothing_saved(alice, hand_written):
    saved = saved_details_for_customer(user_id=alice.pk, merchant_id="sandbox")
    assert saved.payment_methods == [] and saved.addresses == [] and saved.account is None
