"""Fixtures for tests that talk to the sandbox merchant over real HTTP (a pytest plugin).

For tests whose subject is the merchant over the wire (the client, faults, webhooks, what the sandbox
received, end-to-end paths). Where the merchant is incidental, use the in-memory `fake_merchant`
(tests/support/fake_merchant.py) or `fake_shop`: no live server, and the test rolls back (README, "Tests").

Loaded for the whole suite from `tests/conftest.py` (`pytest_plugins`). All of them need a test that
may use the database across threads, so they pull in `transactional_db` themselves.

`sandbox_merchant` -> `SandboxMerchant`
    The demo data seeded (`seed_sandbox_merchant`), served by pytest-django's `live_server` on a real
    socket. Attributes and helpers:
    - `base_url`: `f"{live_server.url}/sandbox-merchant"`; `token`, `api_version`, `merchant_id`.
    - `headers(**extra)`: Authorization, API-Version and an `X-Trace-ID`, plus `extra`.
    - `get(path, **kw)` / `post(path, json=..., idempotency_key=None, **kw)` / `request(method, ...)`:
      `requests` calls with those headers; POSTs get a fresh Idempotency-Key unless you pass one.
      Extra headers go in `headers={...}` (e.g. `{"Sandbox-Fault": "server_error;times=2"}`).
    - `add_fault(kind, operation="any", customer_id=None, vault_reference=None, times=None, delay_ms=None)`,
      `clear_faults()`, `faults()`: the HTTP fault switchboard (`/sandbox/faults`).
    - `received_requests(path_contains="")`: the `ReceivedRequest` rows (method, path, trace_id,
      request_id, idempotency_key, operation, status, faults, replayed), oldest first.
    - `wait_until_answered(timeout=30)`: block until no received request is still being answered
      (use it after a client timeout, so the sandbox's sleeping thread does not outlive the test).
    - `available(variant_id)`: units on hand minus live reservations, read from the database.
    - `set_stock(variant_id, units)`: put a variant's stock at a known level for a test.
    - `create_session(...)`, `ready_session(...)`: an ACP session for alice (blue runner 42 by default),
      bare or with her home address and standard shipping chosen; returns the JSON body.
    - `delegate(session_id, max_amount, vault_reference="pm_alice_visa", ..., metadata=None)`: a vault token id
      (the request carries `metadata`, `{}` unless given, as the official schema requires).
    - `complete(session_id, token, **fields)`: POST complete with the official `payment_data(token)`.
    - `deliver_pending_webhooks()`: sends every pending order webhook now, in this process, to
      `settings.SANDBOX_MERCHANT_WEBHOOK_URL` (for tests without a Celery worker); returns how many.
    Constants: `ALICE_BUYER`, `ALICE_HOME` (ACP `buyer` / `fulfillment_details`), `BLUE_RUNNER_42`,
    `AGENT_CAPABILITIES`; `payment_data(token)` builds the official PaymentData.

`capturing_http_server` -> `CapturingServer`
    A tiny HTTP server on 127.0.0.1 (its own thread) that records every request (`.requests`: method,
    path, headers, raw body) and answers `.status` (200 by default). `.url` is its base URL; `.wait_for(n)`
    blocks until n requests arrived. Point `settings.SANDBOX_MERCHANT_WEBHOOK_URL` at it to capture webhooks.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from catalog_adapters.contract import Address, Buyer, FulfillmentDetails
from tests.support.local_servers import KeptAliveSession

BLUE_RUNNER_42 = "var_blue_runner_42"
ALICE_BUYER = {"email": "alice@example.com", "first_name": "Alice", "last_name": "Example"}
ALICE_HOME = {
    "name": "Alice Example",
    "email": "alice@example.com",
    "address": {
        "name": "Alice Example",
        "line_one": "1 Market Street",
        "line_two": "Apt 5",
        "city": "San Francisco",
        "state": "CA",
        "country": "US",
        "postal_code": "94105",
    },
}


# The same alice as the merchant contract's values (what our client sends), for tests that call the client.
ALICE = Buyer(**ALICE_BUYER)
HOME = FulfillmentDetails(name=ALICE_HOME["name"], email=ALICE_HOME["email"], address=Address(**ALICE_HOME["address"]))


AGENT_CAPABILITIES = {"interventions": {"supported": ["3ds"], "display_context": "webview"}, "extensions": ["discount"]}


def payment_data(token: str) -> dict:
    """ACP PaymentData for the sandbox's `card_tokenized` handler, spending a delegated vault token."""
    return {
        "handler_id": "card_tokenized",
        "instrument": {"type": "card", "credential": {"type": "spt", "token": token}},
    }


@dataclass
class SandboxMerchant:
    base_url: str
    token: str = field(default_factory=lambda: settings.SANDBOX_MERCHANT_API_TOKENS[0])
    api_version: str = "2026-04-17"
    merchant_id: str = field(default_factory=lambda: settings.SANDBOX_MERCHANT_ID)
    trace_id: str = field(default_factory=lambda: f"trace-{uuid.uuid4().hex[:16]}")
    timeout: float = 30
    # One kept-alive connection per thread that asks (KeptAliveSession: without one, every request paid for a new
    # connection, live-server thread and PostgreSQL session); `close()` ends them when the test does.
    _sessions: threading.local = field(default_factory=threading.local, repr=False, compare=False)
    _opened: list[KeptAliveSession] = field(default_factory=list, repr=False, compare=False)

    ALICE_BUYER = ALICE_BUYER
    ALICE_HOME = ALICE_HOME
    BLUE_RUNNER_42 = BLUE_RUNNER_42

    # -- raw HTTP ---------------------------------------------------------------------------------

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "API-Version": self.api_version,
            "X-Trace-ID": self.trace_id,
            **extra,
        }

    def request(self, method: str, path: str, *, headers: dict | None = None, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self._session().request(
            method, f"{self.base_url}{path}", headers=self.headers(**(headers or {})), **kwargs
        )

    def _session(self) -> KeptAliveSession:
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = KeptAliveSession()
            self._opened.append(session)
        return session

    def close(self) -> None:
        for session in self._opened:
            session.close()
        self._opened.clear()
        self._sessions = threading.local()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: dict | None = None, *, idempotency_key: str | None = None, **kwargs):
        headers = {
            "Idempotency-Key": idempotency_key or f"key-{uuid.uuid4().hex}",
            **(kwargs.pop("headers", None) or {}),
        }
        return self.request("POST", path, json=json if json is not None else {}, headers=headers, **kwargs)

    # -- faults -----------------------------------------------------------------------------------

    def add_fault(self, kind: str, operation: str = "any", **options) -> dict:
        body = {"kind": kind, "operation": operation, **{k: v for k, v in options.items() if v is not None}}
        response = self.post("/sandbox/faults", body)
        assert response.status_code == 201, response.text
        return response.json()

    def clear_faults(self) -> None:
        response = self.request("DELETE", "/sandbox/faults")
        assert response.status_code == 200, response.text

    def faults(self) -> list[dict]:
        return self.get("/sandbox/faults").json()["data"]

    # -- database views ---------------------------------------------------------------------------

    def received_requests(self, path_contains: str = "") -> list:
        from sandbox_merchant.selectors import received_requests

        return list(received_requests(path_contains=path_contains))

    def wait_until_answered(self, timeout: float = 30) -> None:
        """Wait until every request the sandbox received has been answered (after a client gave up on one)."""
        from sandbox_merchant.models import ReceivedRequest

        deadline = time.monotonic() + timeout
        while ReceivedRequest.objects.filter(status__isnull=True).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox still had requests in progress after {timeout}s")
            time.sleep(0.05)

    def available(self, variant_id: str) -> int:
        from sandbox_merchant.selectors import variant_available

        return variant_available(variant_id=variant_id)

    def session_held(self, session_id: str) -> int:
        """Units this checkout session holds now, where the sandbox keeps them (open, not lapsed)."""
        from django.db.models import Sum
        from django.utils import timezone

        from sandbox_merchant.selectors import live_reservations

        lines = live_reservations(now=timezone.now()).filter(session_id=session_id)
        return lines.aggregate(units=Sum("reserved_quantity"))["units"] or 0

    def set_stock(self, variant_id: str, units: int) -> None:
        from sandbox_merchant.models import Variant

        # Test set-up only: the merchant's own code changes stock through its services.
        Variant.objects.filter(id=variant_id).update(stock=units)

    def deliver_pending_webhooks(self) -> int:
        from sandbox_merchant.models import WebhookDelivery, WebhookStatus
        from sandbox_merchant.services import webhook_delivery_send

        pending = list(WebhookDelivery.objects.filter(status=WebhookStatus.PENDING).order_by("created_at"))
        for delivery in pending:
            webhook_delivery_send(delivery_id=delivery.id)
        return len(pending)

    # -- ACP shortcuts ----------------------------------------------------------------------------

    def create_session(self, *, variant_id: str = BLUE_RUNNER_42, quantity: int = 1, **fields) -> dict:
        # Official ACP 2026-04-17: one Item per unit, and the agent's capabilities.
        body = {
            "currency": "usd",
            "line_items": [{"id": variant_id}] * quantity,
            "buyer": ALICE_BUYER,
            "capabilities": AGENT_CAPABILITIES,
        }
        body.update(fields)
        response = self.post("/checkout_sessions", body)
        assert response.status_code == 201, response.text
        return response.json()

    def ready_session(self, *, variant_id: str = BLUE_RUNNER_42, quantity: int = 1, **fields) -> dict:
        fields.setdefault("fulfillment_details", ALICE_HOME)
        fields.setdefault("selected_fulfillment_options", [{"type": "shipping", "option_id": "ship_standard"}])
        return self.create_session(variant_id=variant_id, quantity=quantity, **fields)

    def complete(self, session_id: str, token: str, *, headers: dict | None = None, **fields) -> requests.Response:
        """POST complete with the official payment_data for the sandbox's handler (plus body `fields`)."""
        body = {"payment_data": payment_data(token), **fields}
        return self.post(f"/checkout_sessions/{session_id}/complete", body, headers=headers)

    def delegate(
        self,
        session_id: str,
        max_amount: int,
        *,
        vault_reference: str = "pm_alice_visa",
        currency: str = "usd",
        merchant_id: str | None = None,
        expires_in: timedelta = timedelta(minutes=15),
        metadata: dict[str, str] | None = None,
    ) -> str:
        body = {
            "payment_method": {"type": "card", "vault_reference": vault_reference},
            "allowance": {
                "reason": "one_time",
                "max_amount": max_amount,
                "currency": currency,
                "checkout_session_id": session_id,
                "merchant_id": merchant_id or self.merchant_id,
                "expires_at": (timezone.now() + expires_in).isoformat(),
            },
            "risk_signals": [],
            "metadata": dict(metadata or {}),
        }
        response = self.post("/agentic_commerce/delegate_payment", body)
        assert response.status_code == 201, response.text
        return response.json()["id"]


@pytest.fixture
def sandbox_merchant(live_server, transactional_db):
    demo_data_restore()
    merchant = SandboxMerchant(base_url=f"{live_server.url}/sandbox-merchant")
    yield merchant
    merchant.close()


# -- the demo data, seeded once per test database and copied back for each test ------------------

SNAPSHOT_SCHEMA = "test_sandbox_demo"
# The sandbox tables the demo seed fills (sandbox_merchant/demo.py), in an order that respects their keys.
SEEDED_TABLES = (
    "sandbox_merchant_product",
    "sandbox_merchant_productimage",
    "sandbox_merchant_variant",
    "sandbox_merchant_customer",
    "sandbox_merchant_customeraddress",
    "sandbox_merchant_vaultcard",
    "sandbox_merchant_saveditem",
    "sandbox_merchant_promotion",
)
_snapshots: dict[str, float] = {}  # database name -> when its snapshot was taken (time.time())


def demo_data_restore() -> None:
    """The sandbox's demo data, as `demo_data_seed()` on the empty tables a test starts with, in one round trip.

    The seed is ~2,000 queries (1-4 s here), and the sandbox fixture is used by ~560 tests. The first use on a
    test database runs the real seed and copies its rows into a schema of their own (SNAPSHOT_SCHEMA, which
    Django's flush and tests/support/fast_flush.py leave alone); later uses copy them back with every timestamp
    moved forward by the snapshot's age, so "saved 2 days ago" and "expires in 30 days" are as a fresh seed
    would write them. Anything but PostgreSQL, or tables that are not empty, get the real seed.
    """
    from django.db import connection

    from sandbox_merchant.demo import demo_data_seed

    if connection.vendor != "postgresql":
        demo_data_seed()
        return
    name = connection.settings_dict["NAME"]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        probes = " OR ".join(f"EXISTS (SELECT 1 FROM {quote(table)})" for table in SEEDED_TABLES)
        cursor.execute(f"SELECT {probes}")
        filled = cursor.fetchone()[0]
        if filled:
            demo_data_seed()
            return
        taken_at = _snapshots.get(name)
        if taken_at is None:
            demo_data_seed()
            statements = [f"DROP SCHEMA IF EXISTS {SNAPSHOT_SCHEMA} CASCADE", f"CREATE SCHEMA {SNAPSHOT_SCHEMA}"]
            statements += [
                f"CREATE TABLE {SNAPSHOT_SCHEMA}.{quote(table)} AS SELECT * FROM {quote(table)}"
                for table in SEEDED_TABLES
            ]
            cursor.execute("; ".join(statements))
            _snapshots[name] = time.time()
            return
        age = f"interval '{time.time() - taken_at:.6f} seconds'"
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            [SNAPSHOT_SCHEMA],
        )
        columns: dict[str, list[str]] = {}
        for table, column, data_type in cursor.fetchall():
            moved = data_type.startswith("timestamp")
            columns.setdefault(table, []).append(f"{quote(column)} + {age}" if moved else quote(column))
        cursor.execute(
            "; ".join(
                f"INSERT INTO {quote(table)} SELECT {', '.join(columns[table])} FROM {SNAPSHOT_SCHEMA}.{quote(table)}"
                for table in SEEDED_TABLES
            )
        )


@dataclass
class CapturedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CapturingServer:
    server: ThreadingHTTPServer
    requests: list[CapturedRequest] = field(default_factory=list)
    status: int = 200

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def wait_for(self, count: int, timeout: float = 30) -> list[CapturedRequest]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.requests)} of {count} requests arrived within {timeout}s")
            time.sleep(0.05)
        return list(self.requests)


@pytest.fixture
def capturing_http_server():
    captured: CapturingServer | None = None

    class Handler(BaseHTTPRequestHandler):
        def _capture(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            captured.requests.append(CapturedRequest(self.command, self.path, dict(self.headers.items()), body))
            self.send_response(captured.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_POST = do_GET = do_PUT = _capture

        def log_message(self, *args) -> None:  # keep test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    captured = CapturingServer(server=server)
    # shutdown() waits for the loop to look again: every 0.5 s by default, half a second per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield captured
    finally:
        server.shutdown()
        server.server_close()
