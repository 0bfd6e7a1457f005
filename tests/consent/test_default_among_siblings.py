"""One rule for the default card and the default address (consent.siblings): the first saved becomes the
default, "make default" takes it over, removing the default hands it to the oldest remaining one, and there
is never more than one — the same for both kinds, through their services."""

from __future__ import annotations

import pytest

from consent.models import Address, PaymentMethod
from consent.services.wallet import (
    address_remove,
    address_set_default,
    payment_method_remove,
    payment_method_set_default,
)
from tests.consent.factories import address, card

KINDS = {
    "card": (
        PaymentMethod,
        lambda user, n, **kw: card(user, vault_reference=f"pm_test_{n}", last4=f"{4240 + n}", **kw),
        lambda user, row: payment_method_set_default(user_id=user.pk, payment_method_id=row.pk),
        lambda user, row: payment_method_remove(user_id=user.pk, payment_method_id=row.pk),
    ),
    "address": (
        Address,
        lambda user, n, **kw: address(user, label=f"Place {n}", **kw),
        lambda user, row: address_set_default(user_id=user.pk, address_id=row.pk),
        lambda user, row: address_remove(user_id=user.pk, address_id=row.pk),
    ),
}


def _default(model, user):
    return list(model.objects.filter(user=user, is_default=True, removed_at__isnull=True).values_list("pk", flat=True))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_default_moves_the_same_way_for_cards_and_addresses(kind, alice, bob):
    model, add, set_default, remove = KINDS[kind]
    first = add(alice, 1)
    second = add(alice, 2)
    third = add(alice, 3, make_default=True)
    add(bob, 9)  # another customer's rows never take part

    assert _default(model, alice) == [third.pk]  # asked for, it took the default over from the first
    set_default(alice, second)
    assert _default(model, alice) == [second.pk]
    set_default(alice, second)  # again: nothing changes
    assert _default(model, alice) == [second.pk]

    remove(alice, second)  # the default goes: the oldest remaining one inherits it
    assert _default(model, alice) == [first.pk]
    remove(alice, third)  # not the default: the default stays
    assert _default(model, alice) == [first.pk]
    remove(alice, first)
    assert _default(model, alice) == []
    assert len(_default(model, bob)) == 1

    fresh = add(alice, 4)  # after all were removed, the next one saved is the default again
    assert _default(model, alice) == [fresh.pk]
