"""Money a merchant gave back, returned to the caps: once per refund, never past the charge, in the charge's windows."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from consent.models import SpendEntry, SpendKind
from consent.selectors import spend_used
from consent.services.ledger import spend_commit, spend_refund, spend_release, spend_reserve


def charge(user, amount: int, ref: str, session: str = "chat-1") -> None:
    spend_reserve(user_id=user.pk, amount=amount, currency="USD", flow_reference=ref, chat_session_reference=session)
    spend_commit(flow_reference=ref)


def test_a_refund_gives_back_once_per_key_and_partial_refunds_add_up_to_the_charge_at_most(alice):
    charge(alice, 5000, "flow:a:r1")

    first, created = spend_refund(flow_reference="flow:a:r1", amount=2000, refund_key="m:o:adj_1")
    again, created_again = spend_refund(flow_reference="flow:a:r1", amount=2000, refund_key="m:o:adj_1")
    rest, _ = spend_refund(flow_reference="flow:a:r1", amount=9999, refund_key="m:o:adj_2")
    beyond, _ = spend_refund(flow_reference="flow:a:r1", amount=100, refund_key="m:o:adj_3")

    assert created and not created_again and again.pk == first.pk
    assert (first.amount, rest.amount, beyond) == (2000, 3000, None)
    assert spend_used(user_id=alice.pk, chat_session_reference="chat-1") == {
        "per_day": 0,
        "per_month": 0,
        "per_session": 0,
    }


def test_nothing_is_given_back_for_a_reservation_that_was_released_or_never_made(alice):
    spend_reserve(user_id=alice.pk, amount=5000, currency="USD", flow_reference="flow:b:r1")
    spend_release(flow_reference="flow:b:r1")

    assert spend_refund(flow_reference="flow:b:r1", amount=5000, refund_key="k1") == (None, False)
    assert spend_refund(flow_reference="flow:nothing:r1", amount=5000, refund_key="k2") == (None, False)
    assert not SpendEntry.objects.filter(kind=SpendKind.REFUND).exists()


def test_a_refund_frees_the_room_of_the_window_its_charge_counted_in(alice):
    charge(alice, 5000, "flow:old:r1", session="chat-old")
    SpendEntry.objects.filter(flow_reference="flow:old:r1").update(created_at=timezone.now() - timedelta(days=40))
    charge(alice, 3000, "flow:new:r1", session="chat-new")

    spend_refund(flow_reference="flow:old:r1", amount=5000, refund_key="old")

    assert spend_used(user_id=alice.pk, chat_session_reference="chat-new") == {
        "per_day": 3000,
        "per_month": 3000,
        "per_session": 3000,
    }
    assert spend_used(user_id=alice.pk, chat_session_reference="chat-old")["per_session"] == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_of_one_charge_never_give_back_more_than_it(alice):
    charge(alice, 5000, "flow:c:r1")
    barrier = threading.Barrier(6)
    unexpected: list[BaseException] = []

    def refund(index: int) -> None:
        try:
            barrier.wait()
            # six reports of four adjustments of $20: $80 for a $50 charge
            spend_refund(flow_reference="flow:c:r1", amount=2000, refund_key=f"m:o:{index % 4}")
        except BaseException as error:
            unexpected.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=refund, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    refunds = SpendEntry.objects.filter(kind=SpendKind.REFUND)
    assert sum(refunds.values_list("amount", flat=True)) == 5000
    assert refunds.values("refund_key").distinct().count() == refunds.count()
    assert spend_used(user_id=alice.pk)["per_day"] == 0
