"""A new escalation e-mails the support group once, after its transaction commits; the task is safe to repeat."""

from __future__ import annotations

import subprocess
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone

from escalations import tasks
from escalations.models import Escalation
from escalations.services import escalation_notify, escalation_open
from ordering.services import conversation_start
from tests.escalations.conftest import fresh
from tests.support.services import PROJECT_DIR, child_env


@pytest.fixture
def team(make_staff):
    """Two support specialists with e-mail, one without, and a staff member outside support."""
    return {
        "sam": make_staff("sam"),
        "kim": make_staff("kim"),
        "nomail": make_staff("nomail", email=""),
        "ops": make_staff("ops", support=False),
    }


def test_a_new_escalation_from_a_real_flow_emails_the_support_group_once(team, shop, eager_tasks):
    from ordering.services import flow_confirm

    flow = shop.start_flow(card="pm_alice_3ds")
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    escalation = Escalation.objects.get(flow=flow)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert sorted(email.to) == ["kim@support.example", "sam@support.example"]
    assert email.subject == f"[High] Escalation #{escalation.pk}: Payment needs verification for alice"
    assert f"http://localhost:8000/admin/escalations/escalation/{escalation.pk}/change/" in email.body
    assert "3-D Secure" in email.body
    assert fresh(escalation).notified_at is not None

    # the task delivered again (a redelivery, a sweeper) sends nothing more
    assert tasks.escalation_notify.delay(escalation.pk).get() == "already_notified"
    # and the saga opening the same escalation again (a retried step) neither duplicates it nor e-mails
    again = escalation_open(reason="payment_verification", customer_id=shop.alice.pk, flow_id=flow.pk)
    assert again.pk == escalation.pk
    assert len(mail.outbox) == 1


def test_a_configured_address_replaces_the_group_members(team, transactional_db, eager_tasks, settings):
    settings.ESCALATIONS_NOTIFY_EMAILS = ["support-team@example.com"]
    customer = get_user_model().objects.create_user("carol", password="irrelevant-pass-9")
    conversation = conversation_start(customer_id=customer.pk)

    escalation_open(reason="agent_stuck", customer_id=customer.pk, conversation_id=conversation.pk)

    assert [email.to for email in mail.outbox] == [["support-team@example.com"]]
    assert mail.outbox[0].subject.startswith("[Low] Escalation #")


def test_no_email_for_an_escalation_whose_transaction_rolled_back(team, transactional_db, eager_tasks):
    customer = get_user_model().objects.create_user("carol", password="irrelevant-pass-9")

    with pytest.raises(RuntimeError), transaction.atomic():
        escalation_open(reason="customer_request", customer_id=customer.pk)
        raise RuntimeError("the caller failed after opening it")

    assert not Escalation.objects.exists()
    assert mail.outbox == []


@pytest.mark.postgres
def test_two_deliveries_at_the_same_moment_send_one_email(team, transactional_db):
    customer = get_user_model().objects.create_user("carol", password="irrelevant-pass-9")
    escalation = escalation_open(reason="customer_request", customer_id=customer.pk)  # the queue is not eager here
    Escalation.objects.filter(pk=escalation.pk).update(notified_at=None)
    mail.outbox.clear()
    barrier = threading.Barrier(6)
    results: list[str] = []

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(escalation_notify(escalation_id=escalation.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["already_notified"] * 5 + ["sent"]
    assert len(mail.outbox) == 1


def test_a_failed_send_gives_the_claim_back_for_a_retry(team, db, settings):
    customer = get_user_model().objects.create_user("carol", password="irrelevant-pass-9")
    escalation = escalation_open(reason="customer_request", customer_id=customer.pk)  # commit hooks do not run in `db`
    # a mail server that refuses connections
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, False, 2

    with pytest.raises(OSError):
        escalation_notify(escalation_id=escalation.pk)

    assert fresh(escalation).notified_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert escalation_notify(escalation_id=escalation.pk) == "sent"
    assert len(mail.outbox) == 1


def test_the_sweeper_sends_what_a_lost_enqueue_left_behind(team, db, eager_tasks, settings):
    customer = get_user_model().objects.create_user("carol", password="irrelevant-pass-9")
    # opened in a transaction whose after-commit enqueue never happened (the `db` fixture never commits)
    lost = escalation_open(reason="customer_request", customer_id=customer.pk)
    recent = escalation_open(reason="agent_stuck", customer_id=customer.pk)
    Escalation.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=10))

    swept = tasks.escalations_notify_pending.delay().get()

    assert swept == [lost.pk]  # the recent one may still have its own task in flight
    assert len(mail.outbox) == 1 and f"#{lost.pk}" in mail.outbox[0].subject
    assert fresh(lost).notified_at is not None and fresh(recent).notified_at is None
    assert tasks.escalations_notify_pending.delay().get() == []


def test_without_anyone_to_tell_it_records_that_and_sends_nothing(db):
    customer = get_user_model().objects.create_user("carol", password="irrelevant-pass-9")
    escalation = escalation_open(reason="customer_request", customer_id=customer.pk)

    assert escalation_notify(escalation_id=escalation.pk) == "no_recipients"
    assert mail.outbox == []


def _run_script_environment(tmp_path, **overrides: str | None) -> dict[str, str]:
    """The environment `make run` (scripts/run) gives its processes: a stand-in Python records it at the first command
    (migrate and seed) and stops the script there, so nothing is started."""
    dump = tmp_path / "run-environment"
    stand_in = tmp_path / "python"
    stand_in.write_text(f'#!/bin/sh\nenv > "{dump}"\nexit 3\n')
    stand_in.chmod(0o755)
    env = child_env(
        DJANGO_SETTINGS_MODULE=None, VAR_DIR=str(tmp_path / "var"), PYTHON=str(stand_in), HOST=None, **overrides
    )
    run = subprocess.run(["./scripts/run"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 3, run.stdout + run.stderr
    return dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)


def test_make_run_links_e_mails_to_the_port_it_serves(tmp_path):
    # when: `make run` serves on PORT 8300, with no link base set
    served = _run_script_environment(tmp_path, PORT="8300", ESCALATIONS_CONSOLE_URL=None, CONSENT_SITE_URL=None)

    # then: the console links in staff e-mails and the site in customers' notices are that server (not :8000)
    assert served["ESCALATIONS_CONSOLE_URL"] == "http://127.0.0.1:8300"
    assert served["CONSENT_SITE_URL"] == "http://127.0.0.1:8300"
    assert served["SANDBOX_MERCHANT_WEBHOOK_URL"] == "http://127.0.0.1:8300/webhooks/merchants/sandbox/"

    # and addresses given explicitly are kept
    given = _run_script_environment(
        tmp_path,
        PORT="8300",
        ESCALATIONS_CONSOLE_URL="https://console.shop.example",
        CONSENT_SITE_URL="https://shop.example",
    )
    assert (given["ESCALATIONS_CONSOLE_URL"], given["CONSENT_SITE_URL"]) == (
        "https://console.shop.example",
        "https://shop.example",
    )
