"""No field anywhere can hold a card number or security code, and our logs never carry one."""

from __future__ import annotations

import logging
import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from config.logging import JsonFormatter
from consent.models import PaymentMethod
from consent.services.grants import consent_revoke
from consent.services.ledger import spend_commit, spend_reserve
from consent.services.wallet import payment_method_add
from tests.consent.factories import address, card, grant

# Names that mean "card data" wherever they appear.
FORBIDDEN_NAME = re.compile(r"(card_?num|^pan$|_pan$|^pan_|cvc|cvv|security_?code|card_?code|^number$)", re.I)
# Names that are about a card: such a text field must be too short for a PAN (13-19 digits).
# (A brand such as "visa" is not card data, whatever its length.)
CARD_LIKE_NAME = re.compile(r"(card|last_?4|last_?four|^bin$|^iin$|^pan)", re.I)
PAN_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
# Trace ids are random hex and may hold a long run of digits by chance; they are not card data.
TRACE_ID = re.compile(r'"trace_id": "[0-9a-f]{32}"')
A_PAN = "4242424242424242"


def assert_no_card_number_logged(records) -> None:
    """Format each record as production writes it (JSON lines with every extra field) and scan it."""
    formatter = JsonFormatter()
    for record in records:
        line = TRACE_ID.sub("", formatter.format(record))
        assert not PAN_LIKE.search(line), line


def every_field():
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if getattr(field, "concrete", False):
                yield model, field


def test_no_model_of_any_installed_app_has_a_field_named_for_card_data():
    offenders = [
        f"{model._meta.label}.{field.name}" for model, field in every_field() if FORBIDDEN_NAME.search(field.name)
    ]

    assert offenders == []


def test_no_card_like_text_field_is_long_enough_for_a_card_number():
    offenders = [
        f"{model._meta.label}.{field.name} (max_length={field.max_length})"
        for model, field in every_field()
        if isinstance(field, models.CharField | models.TextField)
        and CARD_LIKE_NAME.search(field.name)
        and (field.max_length is None or field.max_length >= 13)
        and not field.choices  # a brand chosen from a list cannot hold digits
    ]

    assert offenders == []


def test_the_long_text_fields_of_a_payment_method_refuse_a_card_number(alice):
    long_fields = {
        field.name
        for field in PaymentMethod._meta.get_fields()
        if isinstance(field, models.CharField) and not field.choices and field.max_length >= 13
    }
    assert long_fields == {"merchant_id", "vault_reference", "nickname"}
    method = PaymentMethod(
        user=alice,
        merchant_id="sandbox",
        vault_reference=f"pm_{A_PAN}",
        nickname=A_PAN,
        brand="visa",
        last4="4242",
        exp_month=1,
    )
    method.exp_year = 2030
    with pytest.raises(ValidationError) as refused:
        method.full_clean()
    assert {"vault_reference", "nickname"} <= set(refused.value.message_dict)
    assert PaymentMethod._meta.get_field("last4").max_length == 4


def test_the_logs_of_our_flows_carry_no_card_number(alice, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        granted = grant(alice)
        card(alice, "pm_alice_visa", "4242")
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do; the log is what we check
            payment_method_add(user_id=alice.pk, merchant_id="sandbox", vault_reference=A_PAN)
        address(alice)
        spend_reserve(user_id=alice.pk, amount=1_000, currency="USD", flow_reference="flow-1")
        spend_commit(flow_reference="flow-1")
        consent_revoke(user_id=alice.pk, grant_id=granted.pk, via="api")

    assert caplog.records, "the flows above log what they do"
    assert_no_card_number_logged(caplog.records)


def test_the_api_logs_no_card_number_when_refusing_one(alice_api, caplog):
    caplog.set_level(logging.DEBUG)

    alice_api.post(
        "/api/v1/consent/payment-methods/",
        {"number": A_PAN, "cvc": "123"},
        format="json",
    )
    alice_api.post("/api/v1/consent/payment-methods/", {"vault_reference": f"pm_{A_PAN}"}, format="json")
    alice_api.post("/api/v1/consent/payment-methods/", {"vault_reference": "pm_ok", "nickname": A_PAN}, format="json")

    assert_no_card_number_logged(caplog.records)


def test_audit_events_of_card_changes_carry_no_card_number(alice):
    from audit.models import AuditEvent

    card(alice, "pm_alice_visa", "4242")

    for event in AuditEvent.objects.filter(customer_id=alice.pk):
        assert not PAN_LIKE.search(str(event.data))
