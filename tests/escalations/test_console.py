"""The queue and the detail page, as support staff see them; who may see and who may act."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from config.staff_sessions import SIGNED_IN_AT_KEY
from consent.formatting import format_money
from consent.models import PaymentMethod
from consent.selectors import spend_usage
from escalations.models import Escalation
from escalations.services import escalation_open
from ordering.services import conversation_start
from tests.escalations.conftest import CHANGELIST, act_url, detail_url, fresh


@pytest.fixture
def shop(fake_shop):
    """The console is the subject, not the merchant: the in-memory fake merchant, and the test rolls back (the
    undo that fails at the merchant is its checkout cancel answering 500, as the sandbox's switchboard does)."""
    return fake_shop


@pytest.fixture
def bobs_request(shop):
    """Bob asked for a person 2 h 20 min ago and nobody answered: 20 minutes past its 2-hour SLA."""
    bob = get_user_model().objects.get(username="bob")
    conversation = conversation_start(customer_id=bob.pk)
    escalation = escalation_open(
        reason="customer_request", customer_id=bob.pk, conversation_id=conversation.pk, detail="Wants a person"
    )
    long_ago = timezone.now() - timedelta(minutes=140)
    Escalation.objects.filter(pk=escalation.pk).update(created_at=long_ago, sla_due_at=long_ago + timedelta(hours=2))
    return fresh(escalation)


def _listed(response) -> list[int]:
    return [escalation.pk for escalation in response.context["cl"].result_list]


# -- the queue -----------------------------------------------------------------------------------


def test_the_queue_lists_active_escalations_most_pressing_sla_first(
    payment_verification, compensation_failed, bobs_request, sam_client
):
    response = sam_client.get(CHANGELIST)

    assert response.status_code == 200
    # bob's is past due, the failed undo is urgent (15 min), the 3-D Secure check high (30 min)
    assert _listed(response) == [bobs_request.pk, compensation_failed.pk, payment_verification.pk]
    page = response.content.decode()
    assert "Escalation queue" in page
    for text in ("Payment needs verification", "Undoing a failed order failed", "Customer asked for a person"):
        assert text in page
    assert "Alice (alice)" in page and "Bob (bob)" in page
    assert "Urgent" in page and "High" in page
    # the breached row is marked (the stylesheet highlights the row that holds the mark), the others are not
    assert page.count('<span class="esc-sla esc-breached">') == 1
    assert re.search(r'<span class="esc-sla esc-breached">breached 20 min ago</span>', page)
    assert response.context["queue_counts"] == {"open": 3, "mine": 0, "breached": 1}
    assert "2 h 20 min" in page  # bob's age


def test_the_queue_filters_by_status_reason_breach_and_assignee(
    payment_verification, compensation_failed, bobs_request, sam_client
):
    sam_client.post(act_url(payment_verification, "claim"))
    sam_client.post(act_url(bobs_request, "reply"), {"text": "Hello Bob, how can I help?"})
    sam_client.post(act_url(bobs_request, "resolve"), {"code": "customer_helped", "note": "Answered his question."})

    active = sam_client.get(CHANGELIST)
    resolved = sam_client.get(CHANGELIST, {"status": "resolved"})
    everything = sam_client.get(CHANGELIST, {"status": "all"})
    breached = sam_client.get(CHANGELIST, {"status": "all", "breached": "yes"})
    mine = sam_client.get(CHANGELIST, {"assignee": "me"})
    unassigned = sam_client.get(CHANGELIST, {"assignee": "nobody"})
    by_reason = sam_client.get(CHANGELIST, {"reason": "compensation_failed"})

    assert _listed(active) == [compensation_failed.pk, payment_verification.pk]
    assert _listed(resolved) == [bobs_request.pk]
    assert set(_listed(everything)) == {bobs_request.pk, compensation_failed.pk, payment_verification.pk}
    assert _listed(breached) == [bobs_request.pk]  # resolved, but after its SLA
    assert _listed(mine) == [payment_verification.pk]
    assert _listed(unassigned) == [compensation_failed.pk]
    assert _listed(by_reason) == [compensation_failed.pk]
    assert "Assigned to me" in mine.content.decode()


def test_claiming_several_from_the_queue_at_once(payment_verification, compensation_failed, sam, sam_client):
    response = sam_client.post(
        CHANGELIST,
        {"action": "claim_selected", "_selected_action": [payment_verification.pk, compensation_failed.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert {fresh(payment_verification).assignee_id, fresh(compensation_failed).assignee_id} == {sam.pk}
    assert AuditEvent.objects.filter(action="escalation.claimed", actor_id=str(sam.pk)).count() == 2
    assert "You hold" in response.content.decode()


def test_claiming_from_the_queue_never_takes_a_colleagues_escalation(
    payment_verification, compensation_failed, make_staff, otp_login, sam, sam_client
):
    # given: kim is working on the failed undo
    kim = make_staff("kim")
    kim_client = otp_login(kim, client=Client())
    kim_client.post(act_url(compensation_failed, "claim"))

    # when: sam selects both rows of the queue and claims them
    response = sam_client.post(
        CHANGELIST,
        {"action": "claim_selected", "_selected_action": [payment_verification.pk, compensation_failed.pk]},
        follow=True,
    )

    # then: sam holds the free one only, and is told kim keeps the other
    assert fresh(payment_verification).assignee_id == sam.pk
    assert fresh(compensation_failed).assignee_id == kim.pk
    shown = [str(message) for message in response.context["messages"]]
    assert shown[0] == f"You hold #{payment_verification.pk} now."
    assert shown[1].startswith(f"#{compensation_failed.pk}: kim is working on this escalation (since ")
    assert AuditEvent.objects.filter(action="escalation.claim", outcome="denied", actor_id=str(sam.pk)).count() == 1


def test_search_finds_an_escalation_by_customer_and_by_flow(payment_verification, bobs_request, sam_client):
    by_customer = sam_client.get(CHANGELIST, {"q": "bob"})
    by_flow = sam_client.get(CHANGELIST, {"q": str(payment_verification.flow_id)})

    assert _listed(by_customer) == [bobs_request.pk]
    assert _listed(by_flow) == [payment_verification.pk]


def test_search_finds_an_escalation_by_its_number_as_shown_and_by_the_customers_order_number(
    risk_review, bobs_request, sam_client
):
    # given: the risk review was approved, so alice's order has the number she sees on her orders page
    sam_client.post(act_url(risk_review, "approve"))
    order_number = fresh(risk_review.flow).merchant_order_id
    assert order_number

    # when: staff type what they read: the queue's "#12", the customer's order number
    by_number = sam_client.get(CHANGELIST, {"q": f"#{bobs_request.pk}"})
    by_order = sam_client.get(CHANGELIST, {"q": order_number})

    # then
    assert _listed(by_number) == [bobs_request.pk]
    assert _listed(by_order) == [risk_review.pk]


# -- the detail page -----------------------------------------------------------------------------


def test_the_detail_page_shows_the_whole_context(payment_verification, sam_client, shop):
    escalation = payment_verification
    flow = escalation.flow
    card = PaymentMethod.objects.get(user=shop.alice, vault_reference="pm_alice_3ds")

    response = sam_client.get(detail_url(escalation))

    assert response.status_code == 200
    page = response.content.decode()
    assert f"Escalation #{escalation.pk}: Payment needs verification" in page
    # the transcript, with the assistant's last word to alice
    assert "Your bank wants to verify this payment." in page
    # the cart and the preview the customer confirmed
    assert "Blue Runner" in page and f"${flow.total_amount / 100:.2f}" in page
    # the flow's steps with the one that stopped it, and its undo steps
    assert "complete_checkout" in page and "mint_token" in page
    assert "payment_verification" in page and "3-D Secure" in page
    assert "cancel_checkout" in page and "release_spend" in page
    # consent and caps, and the cards as brand and last four only
    assert "Place orders for me" in page and "Per day" in page and "Auto-checkout under" in page
    per_day_cap = spend_usage(user_id=shop.alice.pk).caps["per_day"]
    assert (
        f"<td>Per day</td><td>{format_money(per_day_cap, 'usd')}</td><td>{format_money(flow.total_amount, 'usd')}</td>"
        in page
    )
    assert f"Mastercard •••• {card.last4}" in page and "Visa •••• 4242" in page
    assert "pm_alice" not in page  # no vault references either
    # the buttons that fit a 3-D Secure check the card's issuer mandates (the merchant said so over the wire), and
    # not the ones that do not: two specialists' verification would be refused, and the page says so instead
    assert "Cancel the order" in page and "Payment verified (needs a second specialist)" not in page
    assert "The card&#x27;s issuer mandates its own 3-D Secure check for this payment (the merchant said so)" in page
    assert "Send reply" in page and "Approve and place" not in page  # no one-click payment verification
    assert "Retry the failed undo steps" not in page
    # the history of the escalation and the way to the audit timeline of its trace
    assert "escalation.opened" in page
    trace_url = f"/admin/audit/auditevent/trace/{escalation.trace_id}/"
    assert f'href="{trace_url}"' in page
    timeline = sam_client.get(trace_url)
    assert timeline.status_code == 200
    assert "escalation.opened" in timeline.content.decode() and "flow.requires_action" in timeline.content.decode()


def test_the_detail_page_of_a_failed_undo_offers_retry_and_shows_the_errors(compensation_failed, sam_client):
    page = sam_client.get(detail_url(compensation_failed)).content.decode()

    assert "Retry the failed undo steps" in page
    assert "Approve and place" not in page and "Payment verified" not in page
    assert "payment_declined" in page  # why the order stopped
    assert "server_error from merchant &#x27;sandbox&#x27; on checkout_cancel status=500" in page  # why its undo failed
    assert "Undoing a failed order failed" in page
    # closing it now would leave the order stuck: the page says so
    assert "The order is still waiting for a specialist (escalated: a specialist to repair it)." in page


def test_a_closed_escalation_shows_its_resolution_and_no_buttons(bobs_request, sam_client):
    sam_client.post(act_url(bobs_request, "resolve"), {"code": "customer_helped", "note": "Told him about returns."})

    page = sam_client.get(detail_url(bobs_request)).content.decode()

    assert "Customer helped, order unchanged: Told him about returns." in page
    assert "Closed after its SLA" in page
    assert 'action="' + act_url(bobs_request, "reply") not in page
    assert "Nothing more to do here." in page


def test_unknown_and_malformed_escalation_ids_are_404(sam_client, db):
    unknown = sam_client.get(f"{CHANGELIST}424242/change/")
    assert unknown.status_code == 404
    assert sam_client.get(f"{CHANGELIST}abc/change/").status_code == 404
    # a page that says so, with the way back to the console (it was Django's bare "Not Found")
    assert "There is nothing here" in unknown.content.decode() and 'href="/admin/"' in unknown.content.decode()


# -- who may see, who may act --------------------------------------------------------------------


def test_staff_outside_the_support_group_can_neither_see_nor_act(payment_verification, make_staff, otp_login):
    outsider = otp_login(make_staff("ops", support=False))

    assert outsider.get(CHANGELIST).status_code == 403
    assert outsider.get(detail_url(payment_verification)).status_code == 403
    assert outsider.post(act_url(payment_verification, "approve")).status_code == 403
    assert outsider.post(act_url(payment_verification, "claim")).status_code == 403
    assert b"Escalations" not in outsider.get("/admin/").content
    assert fresh(payment_verification).status == "open"
    assert fresh(payment_verification.flow).status == "requires_action"
    assert not AuditEvent.objects.filter(action__startswith="escalation.", actor_type="staff").exists()


def test_a_support_user_who_has_not_entered_a_totp_code_is_sent_to_log_in(payment_verification, sam):
    unverified = Client()
    unverified.force_login(sam)  # password only: no OTP device verified in this session

    queue = unverified.get(CHANGELIST)
    approve = unverified.post(act_url(payment_verification, "approve"))
    reply = unverified.post(act_url(payment_verification, "reply"), {"text": "hi"})

    for response in (queue, approve, reply):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert fresh(payment_verification).status == "open"
    assert fresh(payment_verification.flow).status == "requires_action"
    assert not payment_verification.flow.conversation.messages.filter(role="staff").exists()
    assert not AuditEvent.objects.filter(action__startswith="escalation.", actor_type="staff").exists()


def test_a_specialist_whose_session_ended_mid_action_is_told_nothing_was_done(payment_verification, sam, sam_client):
    # given: sam's page is open, but the staff session's working day ended before they pressed "Send reply"
    device = TOTPDevice.objects.get(user=sam)
    session = sam_client.session
    session[SIGNED_IN_AT_KEY] = 0
    session.save()

    # when: the reply is sent, and sam signs in again on the page it leads to
    sent = sam_client.post(act_url(payment_verification, "reply"), {"text": "Hi Alice"})
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    signed_in = sam_client.post(
        sent["Location"], {"username": "sam", "password": "irrelevant-pass-9", "otp_token": code}, follow=True
    )

    # then: back on the escalation's page (not a blank "405"), told the reply was not sent
    assert sent.status_code == 302 and sent["Location"].startswith("/admin/login/?next=")
    assert signed_in.status_code == 200
    assert signed_in.redirect_chain[-1] == (detail_url(payment_verification), 302)
    shown = [str(message) for message in signed_in.context["messages"]]
    assert any(message.startswith("Nothing was done: the action was not sent from this page") for message in shown)
    assert not payment_verification.flow.conversation.messages.filter(role="staff").exists()
    assert not AuditEvent.objects.filter(action__startswith="escalation.", actor_type="staff").exists()


def test_a_customer_cannot_reach_the_console(payment_verification, shop):
    customer = Client()
    customer.force_login(shop.alice)

    assert customer.get(CHANGELIST)["Location"].startswith("/admin/login/")
    assert customer.post(act_url(payment_verification, "approve"))["Location"].startswith("/admin/login/")
    assert fresh(payment_verification.flow).status == "requires_action"


def test_staff_who_may_only_look_see_the_page_but_cannot_act(payment_verification, make_staff, otp_login):
    viewer = make_staff("auditor", support=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_escalation"))
    client = otp_login(viewer)

    page = client.get(detail_url(payment_verification))
    queue = client.get(CHANGELIST)
    approve = client.post(act_url(payment_verification, "approve"))
    bulk = client.post(CHANGELIST, {"action": "claim_selected", "_selected_action": [payment_verification.pk]})

    assert page.status_code == 200 and queue.status_code == 200
    assert "working escalations needs the support group" in page.content.decode()
    assert "Payment verified (needs a second specialist)" not in page.content.decode()
    assert approve.status_code == 403
    # the refusal is a page that says what happened and the way back (it was Django's bare "403 Forbidden")
    refused = approve.content.decode()
    assert "You can't do that with this account" in refused and "nothing was changed" in refused
    assert "Can work escalations" in refused and 'href="/admin/"' in refused
    assert bulk.status_code in (200, 302)  # the admin ignores an action the user does not have
    assert fresh(payment_verification).status == "open"
    assert fresh(payment_verification.flow).status == "requires_action"


# An attribute that runs script (`onclick=`, `onsubmit=`...) or a `javascript:` URL inside a tag: the
# Content-Security-Policy silently drops both, so whatever they were for (a confirmation) never happens.
INLINE_SCRIPT = re.compile(r"<[^>]*?(\son[a-z]+\s*=|javascript:)[^>]*>", re.IGNORECASE)


def test_no_template_has_an_inline_event_handler_or_javascript_url():
    from django.conf import settings

    root = settings.BASE_DIR
    templates = [
        path
        for path in root.rglob("*.html")
        if "templates" in path.relative_to(root).parts and not path.relative_to(root).parts[0].startswith(".")
    ]
    assert any(path.match("templates/admin/escalations/escalation/detail.html") for path in templates)

    found = {
        f"{path.relative_to(root)}: {match.group(0)[:80]}"
        for path in templates
        for match in INLINE_SCRIPT.finditer(path.read_text())
    }

    assert found == set()


def test_cancel_the_order_asks_through_the_consoles_script(payment_verification, sam_client):
    response = sam_client.get(detail_url(payment_verification))

    page = response.content.decode()
    form = re.search(r'<form[^>]*cancel_flow/"[^>]*>', page).group(0)
    assert 'data-confirm="Cancel this order and undo what it did?"' in form
    assert '<script src="/static/escalations/console.js" defer></script>' in page
    assert not INLINE_SCRIPT.search(page)


def test_support_staff_refused_the_ops_pages_are_told_the_permission_those_need(sam_client, db):
    for url in ("/admin/ops/", "/admin/ops/trace/?q=4bf92f3577b34da6a3ce929d0e0e4736"):
        response = sam_client.get(url)

        assert response.status_code == 403
        page = response.content.decode()
        assert "Can view the ops page and look up traces" in page and "ordering.view_operations" in page
        # not the permissions they hold already
        assert "Can work escalations" not in page and "Can view audit event" not in page
        assert 'href="/admin/"' in page


def test_staff_refused_the_queue_are_told_the_permission_it_needs(payment_verification, make_staff, otp_login):
    outsider = otp_login(make_staff("ops", support=False))

    page = outsider.get(detail_url(payment_verification)).content.decode()

    assert "Seeing escalations needs the permission “Can view escalation” (escalations.view_escalation)" in page


# -- a search pasted by mistake ------------------------------------------------------------------------


def test_a_long_paste_in_the_search_box_is_answered_with_a_message_not_a_500(bobs_request, sam_client):
    pasted = " ".join(["lorem"] * 1000)

    response = sam_client.get(CHANGELIST, {"q": pasted})

    assert response.status_code == 200
    assert _listed(response) == []
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [
        "Nothing was searched: a search is at most 10 words and 200 characters, and this one has 1,000 words and "
        "5,999 characters. Search by a number or id, a customer's username or e-mail, or a few words."
    ]
    # one word or one character over is refused the same way; what fits is searched
    ten_words = " ".join(["Wants a person"] * 4).rsplit(" ", 2)[0]
    assert _listed(sam_client.get(CHANGELIST, {"q": ten_words})) == [bobs_request.pk]
    assert _listed(sam_client.get(CHANGELIST, {"q": f"{ten_words} person"})) == []
    assert _listed(sam_client.get(CHANGELIST, {"q": "Wants" + " " * 189 + "person"})) == [bobs_request.pk]
    assert _listed(sam_client.get(CHANGELIST, {"q": "Wants" + " " * 190 + "person"})) == []
    fits = sam_client.get(CHANGELIST, {"q": f"#{bobs_request.pk} " + "x" * 190})
    assert fits.status_code == 200 and not list(fits.context["messages"])
