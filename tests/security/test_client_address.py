"""The client's address behind a load balancer: taken from X-Forwarded-For only as far as
TRUSTED_PROXY_COUNT proxies vouch for it, and used alike by sign-in lockouts and the audit log."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from audit.models import AuditEvent
from config.checks import check_production_defaults
from config.client_ip import client_ip
from tests.consent.factories import UserFactory
from tests.security.conftest import PASSWORD

LOCKED = "Too many failed sign-in attempts; try again in 15 minutes."
BALANCER = "10.0.0.5"


def _customer_sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _through_the_balancer(forwarded_for: str) -> Client:
    # what the balancer passes on: its own address as REMOTE_ADDR, the client's appended to X-Forwarded-For
    return Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=forwarded_for)


@pytest.mark.parametrize(
    ("trusted", "remote_addr", "forwarded_for", "expected"),
    [
        # no proxy trusted: the connecting address, whatever the client wrote
        (0, "198.51.100.1", None, "198.51.100.1"),
        (0, "198.51.100.1", "203.0.113.9", "198.51.100.1"),
        # one proxy: the entry it appended, the rightmost; anything left of it the client wrote
        (1, BALANCER, "203.0.113.9", "203.0.113.9"),
        (1, BALANCER, "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        (1, BALANCER, "not-an-address, 203.0.113.9", "203.0.113.9"),
        (1, BALANCER, " 2001:db8::1 ", "2001:db8::1"),
        # two proxies (a CDN, then the balancer): the second entry from the right
        (2, BALANCER, "1.2.3.4, 203.0.113.9, 192.0.2.60", "203.0.113.9"),
        # fewer entries than trusted proxies, or one a trusted proxy wrote that is no address: REMOTE_ADDR
        (1, BALANCER, None, BALANCER),
        (1, BALANCER, "", BALANCER),
        (2, BALANCER, "203.0.113.9", BALANCER),
        (1, BALANCER, "203.0.113.9:4711", BALANCER),
        (1, BALANCER, "203.0.113.9, ", BALANCER),
        (2, BALANCER, "203.0.113.9, garbage", BALANCER),
        # no usable address at all
        (0, "", None, None),
        (0, "unix-socket", None, None),
    ],
)
def test_the_client_address_is_the_entry_the_trusted_proxies_vouch_for(
    settings, trusted, remote_addr, forwarded_for, expected
):
    settings.TRUSTED_PROXY_COUNT = trusted
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for

    assert client_ip(RequestFactory().get("/", **headers)) == expected


@pytest.mark.django_db
def test_behind_the_balancer_one_clients_failures_lock_out_that_client_only(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="carol")
    UserFactory(username="dave")
    spray = _through_the_balancer("198.51.100.30")
    for index in range(5):
        _customer_sign_in(spray, f"guess{index}", "Password1")

    locked = _customer_sign_in(spray, "carol", PASSWORD)
    neighbour = _customer_sign_in(_through_the_balancer("203.0.113.30"), "dave", PASSWORD)

    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    assert neighbour.status_code == 302


@pytest.mark.django_db
def test_without_trusted_proxies_a_client_written_forwarded_for_changes_nothing(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    UserFactory(username="carol")
    for index in range(5):
        _customer_sign_in(Client(REMOTE_ADDR="198.51.100.31", HTTP_X_FORWARDED_FOR=f"192.0.2.{index}"), "x", "y")

    fresh_claim = Client(REMOTE_ADDR="198.51.100.31", HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert _customer_sign_in(fresh_claim, "carol", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_behind_the_balancer_an_address_the_client_prepends_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="carol")
    # each attempt claims another address; the balancer appends the real one
    for index in range(5):
        _customer_sign_in(_through_the_balancer(f"192.0.2.{index}, 198.51.100.32"), f"guess{index}", "Password1")

    fresh_claim = _customer_sign_in(_through_the_balancer("192.0.2.99, 198.51.100.32"), "carol", PASSWORD)

    assert fresh_claim.status_code == 429


@pytest.mark.django_db
def test_behind_the_balancer_the_audit_log_records_the_clients_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="carol")
    client = _through_the_balancer("192.0.2.7, 198.51.100.33")

    _customer_sign_in(client, "carol", "wrong-password-1")
    _customer_sign_in(client, "carol", PASSWORD)

    events = AuditEvent.objects.filter(action__in=["identity.sign_in_failed", "identity.signed_in"])
    assert [(event.action, event.origin_ip) for event in events.order_by("sequence")] == [
        ("identity.sign_in_failed", "198.51.100.33"),
        ("identity.signed_in", "198.51.100.33"),
    ]


def test_check_deploy_warns_behind_a_proxy_whose_forwarded_addresses_are_not_trusted(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 0

    warned = [message for message in check_production_defaults(None) if message.id == "config.W002"]
    settings.TRUSTED_PROXY_COUNT = 1
    trusted = [message for message in check_production_defaults(None) if message.id == "config.W002"]
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.TRUSTED_PROXY_COUNT = 0
    no_proxy = [message for message in check_production_defaults(None) if message.id == "config.W002"]

    assert len(warned) == 1 and "TRUSTED_PROXY_COUNT" in warned[0].msg + warned[0].hint
    assert trusted == [] and no_proxy == []
