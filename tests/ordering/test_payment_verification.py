"""3-D Secure by the customer: the link in the chat, the sandbox issuer's challenge page, the merchant's
signed result back at our callback, all over real HTTP on the live server (the customer is a `requests`
session signed in through the login form, as a browser would be).
"""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from consent.formatting import format_money
from escalations.models import Escalation
from ordering.models import FlowStatus, OrderFlow, PaymentChallenge
from ordering.services import flow_confirm
from sandbox_merchant import services as sandbox_services
from sandbox_merchant.models import IssuerChallenge
from tests.support.merchant_state import merchant_order_count
from tests.support.sandbox import payment_data

pytestmark = pytest.mark.usefixtures("eager_tasks")

PASSWORDS = {"alice": "alice-demo-2026", "bob": "bob-demo-2026"}
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
BANK_LINK = re.compile(r'id="payment-verification-bank" href="([^"]+)"')


def signed_in(live_server, username: str) -> requests.Session:
    """A customer's browser: signed in through the real login form."""
    browser = requests.Session()
    form = browser.get(f"{live_server.url}/accounts/login/", timeout=30)
    token = CSRF_FIELD.search(form.text).group(1)
    answer = browser.post(
        f"{live_server.url}/accounts/login/",
        data={"username": username, "password": PASSWORDS[username], "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:300]
    return browser


def waiting_3ds_flow(shop) -> OrderFlow:
    flow = shop.start_flow(card="pm_alice_3ds")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "payment_verification")
    return flow


def chat_link(flow: OrderFlow) -> str:
    return flow.conversation.messages.filter(data__kind="flow_requires_action").last().data["link"]["url"]


def open_challenge(browser: requests.Session, live_server, flow: OrderFlow) -> str:
    """Follow the chat's link and press "Continue to your bank"; returns the issuer's challenge page URL."""
    link = f"{live_server.url}{chat_link(flow)}"
    page = browser.get(link, allow_redirects=False, timeout=30)
    assert page.status_code == 200 and "Verify this payment with your bank" in page.text, page.text[:300]
    to_bank = browser.post(
        link, data={"csrfmiddlewaretoken": CSRF_FIELD.search(page.text).group(1)}, allow_redirects=False, timeout=30
    )
    assert to_bank.status_code == 200, to_bank.text[:300]
    acs_url = html.unescape(BANK_LINK.search(to_bank.text).group(1))
    assert f'<meta http-equiv="refresh" content="0;url={html.escape(acs_url)}">' in to_bank.text
    assert acs_url.startswith(f"{live_server.url}/sandbox-merchant/issuer/challenge/")
    return acs_url


def answer_challenge(
    browser: requests.Session, live_server, flow: OrderFlow, acs_url: str, *, code="123456", cancel=False
) -> str:
    """Answer the issuer's page; returns the URL the bank sends us back to."""
    page = browser.get(acs_url, timeout=30)
    assert page.status_code == 200 and "Verify a payment" in page.text
    form = {"csrfmiddlewaretoken": CSRF_FIELD.search(page.text).group(1), "code": code}
    if cancel:
        form["cancel"] = "1"
    answered = browser.post(acs_url, data=form, allow_redirects=False, timeout=30)
    assert answered.status_code == 302, answered.text[:300]
    back = answered.headers["Location"]
    assert back.startswith(f"{live_server.url}/api/v1/flows/{flow.pk}/payment-verification/done/?")
    return back


def answer_the_bank(browser: requests.Session, live_server, flow: OrderFlow, *, code="123456", cancel=False) -> str:
    """Follow the chat's link to the issuer's page and answer it; returns the URL the bank sends us back to."""
    acs_url = open_challenge(browser, live_server, flow)
    return answer_challenge(browser, live_server, flow, acs_url, code=code, cancel=cancel)


def orders(flow: OrderFlow) -> int:
    return merchant_order_count(session_id=flow.checkout_session_id)


def test_the_customer_passes_the_banks_challenge_and_the_merchants_result_places_the_order(shop, live_server):
    # given alice's order waits for 3-D Secure, with a specialist's escalation open
    flow = waiting_3ds_flow(shop)
    browser = signed_in(live_server, "alice")

    # when she follows the link in the chat and enters the bank's code
    back = answer_the_bank(browser, live_server, flow)
    done = browser.get(back, timeout=30)

    # then the page says so, and the order is placed with the issuer's result the merchant gave
    assert done.status_code == 200 and "Payment verified" in done.text
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert flow.status == FlowStatus.PLACED and orders(flow) == 1
    issued = IssuerChallenge.objects.get(session_id=flow.checkout_session_id)
    assert issued.status == "authenticated"
    assert issued.used_at is not None  # the merchant matched and spent this very result at complete
    details = flow.payment_authentication_result["outcome_details"]
    assert flow.payment_authentication_result["outcome"] == "authenticated"
    assert details == {
        name: issued.result[name]
        for name in ("three_ds_cryptogram", "electronic_commerce_indicator", "transaction_id", "version")
    }
    evidence = flow.payment_verification_evidence
    assert (evidence["kind"], evidence["authentication_session_id"], evidence["transaction_id"]) == (
        "customer_challenge",
        issued.id,
        issued.result["transaction_id"],
    )
    resumed = AuditEvent.objects.get(action="flow.placing", target_id=str(flow.pk), actor_type="customer")
    assert resumed.actor_id == str(shop.alice.pk) and resumed.data["evidence"]["kind"] == "customer_challenge"
    texts = list(flow.conversation.messages.values_list("text", flat=True))
    assert "Your bank confirmed the payment. I'm placing your order now." in texts
    assert texts[-1].startswith("Your order is placed.")
    # the escalation stays for the specialist to close, and it no longer holds the order
    assert Escalation.objects.get(flow=flow).is_active

    # when the same result comes back again (a reload, a replay)
    replayed = browser.get(back, timeout=30)

    # then it is refused, and nothing more happens
    assert replayed.status_code == 409 and "already used" in replayed.text
    replay = AuditEvent.objects.get(action="flow.payment_challenge_refused", target_id=str(flow.pk))
    assert (replay.outcome, replay.data["code"]) == ("denied", "payment_challenge_used")
    assert orders(flow) == 1 and OrderFlow.objects.get(pk=flow.pk).payment_attempt == flow.payment_attempt


def test_forged_expired_and_other_customers_results_are_refused_and_change_nothing(shop, live_server):
    flow = waiting_3ds_flow(shop)
    alice = signed_in(live_server, "alice")
    back = answer_the_bank(alice, live_server, flow)
    path, query = urlsplit(back).path, parse_qs(urlsplit(back).query)
    cres, signature = query["cres"][0], query["signature"][0]
    issued = IssuerChallenge.objects.get(session_id=flow.checkout_session_id)

    def callback(browser, **params) -> requests.Response:
        return browser.get(f"{live_server.url}{path}?{urlencode(params)}", allow_redirects=False, timeout=30)

    # a signature that is not the merchant's
    forged_signature = callback(alice, cres=cres, signature=re.sub(r"v1=\w+", "v1=" + "0" * 64, signature))
    # a result rewritten after signing (another session id, to point at something else)
    tampered = callback(alice, cres=cres[:-4] + "AAAA", signature=signature)
    # no signature at all
    unsigned = callback(alice, cres=cres)
    # the merchant's genuine signature, but from an hour ago
    stale_url = sandbox_services.issuer_challenge_return_url(challenge=issued, now=time.time() - 3600)
    stale = alice.get(stale_url, allow_redirects=False, timeout=30)
    # bob, signed in, with alice's genuine result
    bob = signed_in(live_server, "bob")
    other_customer = bob.get(back, allow_redirects=False, timeout=30)
    # nobody signed in: sent to sign in first, nothing done
    anonymous = requests.get(back, allow_redirects=False, timeout=30)

    assert forged_signature.status_code == 400 and "not signed by the shop" in forged_signature.text
    assert tampered.status_code == 400
    assert unsigned.status_code == 400
    assert stale.status_code == 400 and "has expired" in stale.text
    assert other_customer.status_code == 404
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.headers["Location"]
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.status, flow.payment_attempt, flow.payment_verification_evidence) == (
        FlowStatus.REQUIRES_ACTION,
        0,
        {},
    )
    assert PaymentChallenge.objects.get(flow=flow).status == "pending"
    assert orders(flow) == 0 and IssuerChallenge.objects.get(pk=issued.pk).used_at is None
    refusals = AuditEvent.objects.filter(action="flow.payment_challenge_refused", target_id=str(flow.pk))
    # each refusal is audited (the signature is checked first, so the tampered CRes fails it too)
    assert sorted(event.data["reason"] for event in refusals) == [
        "signature_invalid",
        "signature_invalid",
        "signature_missing",
        "signature_stale",
    ]
    assert all(event.outcome == "denied" for event in refusals)

    # and alice's genuine result still works afterwards: the refusals consumed nothing
    assert alice.get(back, timeout=30).status_code == 200
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED and orders(flow) == 1


def test_a_failed_or_abandoned_challenge_leaves_the_order_waiting_and_tells_the_customer(shop, live_server):
    flow = waiting_3ds_flow(shop)
    alice = signed_in(live_server, "alice")

    # a wrong code at the bank
    wrong = alice.get(answer_the_bank(alice, live_server, flow, code="000000"), timeout=30)
    told_wrong = flow.conversation.messages.last()
    # then she starts again and cancels at the bank
    canceled = alice.get(answer_the_bank(alice, live_server, flow, cancel=True), timeout=30)
    told_canceled = flow.conversation.messages.last()

    assert wrong.status_code == 200 and "Payment not verified" in wrong.text
    assert told_wrong.text.startswith("Your bank did not confirm the payment, so nothing was charged")
    assert told_wrong.data["link"]["url"] == f"/api/v1/flows/{flow.pk}/payment-verification/"
    assert canceled.status_code == 200
    assert told_canceled.text.startswith("You stopped the verification, so nothing was charged")
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "payment_verification")
    assert list(PaymentChallenge.objects.filter(flow=flow).values_list("status", "outcome")) == [
        ("failed", "not_authenticated"),
        ("failed", "challenge_abandoned"),
    ]
    assert orders(flow) == 0
    assert AuditEvent.objects.filter(action="flow.payment_challenge_failed", target_id=str(flow.pk)).count() == 2

    # and a third try with the right code still places it, once
    assert alice.get(answer_the_bank(alice, live_server, flow), timeout=30).status_code == 200
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED and orders(flow) == 1


def test_the_link_is_only_for_the_orders_customer_and_only_while_it_waits(shop, live_server):
    flow = waiting_3ds_flow(shop)
    link = f"{live_server.url}{chat_link(flow)}"

    bob = signed_in(live_server, "bob")
    bobs = bob.get(link, allow_redirects=False, timeout=30)
    token = bob.get(f"{live_server.url}/accounts/login/", timeout=30)  # any page of ours carries bob's token
    bobs_press = bob.post(
        link, data={"csrfmiddlewaretoken": CSRF_FIELD.search(token.text).group(1)}, allow_redirects=False, timeout=30
    )

    assert bobs.status_code == 404
    assert bobs_press.status_code == 404
    assert not PaymentChallenge.objects.filter(flow=flow).exists()
    assert not IssuerChallenge.objects.filter(session_id=flow.checkout_session_id).exists()


def test_the_merchant_refuses_an_authentication_result_it_did_not_issue(shop, live_server):
    # A client that completes with made-up issuer details (instead of the challenge's) is not paid.
    flow = waiting_3ds_flow(shop)
    token = shop.sandbox.delegate(flow.checkout_session_id, flow.total_amount, vault_reference="pm_alice_3ds")

    answer = shop.sandbox.post(
        f"/checkout_sessions/{flow.checkout_session_id}/complete",
        json={
            "payment_data": payment_data(token),
            "authentication_result": {
                "outcome": "authenticated",
                "outcome_details": {
                    "three_ds_cryptogram": "AbCdEfGhIjKlMnOpQrStUvWxY0=",
                    "electronic_commerce_indicator": "05",
                    "transaction_id": "made-up",
                    "version": "2.2.0",
                },
            },
        },
    )

    assert answer.status_code == 200
    assert answer.json()["status"] == "authentication_required"
    assert answer.json()["authentication_metadata"]["directory_server"] == "mastercard"
    assert orders(flow) == 0


def test_a_challenge_left_pending_from_an_earlier_payment_attempt_cannot_pay_a_later_one(shop, live_server):
    # given alice opened the bank's challenge A and answered it, but never came back from the bank with it
    flow = waiting_3ds_flow(shop)
    alice = signed_in(live_server, "alice")
    back_a = answer_the_bank(alice, live_server, flow)
    # and she then passed challenge B, whose result paid a new payment attempt, but the merchant asked for
    # 3-D Secure again on that attempt (here: it holds B's result as spent, as an issuer may on a retry)
    back_b = answer_the_bank(alice, live_server, flow)
    b_id = PaymentChallenge.objects.filter(flow=flow).order_by("id").last().authentication_session_id
    IssuerChallenge.objects.filter(id=b_id).update(used_at=timezone.now())
    assert alice.get(back_b, timeout=30).status_code == 200
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.status, flow.waiting_for, flow.payment_attempt) == (
        FlowStatus.REQUIRES_ACTION,
        "payment_verification",
        1,
    )
    challenge_a = PaymentChallenge.objects.filter(flow=flow).order_by("id").first()
    assert (challenge_a.payment_attempt, challenge_a.status) == (0, "pending")

    # when A's result (signed, fresh, authenticated at the issuer) comes back now
    late = alice.get(back_a, timeout=30)

    # then it is refused, says why, and nothing changes: the order still waits for this attempt's verification
    assert late.status_code == 409, late.text[:300]
    assert "earlier payment attempt" in late.text
    after = OrderFlow.objects.get(pk=flow.pk)
    assert (after.status, after.waiting_for, after.payment_attempt) == (
        FlowStatus.REQUIRES_ACTION,
        "payment_verification",
        1,
    )
    assert after.payment_verification_evidence["authentication_session_id"] == b_id
    assert PaymentChallenge.objects.get(pk=challenge_a.pk).status == "pending"
    assert orders(flow) == 0
    refused = AuditEvent.objects.get(action="flow.payment_challenge_refused", target_id=str(flow.pk))
    assert (refused.outcome, refused.data["reason"]) == ("denied", "earlier_attempt")

    # and a challenge opened for the current attempt still pays it, once
    assert alice.get(answer_the_bank(alice, live_server, flow), timeout=30).status_code == 200
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED and orders(flow) == 1


def test_opening_the_link_shows_the_order_and_opens_nothing_until_she_presses_continue(shop, live_server):
    # A GET is what another site can make her browser send (a link, an image, a prefetch): it must not
    # open a challenge at the merchant, each of which counts toward the attempt's limit of 5.
    flow = waiting_3ds_flow(shop)
    alice = signed_in(live_server, "alice")
    link = f"{live_server.url}{chat_link(flow)}"
    asked_before = len(shop.sandbox.received_requests("delegate_authentication"))

    pages = [alice.get(link, allow_redirects=False, timeout=30) for _ in range(6)]

    page = pages[-1].text
    assert {response.status_code for response in pages} == {200}
    assert "Verify this payment with your bank" in page
    assert "Blue Runner" in page and format_money(flow.total_amount, flow.currency) in page
    assert 'type="submit">Continue to your bank</button>' in page and 'name="csrfmiddlewaretoken"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script: the CSP would block it
    assert not PaymentChallenge.objects.filter(flow=flow).exists()
    assert not IssuerChallenge.objects.filter(session_id=flow.checkout_session_id).exists()
    assert len(shop.sandbox.received_requests("delegate_authentication")) == asked_before
    assert not AuditEvent.objects.filter(action="flow.payment_challenge_started").exists()

    # and pressing the button still opens one (the limit was not burned) and leads to the bank
    assert open_challenge(alice, live_server, flow)
    assert PaymentChallenge.objects.filter(flow=flow).count() == 1
    assert len(shop.sandbox.received_requests("delegate_authentication")) > asked_before


def test_continuing_to_the_bank_without_the_csrf_token_is_refused_and_opens_nothing(shop, live_server):
    flow = waiting_3ds_flow(shop)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(shop.alice)

    forged = browser.post(chat_link(flow))

    assert forged.status_code == 403
    assert not PaymentChallenge.objects.filter(flow=flow).exists()
    assert not IssuerChallenge.objects.filter(session_id=flow.checkout_session_id).exists()
    flow = OrderFlow.objects.get(pk=flow.pk)
    assert (flow.status, flow.waiting_for) == (FlowStatus.REQUIRES_ACTION, "payment_verification")

    # while the same press with the page's token is what opens the challenge (the 403 was the token's)
    page = browser.get(chat_link(flow))
    token = CSRF_FIELD.search(page.content.decode()).group(1)
    pressed = browser.post(chat_link(flow), {"csrfmiddlewaretoken": token})

    assert pressed.status_code == 200 and b'id="payment-verification-bank"' in pressed.content
    assert PaymentChallenge.objects.filter(flow=flow).count() == 1
