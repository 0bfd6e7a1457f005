"""3-D Secure: the customer answers their card issuer's challenge, and the merchant's result pays.

When the merchant answers a complete with `authentication_required`, the flow waits in
requires_action/payment_verification and the chat carries a link to a page that shows the order
(`flow_payment_challenge_offer`, it opens nothing); its button POSTs to `flow_payment_challenge_start`,
which opens an ACP delegate-authentication session at the merchant and sends the customer to the
issuer's page. The issuer sends the customer back to our callback with a CRes signed with the
merchant's webhook secret; `flow_payment_challenge_finish` checks the signature (and its age), that
the CRes names this flow's checkout session and a challenge we opened for it that is still pending
and was opened for the flow's current payment attempt, reads the authoritative result from the
merchant, and only then resumes placement with that result as ACP `authentication_result`. Anything
else is refused and changes nothing.

The other way out is two specialists (escalations.services.escalation_payment_verification_*).
Lock order: the flow, then its challenge (as every flow writer: flow first).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import ActorType, Outcome
from audit.services import Origin, audit_record
from catalog_adapters.contract import AuthenticationCard
from catalog_adapters.errors import WebhookRejected
from catalog_adapters.registry import get_merchant, get_merchant_config
from catalog_adapters.services import webhook_signature_verify
from ordering.errors import FlowNotConfirmable, PaymentChallengeLimit, PaymentChallengeRefused, PaymentChallengeUsed
from ordering.models import MessageRole, OrderFlow, PaymentChallenge, PaymentChallengeStatus
from ordering.saga.resumes import (
    flow_payment_verified,
    flow_waiting_for_payment_verification,
    payment_verification_link,
)
from ordering.selectors import flow_get
from ordering.services import conversation_post

# Challenges one payment attempt may open (each click of the link opens one): past that, a person helps.
MAX_CHALLENGES_PER_ATTEMPT = 5
# ACP AuthenticationResult.outcome for the provider's final statuses.
_OUTCOMES = {
    "authenticated": "authenticated",
    "attempted": "attempt_acknowledged",
    "not_authenticated": "denied",
    "rejected": "rejected",
    "challenge_abandoned": "abandoned",
    "expired": "canceled",
    "unavailable": "processing_error",
}
_DETAIL_FIELDS = ("three_ds_cryptogram", "electronic_commerce_indicator", "transaction_id", "version")


def _waiting(flow: OrderFlow) -> None:
    if not flow_waiting_for_payment_verification(flow):
        raise FlowNotConfirmable(
            f"This order is not waiting for a payment verification (it is {flow.get_status_display().lower()}).",
            flow_id=str(flow.pk),
        )


def flow_payment_challenge_offer(*, flow_id: Any, customer_id: int) -> OrderFlow:
    """The customer's flow, for the page that offers to open a challenge (opens nothing at the merchant).

    Raises FlowNotFound (not this customer's) and FlowNotConfirmable (not waiting for a verification).
    """
    flow = flow_get(customer_id=customer_id, flow_id=flow_id)
    _waiting(flow)
    return flow


def flow_payment_challenge_start(
    *, flow_id: Any, customer_id: int, notification_url: str, origin: Origin | None = None
) -> str:
    """Open a challenge at the merchant for the customer's waiting flow; returns the issuer's page URL."""
    flow = flow_get(customer_id=customer_id, flow_id=flow_id)
    _waiting(flow)
    opened = PaymentChallenge.objects.filter(flow=flow, payment_attempt=flow.payment_attempt).count()
    if opened >= MAX_CHALLENGES_PER_ATTEMPT:
        raise PaymentChallengeLimit(
            "This payment was sent to your bank too many times. A specialist will help you finish it here.",
            flow_id=str(flow.pk),
        )
    # No lock across the merchant call; the key makes a repeated click within one count replay.
    card = flow.payment_method
    session = get_merchant(flow.merchant_id).checkout.authentication_create(
        session_id=flow.checkout_session_id,
        notification_url=notification_url,
        # The cardholder's name is not stored with the card: the order's recipient stands in.
        card=AuthenticationCard(
            vault_reference=card.vault_reference,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            name=flow.shipping_address.recipient if flow.shipping_address else "",
        )
        if card is not None
        else None,
        operation_id=f"flow:{flow.pk}:r{flow.confirmations}:p{flow.payment_attempt}:authenticate:{opened + 1}",
    )
    url = session.challenge_url or ""
    if session.status != "action_required" or not url.startswith(("https://", "http://")):
        raise PaymentChallengeRefused(
            "Your bank did not offer a verification for this payment. A specialist will help you finish it here.",
            flow_id=str(flow.pk),
            status=session.status,
        )
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow.pk)
        _waiting(flow)
        challenge, _ = PaymentChallenge.objects.get_or_create(
            authentication_session_id=session.id,
            defaults={"flow": flow, "payment_attempt": flow.payment_attempt},
        )
        audit_record(
            action="flow.payment_challenge_started",
            actor_type=ActorType.CUSTOMER,
            actor_id=customer_id,
            customer_id=customer_id,
            target_type="flow",
            target_id=flow.pk,
            origin=origin,
            data={"authentication_session_id": session.id, "payment_attempt": challenge.payment_attempt},
        )
    return url


@dataclass(frozen=True)
class ChallengeResponse:
    """What the signed CRes says (the merchant signed it; the result itself is read from the merchant)."""

    authentication_session_id: str
    checkout_session_id: str
    status: str


def _signed_cres(*, flow: OrderFlow, cres: str, signature: str) -> ChallengeResponse:
    try:
        secret = get_merchant_config(flow.merchant_id).webhook_secret
        webhook_signature_verify(
            secret=secret,
            signature_header=signature,
            raw_body=cres.encode(),
            tolerance=settings.MERCHANT_WEBHOOK_TOLERANCE_SECONDS,
        )
    except WebhookRejected as rejected:
        reason = "has expired" if rejected.code == "signature_stale" else "is not signed by the shop"
        raise PaymentChallengeRefused(
            f"This verification result {reason}. Open the link in the chat again.",
            flow_id=str(flow.pk),
            reason=rejected.code,
        ) from None
    try:
        data = json.loads(base64.urlsafe_b64decode(cres + "=" * (-len(cres) % 4)))
        response = ChallengeResponse(
            authentication_session_id=str(data["authentication_session_id"]),
            checkout_session_id=str(data["checkout_session_id"]),
            status=str(data["status"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise PaymentChallengeRefused("This verification result cannot be read.", flow_id=str(flow.pk)) from None
    if response.checkout_session_id != flow.checkout_session_id:
        raise PaymentChallengeRefused("This verification result is for another order.", flow_id=str(flow.pk))
    return response


def flow_payment_challenge_finish(
    *, flow_id: Any, customer_id: int, cres: str, signature: str, origin: Origin | None = None
) -> tuple[OrderFlow, bool]:
    """The customer is back from the issuer: check the signed result, then pay with it (True) or wait (False).

    Raises FlowNotFound (not this customer's), PaymentChallengeRefused (forged, stale, not this order's),
    PaymentChallengeUsed (a result already used or failed) and FlowNotConfirmable (the order moved on).
    """
    flow = flow_get(customer_id=customer_id, flow_id=flow_id)
    try:
        return _finish(flow, customer_id=customer_id, cres=cres, signature=signature, origin=origin)
    except (PaymentChallengeRefused, PaymentChallengeUsed) as refused:
        # A forged, stale or replayed result is worth knowing about: recorded, then refused.
        audit_record(
            action="flow.payment_challenge_refused",
            actor_type=ActorType.CUSTOMER,
            actor_id=customer_id,
            customer_id=customer_id,
            target_type="flow",
            target_id=flow.pk,
            outcome=Outcome.DENIED,
            origin=origin,
            data={"code": refused.code, "reason": str(refused.details.get("reason", ""))[:64]},
        )
        raise


def _current_attempt(flow: OrderFlow, challenge: PaymentChallenge) -> None:
    # A challenge proves the cardholder was there for the payment attempt it was opened for. One left
    # pending from an earlier attempt (opened, never answered back) must not pay a later one: after that
    # attempt the order was paid again and the merchant asked again, and only a challenge opened since counts.
    if challenge.payment_attempt != flow.payment_attempt:
        raise PaymentChallengeUsed(
            "This verification was for an earlier payment attempt of this order and no longer counts. "
            "Open the link in the chat to verify the payment again.",
            flow_id=str(flow.pk),
            reason="earlier_attempt",
        )


def _finish(
    flow: OrderFlow, *, customer_id: int, cres: str, signature: str, origin: Origin | None
) -> tuple[OrderFlow, bool]:
    response = _signed_cres(flow=flow, cres=cres, signature=signature)
    challenge = PaymentChallenge.objects.filter(
        flow=flow, authentication_session_id=response.authentication_session_id
    ).first()
    if challenge is None:
        raise PaymentChallengeRefused("This verification was not opened for this order.", flow_id=str(flow.pk))
    if challenge.status != PaymentChallengeStatus.PENDING:
        raise PaymentChallengeUsed("This verification result was already used.", flow_id=str(flow.pk))
    _current_attempt(flow, challenge)
    # The authoritative result, from the merchant's server and not from the browser's URL.
    session = get_merchant(flow.merchant_id).checkout.authentication_get(
        authentication_session_id=challenge.authentication_session_id
    )
    if session.checkout_session_id not in (None, flow.checkout_session_id):
        raise PaymentChallengeRefused("This verification result is for another order.", flow_id=str(flow.pk))
    now = timezone.now()
    with transaction.atomic():
        flow = OrderFlow.objects.select_for_update().get(pk=flow.pk)
        challenge = PaymentChallenge.objects.select_for_update().get(pk=challenge.pk)
        if challenge.status != PaymentChallengeStatus.PENDING:
            raise PaymentChallengeUsed("This verification result was already used.", flow_id=str(flow.pk))
        _waiting(flow)
        _current_attempt(flow, challenge)
        result = dict(session.result)
        details = {name: result[name] for name in _DETAIL_FIELDS if isinstance(result.get(name), str)}
        authenticated = session.status == "authenticated" and result.get("trans_status") == "Y" and len(details) == 4
        challenge.outcome = session.status[:32]
        challenge.finished_at = now
        if authenticated:
            challenge.status = PaymentChallengeStatus.AUTHENTICATED
            challenge.save(update_fields=["status", "outcome", "finished_at"])
            flow_payment_verified(
                flow,
                evidence={
                    "kind": "customer_challenge",
                    "authentication_session_id": challenge.authentication_session_id,
                    "transaction_id": details["transaction_id"],
                    "outcome": session.status,
                    "at": now.isoformat(),
                },
                authentication_result={"outcome": _OUTCOMES[session.status], "outcome_details": details},
                actor_type=ActorType.CUSTOMER,
                actor_id=customer_id,
                verified_by="customer_challenge",
            )
            conversation_post(
                conversation_id=flow.conversation_id,
                role=MessageRole.ASSISTANT,
                text="Your bank confirmed the payment. I'm placing your order now.",
                data={"kind": "flow_payment_verified", "flow_id": str(flow.pk)},
            )
            return flow, True
        challenge.status = PaymentChallengeStatus.FAILED
        challenge.save(update_fields=["status", "outcome", "finished_at"])
        audit_record(
            action="flow.payment_challenge_failed",
            actor_type=ActorType.CUSTOMER,
            actor_id=customer_id,
            customer_id=customer_id,
            target_type="flow",
            target_id=flow.pk,
            outcome=Outcome.FAILED,
            origin=origin,
            data={"authentication_session_id": challenge.authentication_session_id, "status": session.status},
        )
        abandoned = session.status == "challenge_abandoned"
        conversation_post(
            conversation_id=flow.conversation_id,
            role=MessageRole.ASSISTANT,
            text=(
                ("You stopped the verification" if abandoned else "Your bank did not confirm the payment")
                + ", so nothing was charged and the order is waiting. You can try again with the link, "
                "or a specialist will help you here."
            ),
            data={
                "kind": "flow_requires_action",
                "flow_id": str(flow.pk),
                "code": "payment_verification",
                "link": payment_verification_link(flow),
            },
        )
    return flow, False
