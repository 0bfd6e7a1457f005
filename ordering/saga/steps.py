"""The placement steps, one function each (`STEP_FUNCTIONS`), and the undo each registers before it runs.

A step takes the flow and its claim and answers a `StepOutcome`; it never moves the flow itself (the engine
records the answer, `ordering.saga.outcomes` applies it). The local steps (consent, spend, risk) run in the
engine's transaction; the merchant steps (price, token, complete) run with no lock held, under the claim's keys.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from audit.models import ActorType
from audit.services import audit_record
from catalog_adapters.contract import (
    Allowance,
    CheckoutSession,
    Money,
    PaymentData,
    PaymentToken,
    card_brand_normalize,
)
from catalog_adapters.errors import MerchantClientError, MerchantError
from catalog_adapters.registry import get_merchant
from consent.exceptions import ConsentDenied, ConsentError
from consent.selectors import consent_require, spend_reservation_unsettled, stepup_verified_within
from consent.services.ledger import spend_reserve
from ordering.errors import FlowNotConfirmable, PreviewIncomplete
from ordering.models import EscalationReason, FlowStep, OrderFlow, WaitingFor
from ordering.preview import preview_build, preview_drifted
from ordering.risk import ALLOW, REVIEW, risk_assess
from ordering.saga.base import (
    FLOW_SCOPES,
    MERCHANT_REVIEW_STATUSES,
    MERCHANT_UNPAID_STATUSES,
    Claim,
    TokenRequest,
    flow_instruments,
    round_key,
    spend_reference,
)
from ordering.saga.outcomes import Advance, Await, Escalate, Fail, NeedsAction, Placed, Repreview, StepOutcome

# A reservation must outlive the complete call by this much, or the round stops before paying.
RESERVATION_MARGIN = timedelta(seconds=60)


def compensations_before(flow: OrderFlow, step_name: str) -> list[tuple[str, str]]:
    """What to register before a step's foreign effect, so the undo exists before the thing it undoes."""
    if step_name == "reserve_spend":
        return [("release_spend", spend_reference(flow))]
    if step_name == "mint_token":
        return [("revoke_token", round_key(flow, "mint_token"))]
    if step_name == "complete_checkout":
        return [("cancel_order", f"{flow.checkout_session_id}:r{flow.confirmations}")]
    return []


def _consent_outcome(flow: OrderFlow) -> Fail | None:
    try:
        consent_require(user_id=flow.customer_id, scopes=FLOW_SCOPES)
    except ConsentDenied as denied:
        return Fail(code=f"consent_{denied.reason}", detail=denied.message, error_class="consent")
    return None


def _instruments_outcome(flow: OrderFlow) -> Fail | None:
    """A card or address the customer removed after the preview is never used (read with the flow's lock)."""
    card, address = flow.payment_method, flow.shipping_address
    if card is not None and card.removed_at is not None:
        return Fail(
            code="payment_method_removed",
            detail=f"You removed {card.masked} from your saved cards, so I did not place this order and nothing "
            "was charged. Ask me for a fresh preview to pay with another card.",
            error_class="consent",
        )
    if address is not None and address.removed_at is not None:
        return Fail(
            code="address_removed",
            detail=f"You removed the address “{address.label}” from your saved addresses, so I did not place this "
            "order and nothing was charged. Ask me for a fresh preview to ship it elsewhere.",
            error_class="consent",
        )
    return None


def step_check_consent(flow: OrderFlow, claim: Claim) -> StepOutcome:
    return _consent_outcome(flow) or _instruments_outcome(flow) or Advance()


def step_reserve_spend(flow: OrderFlow, claim: Claim) -> StepOutcome:
    try:
        reservation = spend_reserve(
            user_id=flow.customer_id,
            amount=flow.total_amount or 0,
            currency=flow.currency,
            flow_reference=spend_reference(flow),
            chat_session_reference=str(flow.conversation_id),
        )
    except ConsentError as error:
        return Fail(code=error.code, detail=error.message, error_class="spend")
    return Advance({"reservation_id": reservation.pk, "amount": reservation.amount})


def step_score_risk(flow: OrderFlow, claim: Claim) -> StepOutcome:
    if flow.risk_approved_by:
        return Advance({"decision": "approved_by_staff", "by": flow.risk_approved_by})
    assessment = risk_assess(flow=flow)
    claim.history.ordered_before = assessment.placed_before > 0
    audit_record(
        action="risk.assessed",
        actor_type=ActorType.SYSTEM,
        customer_id=flow.customer_id,
        target_type="flow",
        target_id=flow.pk,
        policy_version=assessment.policy_version,
        data=assessment.as_dict(),
    )
    if assessment.decision == ALLOW:
        return Advance(assessment.as_dict())
    if assessment.decision == REVIEW:
        return Escalate(
            reason=EscalationReason.RISK_REVIEW,
            code="risk_review",
            detail="Risk review: " + ", ".join(assessment.reasons),
            waiting_for=WaitingFor.RISK_REVIEW,
            result=assessment.as_dict(),
        )
    if stepup_verified_within(user_id=flow.customer_id):
        return Advance({**assessment.as_dict(), "step_up": "verified"})
    return NeedsAction(
        code="step_up_required",
        detail=", ".join(assessment.reasons),
        waiting_for=WaitingFor.STEP_UP,
        result=assessment.as_dict(),
    )


def step_verify_price(flow: OrderFlow, claim: Claim) -> StepOutcome:
    payment_method, address = flow_instruments(flow)
    session = get_merchant(flow.merchant_id).checkout.get(session_id=flow.checkout_session_id)
    if session.status in ("canceled", "expired", "completed"):
        return Fail(code=f"session_{session.status}", detail=f"The merchant's checkout session is {session.status}.")
    try:
        current = preview_build(
            merchant_id=flow.merchant_id,
            session=session,
            payment_method=payment_method,
            address=address,
        )
    except PreviewIncomplete as incomplete:
        return Fail(code=str(incomplete.details.get("code") or "preview_incomplete"), detail=incomplete.message)
    if preview_drifted(flow.preview, current):
        return Repreview(session)
    handler = session.payment_handler
    if handler is None:
        # Negotiation found no payment handler both sides support: stop before a token is minted.
        offered = ", ".join(each.name for each in session.payment_handlers) or "none"
        return Fail(
            code="payment_handler_unavailable",
            detail=f"The merchant offers no payment handler we can pay with (offered: {offered}).",
        )
    if not handler.accepts_card_brand(payment_method.brand):
        # The handler names the brands it takes: a token for another card would only be refused at complete.
        return Fail(
            code="card_brand_not_accepted",
            detail=f"The merchant's payment handler {handler.id} takes {', '.join(handler.accepted_brands)} cards, "
            f"not {card_brand_normalize(payment_method.brand)}.",
            result={
                "payment_handler": handler.id,
                "card_brand": card_brand_normalize(payment_method.brand),
                "accepted_brands": list(handler.accepted_brands),
            },
        )
    # Recorded with the step: the complete pays with this handler instead of reading the session again.
    result = {"total": current["total"], "payment_handler": handler.id}
    psp_merchant_id = handler.config.get("merchant_id")
    if isinstance(psp_merchant_id, str) and psp_merchant_id.strip():
        # rfc.payment_handlers: the agent takes the seller's PSP account from the handler's config for the allowance
        result["psp_merchant_id"] = psp_merchant_id.strip()[:256]
    return Advance(result)


def mint_token(flow: OrderFlow, request: TokenRequest) -> PaymentToken:
    """Delegate the saved card into a one-time token; the same round replays the same token.

    The token is never stored: whoever needs it (complete, or the revoke compensation) asks the vault
    again with the same Idempotency-Key and the same body, and gets the same token back.
    """
    if flow.payment_method is None:  # not flow_instruments: the undo loads the card only
        raise FlowNotConfirmable("This order has no card.", flow_id=str(flow.pk))
    return get_merchant(flow.merchant_id).vault.delegate(
        vault_reference=flow.payment_method.vault_reference,
        allowance=Allowance(
            max_amount=Money(request.amount, request.currency),
            checkout_session_id=flow.checkout_session_id,
            merchant_id=request.psp_merchant_id or flow.merchant_id,
            expires_at=request.expires_at,
        ),
        operation_id=f"flow:{flow.pk}:r{request.round_number}:mint_token"
        + (f":p{request.payment_attempt}" if request.payment_attempt else ""),
        metadata={"flow_id": str(flow.pk)},
    )


def recorded_token_request(flow: OrderFlow, operation_id: str) -> TokenRequest | None:
    step = (
        FlowStep.objects.filter(flow=flow, idempotency_key=operation_id).exclude(result={}).order_by("-attempt").first()
    )
    return TokenRequest.from_result(step.result) if step else None


def step_mint_token(flow: OrderFlow, claim: Claim) -> StepOutcome:
    denied = _consent_outcome(flow) or _instruments_outcome(flow)
    if denied:
        return denied
    request = claim.token_request  # fixed when the step was claimed
    if request is None:
        raise ValueError("mint_token is claimed with the token request it sends")
    token = mint_token(flow, request)
    claim.history.minted[claim.operation_id] = token
    return Advance(request.as_result())


def _payment_verification_detail(session: CheckoutSession) -> str:
    """What the person who takes the payment verification reads: why the merchant still waits, and whether a
    verification by two specialists can pay it at all (not where the card's issuer mandates its own challenge)."""
    refused = next(
        (m for m in session.messages if m.code == "payment_declined" and m.param == "$.authentication_result"), None
    )
    detail = "The card issuer asked for 3-D Secure verification."
    if refused is not None:
        detail = f"The merchant refused the last verification: {refused.content}"
    metadata = session.authentication_metadata
    if metadata is not None and metadata.flow_preference_subtype == "mandated":
        detail += (
            " The card's issuer mandates its own challenge: only the customer passing their bank's verification "
            "(the link in the chat) can pay this order; a verification by two specialists will be refused."
        )
    return detail


def step_complete_checkout(flow: OrderFlow, claim: Claim) -> StepOutcome:
    if claim.awaiting is not None:
        # The merchant took this round's complete and has not finished it: never complete again, only read what
        # became of it (the consent, token and reservation checks were for sending it).
        return _merchant_outcome_read(flow, claim.awaiting)
    denied = _consent_outcome(flow) or _instruments_outcome(flow)
    if denied:
        return denied
    flow_instruments(flow)  # a card and an address to pay and ship with (the answer is checked against them)
    request = claim.token_request  # what the round's mint step delegated
    if request is None or request.expires_at <= timezone.now():
        return Fail(code="payment_token_expired", detail="The one-time payment token expired before completion.")
    if claim.attempt_in_round == 1:
        # Nothing can have been charged yet: make sure the spend reservation still stands, so the
        # charge can be committed against it (a flow that waited long for a person may have outlived it).
        reservation = spend_reservation_unsettled(flow_reference=spend_reference(flow))
        if reservation is None or (
            reservation.expires_at and reservation.expires_at <= timezone.now() + RESERVATION_MARGIN
        ):
            return Fail(
                code="spend_reservation_expired",
                detail="This order waited too long and its spending reservation ran out; please confirm it again.",
                error_class="spend",
            )
    # The token this task's mint step got, else the same token again from the vault (same key, same body).
    minted = claim.history.minted.get(round_key(flow, "mint_token"))
    token = minted or mint_token(flow, request)
    checkout = get_merchant(flow.merchant_id).checkout
    try:
        session = checkout.complete(
            session_id=flow.checkout_session_id,
            payment=PaymentData(token=token.id, handler_id=claim.payment_handler),
            operation_id=claim.operation_id,
            # The issuer's result from the customer's challenge, or what two specialists vouched for;
            # set only with its evidence (see flow_payment_verified).
            authentication_result=flow.payment_authentication_result or None,
        )
    except MerchantClientError as error:
        if error.status != 405:
            raise
        # "Already completed": an earlier attempt whose answer we lost did complete it. Read the
        # session and carry on with what the merchant holds.
        session = checkout.get(session_id=flow.checkout_session_id)
    return _complete_answered(flow, session, awaiting=None)


def _merchant_outcome_read(flow: OrderFlow, awaiting: dict[str, Any]) -> StepOutcome:
    """Read the session of a complete the merchant is still finishing, and say what became of it."""
    try:
        session = get_merchant(flow.merchant_id).checkout.get(session_id=flow.checkout_session_id)
    except MerchantError as error:
        # Not knowing is no outcome: keep waiting (the order webhook may still come), ask a person in time.
        return _awaiting(flow, status=str(awaiting.get("merchant_status") or ""), awaiting=awaiting, note=str(error))
    if session.status in ("canceled", "expired"):
        return Fail(
            code="merchant_not_completed",
            detail=f"The merchant's checkout session became {session.status} while it was completing the order.",
        )
    return _complete_answered(flow, session, awaiting=awaiting)


def _complete_answered(flow: OrderFlow, session: CheckoutSession, *, awaiting: dict[str, Any] | None) -> StepOutcome:
    """What a session answered after a complete (the complete's own answer, or a later read) means for the flow."""
    payment_method, address = flow_instruments(flow)
    if session.status == "completed" and session.order is not None:
        total = session.total("total")
        if total is None or total.amount != flow.total_amount:
            # The merchant charged something else than the customer confirmed: undo the order.
            return Fail(
                code="total_mismatch",
                detail=f"The merchant completed at {total} instead of the confirmed {flow.total_amount}.",
            )
        try:
            completed = preview_build(
                merchant_id=flow.merchant_id,
                session=session,
                payment_method=payment_method,
                address=address,
            )
        except PreviewIncomplete:
            completed = None
        if completed is None or preview_drifted(flow.preview, completed):
            # Same total, other content (a line or the address changed after the price check).
            return Fail(code="content_mismatch", detail="The merchant completed an order other than the one confirmed.")
        return Placed(order_id=session.order.id, result={"merchant_order_id": session.order.id})
    if session.price_changed:
        # ACP warning `price_change` (the lines carry the new unit amounts): charge nothing, ask again.
        return Repreview(session)
    if session.status == "authentication_required" or session.has_message("requires_3ds"):
        metadata = session.authentication_metadata
        challenge = metadata.flow_preference_subtype if metadata and metadata.flow_preference == "challenge" else ""
        return NeedsAction(
            code="payment_verification",
            detail=_payment_verification_detail(session),
            waiting_for=WaitingFor.PAYMENT_VERIFICATION,
            escalate=EscalationReason.PAYMENT_VERIFICATION,
            # Whose wish the challenge is (`mandated` by the card's issuer, `preferred` by the merchant; empty when the
            # merchant did not say), kept on the step's row: the console offers no verification by two specialists
            # for a mandated one, which the merchant would refuse.
            result={"challenge": challenge} if challenge else {},
        )
    if session.status not in MERCHANT_UNPAID_STATUSES and session.status not in ("canceled", "expired"):
        # complete_in_progress, pending_approval, requires_escalation, a completed session whose order is not named
        # yet, a status the spec does not list: the merchant may still charge and create the order. Not a failure:
        # nothing is undone and the shopper is not told "nothing was charged"; the flow waits for the outcome.
        return _awaiting(flow, status=session.status, awaiting=awaiting, session=session)
    for code in ("payment_declined", "out_of_stock"):
        if session.has_message(code):
            return Fail(code=code, detail=next(m.content for m in session.messages if m.code == code))
    first_error = session.errors[0] if session.errors else None
    if awaiting is not None and first_error is None:
        # It was completing and now is not, with no word why: the merchant gave the completion up.
        return Fail(
            code="merchant_not_completed",
            detail=f"The merchant left the session {session.status} after completing it was under way.",
        )
    return Fail(
        code=first_error.code if first_error else "not_completed",
        detail=first_error.content if first_error else f"The merchant left the session {session.status}.",
    )


def _awaiting(
    flow: OrderFlow,
    *,
    status: str,
    awaiting: dict[str, Any] | None,
    session: CheckoutSession | None = None,
    note: str = "",
) -> Await:
    """Wait for a complete the merchant took but has not finished: poll its session (ordering.saga.base.
    merchant_wait_delay) and listen for its order webhook; ask a person once after
    ORDERING_MERCHANT_WAIT_ESCALATE_SECONDS without an outcome."""
    now = timezone.now()
    previous = awaiting or {}
    since = str(previous.get("awaiting_since") or now.isoformat())
    waited = (now - datetime.fromisoformat(since)).total_seconds()
    ask_person = not previous.get("person_asked") and waited >= settings.ORDERING_MERCHANT_WAIT_ESCALATE_SECONDS
    result: dict[str, Any] = {
        "merchant_status": status,
        "awaiting_since": since,
        "polls": int(previous.get("polls") or 0) + 1,
        "person_asked": bool(previous.get("person_asked")) or ask_person,
    }
    shop_says = ""
    if session is not None:
        said = next((m.content for m in session.messages if m.type == "error" and m.content), "")
        said = said or next((m.content for m in session.messages if m.content), "")
        shop_says = said[:300]
        if session.continue_url:
            result["continue_url"] = session.continue_url
    if note:
        result["last_read_error"] = note[:300]
    review = status in MERCHANT_REVIEW_STATUSES
    detail = (
        f"The merchant took the complete and says {status or 'nothing'}: "
        + ("it reviews the order before accepting it." if review else "it is still completing it.")
        + " Waiting for the session to settle or the merchant's order webhook."
    )
    return Await(
        status=status,
        detail=detail,
        review=review,
        tell=awaiting is None or previous.get("merchant_status") != status,
        ask_person=ask_person,
        shop_says=shop_says,
        result=result,
    )


STEP_FUNCTIONS = {
    "check_consent": step_check_consent,
    "reserve_spend": step_reserve_spend,
    "score_risk": step_score_risk,
    "verify_price": step_verify_price,
    "mint_token": step_mint_token,
    "complete_checkout": step_complete_checkout,
}
