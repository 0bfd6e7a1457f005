"""The customer's wallet: saved cards (vault references the merchant confirms, never card numbers), shipping
addresses, and who the customer is at each merchant.

Writes to one customer's cards and addresses are serialized on their ConsentProfile row (one default
among siblings, no duplicate card).
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import ActorType, Outcome
from audit.services import Origin
from catalog_adapters.contract import StoredCard
from consent.exceptions import (
    InvalidAddress,
    InvalidPaymentMethod,
    MerchantAccountMissing,
    MerchantVaultUnavailable,
    PaymentMethodNotAtMerchant,
    WalletItemRemoved,
)
from consent.models import (
    Address,
    CardBrand,
    ConsentProfile,
    MerchantAccount,
    PaymentMethod,
    SecurityNoticeKind,
    no_card_number_validator,
    vault_reference_validator,
)
from consent.selectors import merchant_account_for_customer
from consent.services.notices import security_notice_create
from consent.services.profile import consent_audit_record, consent_profile_ensure
from consent.siblings import default_for_new, default_move_to, default_remove

logger = logging.getLogger(__name__)


def _lock_customer(user_id: int) -> ConsentProfile:
    """Serialize one customer's writes to their cards and addresses (defaults, duplicates) on their profile row."""
    consent_profile_ensure(user_id=user_id)
    return ConsentProfile.objects.select_for_update().get(user_id=user_id)


# -- payment methods -----------------------------------------------------------------------------


def payment_method_add(
    *,
    user_id: int,
    merchant_id: str,
    vault_reference: str,
    nickname: str = "",
    make_default: bool = False,
    origin: Origin | None = None,
) -> PaymentMethod:
    """Save one of the customer's cards at the merchant, by the merchant's vault reference.

    The merchant is asked (over HTTP, its vault's list of this customer's cards, found through our
    MerchantAccount) whether the reference is theirs; brand, last four digits and expiry come from its
    answer, never from the request, so nobody can save another customer's card or dress a card up as
    another. A reference the merchant does not confirm raises PaymentMethodNotAtMerchant (audited,
    nothing stored). Adding a saved reference again returns the saved card (idempotent, no call).
    """
    vault_reference = (vault_reference or "").strip()
    nickname = (nickname or "").strip()
    try:
        # Checked before the call: a card number typed in the wrong field never leaves our side.
        vault_reference_validator(vault_reference)
        no_card_number_validator(vault_reference)
    except ValidationError as error:
        raise InvalidPaymentMethod(
            f"Vault reference: {error.messages[0]}", fields={"vault_reference": error.messages}
        ) from None
    try:
        no_card_number_validator(nickname)
    except ValidationError as error:
        raise InvalidPaymentMethod(f"Nickname: {error.messages[0]}", fields={"nickname": error.messages}) from None
    if len(nickname) > 40:
        raise InvalidPaymentMethod("Nickname: at most 40 characters.", fields={"nickname": ["Too long."]})
    existing = PaymentMethod.objects.filter(
        user_id=user_id, merchant_id=merchant_id, vault_reference=vault_reference, removed_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    card = _merchant_card(user_id=user_id, merchant_id=merchant_id, vault_reference=vault_reference, origin=origin)
    return payment_method_store(
        user_id=user_id,
        merchant_id=merchant_id,
        card=card,
        nickname=nickname,
        make_default=make_default,
        actor_type=ActorType.CUSTOMER,
        origin=origin,
    )


def _card_refused(*, user_id: int, merchant_id: str, vault_reference: str, reason: str, origin: Origin | None) -> None:
    with transaction.atomic():
        consent_audit_record(
            "consent.payment_method_refused",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            data={"merchant_id": merchant_id, "vault_reference": vault_reference, "reason": reason},
            origin=origin,
            outcome=Outcome.DENIED,
        )


def _merchant_card(*, user_id: int, merchant_id: str, vault_reference: str, origin: Origin | None) -> StoredCard:
    """The merchant's description of its card `vault_reference`, if the merchant says it is this customer's."""
    from catalog_adapters.errors import MerchantClientError, MerchantError, UnknownMerchant
    from catalog_adapters.registry import get_merchant

    account = merchant_account_for_customer(user_id=user_id, merchant_id=merchant_id)
    if account is None:
        _card_refused(
            user_id=user_id,
            merchant_id=merchant_id,
            vault_reference=vault_reference,
            reason="no_account",
            origin=origin,
        )
        raise MerchantAccountMissing(
            f"Your account is not linked to the shop {merchant_id!r} yet, so we cannot check that the card is yours. "
            "Nothing was saved."
        )
    try:
        cards = get_merchant(merchant_id).vault.customer_cards(customer_id=account.customer_ref)
    except UnknownMerchant:
        raise InvalidPaymentMethod(f"There is no shop called {merchant_id!r}.") from None
    except MerchantClientError as error:
        if error.status != 404:
            raise MerchantVaultUnavailable(
                "The shop could not confirm the card just now. Nothing was saved; please try again in a minute."
            ) from error
        cards = []  # the shop does not know the customer: no card of theirs to confirm
    except MerchantError as error:
        raise MerchantVaultUnavailable(
            "The shop could not confirm the card just now. Nothing was saved; please try again in a minute."
        ) from error
    for card in cards:
        if card.vault_reference == vault_reference:
            return card
    _card_refused(
        user_id=user_id, merchant_id=merchant_id, vault_reference=vault_reference, reason="not_yours", origin=origin
    )
    raise PaymentMethodNotAtMerchant(
        "The shop does not know this card as one of yours. Add the card at the shop first, then save it here with "
        "the reference the shop gives it. Nothing was saved."
    )


def payment_method_store(
    *,
    user_id: int,
    merchant_id: str,
    card: StoredCard,
    nickname: str = "",
    make_default: bool = False,
    actor_type: ActorType | str = ActorType.SYSTEM,
    origin: Origin | None = None,
) -> PaymentMethod:
    """Save a card as the merchant describes it: from payment_method_add's answer, or from seed data that
    mirrors the merchant's vault (consent.demo). Never called with details a request sent.

    The first card becomes the default. Saving a saved reference again returns it (idempotent).
    """
    brand = card.brand.lower() if card.brand.lower() in CardBrand.values else CardBrand.OTHER
    method = PaymentMethod(
        user_id=user_id,
        merchant_id=merchant_id,
        vault_reference=card.vault_reference,
        brand=brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        nickname=nickname,
        added_by=str(actor_type),
    )
    try:
        method.full_clean(exclude=["user", "is_default"])
    except ValidationError as error:
        raise InvalidPaymentMethod(_first_message(error), fields=error.message_dict) from None
    with transaction.atomic():
        _lock_customer(user_id)
        existing = PaymentMethod.objects.filter(
            user_id=user_id, merchant_id=merchant_id, vault_reference=card.vault_reference, removed_at__isnull=True
        ).first()
        if existing is not None:
            return existing
        default_for_new(PaymentMethod, user_id=user_id, row=method, make_default=make_default)
        method.save(force_insert=True)
        consent_audit_record(
            "consent.payment_method_added",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_type == ActorType.CUSTOMER else None,
            target=method,
            data={"card": method.masked, "merchant_id": merchant_id, "default": method.is_default},
            origin=origin,
        )
        if actor_type != ActorType.SYSTEM:
            security_notice_create(
                user_id=user_id,
                kind=SecurityNoticeKind.CARD_ADDED,
                subject="A new card was added to your account",
                what=f"A new card ending {method.last4} ({method.get_brand_display()}) was added to your account",
                undo="remove the card on your settings page",
            )
    logger.info("payment method added", extra={"customer_id": user_id, "payment_method_id": method.pk})
    return method


def payment_method_set_default(*, user_id: int, payment_method_id: int, origin: Origin | None = None) -> PaymentMethod:
    with transaction.atomic():
        _lock_customer(user_id)
        method = PaymentMethod.objects.select_for_update().get(pk=payment_method_id, user_id=user_id)
        if method.removed_at is not None:
            raise WalletItemRemoved(f"{method.masked} was removed, so it cannot be your default card.")
        if not default_move_to(PaymentMethod, user_id=user_id, row=method):
            return method
        consent_audit_record(
            "consent.payment_method_default_changed",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=method,
            data={"card": method.masked},
            origin=origin,
        )
    return method


def payment_method_remove(*, user_id: int, payment_method_id: int, origin: Origin | None = None) -> PaymentMethod:
    """Stop using a saved card. If it was the default, the oldest remaining card becomes the default.

    Another customer's card is not found (DoesNotExist); one of theirs already removed raises WalletItemRemoved.
    """
    with transaction.atomic():
        _lock_customer(user_id)
        method = PaymentMethod.objects.select_for_update().get(pk=payment_method_id, user_id=user_id)
        if method.removed_at is not None:
            raise WalletItemRemoved(f"{method.masked} was already removed.")
        default_remove(PaymentMethod, user_id=user_id, row=method, removed_at=timezone.now())
        consent_audit_record(
            "consent.payment_method_removed",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=method,
            data={"card": method.masked},
            origin=origin,
        )
    logger.info("payment method removed", extra={"customer_id": user_id, "payment_method_id": method.pk})
    return method


# -- addresses -----------------------------------------------------------------------------------

# What makes two saved addresses the same one.
ADDRESS_FIELDS = ("label", "recipient", "line1", "line2", "city", "region", "postal_code", "country")


def address_add(
    *,
    user_id: int,
    label: str,
    recipient: str,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    line2: str = "",
    region: str = "",
    make_default: bool = False,
    actor_type: ActorType | str = ActorType.CUSTOMER,
    origin: Origin | None = None,
) -> Address:
    """Save a shipping address. The first one becomes the default.

    Saving an address the customer has saved already (every field the same: a double click, a form sent
    again) returns the saved one and writes nothing, as saving a saved card does.
    """
    address = Address(
        user_id=user_id,
        label=label.strip(),
        recipient=recipient.strip(),
        line1=line1.strip(),
        line2=line2.strip(),
        city=city.strip(),
        region=region.strip(),
        postal_code=postal_code.strip(),
        country=country.strip().upper(),
        added_by=str(actor_type),
    )
    try:
        address.full_clean(exclude=["user", "is_default"])
    except ValidationError as error:
        raise InvalidAddress(_first_message(error), fields=error.message_dict) from None
    with transaction.atomic():
        _lock_customer(user_id)
        same = {field: getattr(address, field) for field in ADDRESS_FIELDS}
        existing = Address.objects.filter(user_id=user_id, removed_at__isnull=True, **same).first()
        if existing is not None:
            return existing
        default_for_new(Address, user_id=user_id, row=address, make_default=make_default)
        address.save(force_insert=True)
        consent_audit_record(
            "consent.address_added",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_type == ActorType.CUSTOMER else None,
            target=address,
            data={"label": address.label, "city": address.city, "country": address.country},
            origin=origin,
        )
        if actor_type != ActorType.SYSTEM:
            security_notice_create(
                user_id=user_id,
                kind=SecurityNoticeKind.ADDRESS_ADDED,
                subject="A new shipping address was added to your account",
                what=(
                    f"A new shipping address “{address.label}” ({address.city}, {address.country}) was added to "
                    "your account"
                ),
                undo="remove the address on your settings page",
            )
    return address


def address_set_default(*, user_id: int, address_id: int, origin: Origin | None = None) -> Address:
    with transaction.atomic():
        _lock_customer(user_id)
        address = Address.objects.select_for_update().get(pk=address_id, user_id=user_id)
        if address.removed_at is not None:
            raise WalletItemRemoved(f"The address “{address.label}” was removed, so it cannot be your default address.")
        if not default_move_to(Address, user_id=user_id, row=address):
            return address
        consent_audit_record(
            "consent.address_default_changed",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=address,
            data={"label": address.label},
            origin=origin,
        )
    return address


def address_remove(*, user_id: int, address_id: int, origin: Origin | None = None) -> Address:
    with transaction.atomic():
        _lock_customer(user_id)
        address = Address.objects.select_for_update().get(pk=address_id, user_id=user_id)
        if address.removed_at is not None:
            raise WalletItemRemoved(f"The address “{address.label}” was already removed.")
        default_remove(Address, user_id=user_id, row=address, removed_at=timezone.now())
        consent_audit_record(
            "consent.address_removed",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=address,
            data={"label": address.label},
            origin=origin,
        )
    return address


# -- merchant accounts ---------------------------------------------------------------------------


def merchant_account_link(*, user_id: int, merchant_id: str, customer_ref: str, email: str) -> MerchantAccount:
    """Record who the customer is at a merchant. Idempotent; a changed e-mail is updated."""
    with transaction.atomic():
        account, created = MerchantAccount.objects.select_for_update().get_or_create(
            user_id=user_id, merchant_id=merchant_id, defaults={"customer_ref": customer_ref, "email": email}
        )
        if not created and (account.customer_ref != customer_ref or account.email != email):
            account.customer_ref = customer_ref
            account.email = email
            account.save(update_fields=["customer_ref", "email"])
            created = True
        if created:
            consent_audit_record(
                "consent.merchant_account_linked",
                user_id=user_id,
                actor_type=ActorType.SYSTEM,
                actor_id=None,
                target=account,
                data={"merchant_id": merchant_id, "customer_ref": customer_ref},
            )
    return account


def _first_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        for field, messages in error.message_dict.items():
            if messages:
                label = field.replace("_", " ")
                return f"{label.capitalize()}: {messages[0]}"
    return error.messages[0] if error.messages else "That is not valid."
