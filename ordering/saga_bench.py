"""Measuring the placement saga: its cost per order (queries, commits, queue hops) and its throughput.

`SagaMeter` counts what one process does while it is open; tests use it for the saga's query budgets
and `saga_burst` (below) for the per-order cost it prints beside the placed orders per second.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from celery.signals import task_prerun
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext, override_settings

_WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class SagaMeter:
    """What the saga cost on this process's database connection, and how often a flow task started here."""

    queries: list[str] = field(default_factory=list)
    commits: int = 0
    hops: int = 0

    @property
    def query_count(self) -> int:
        # Savepoints are round trips too; they are counted like any statement.
        return len(self.queries)

    def by_area(self) -> dict[str, int]:
        """Queries per app (by the first table named), transaction control (BEGIN, SAVEPOINT...) apart."""
        areas: dict[str, int] = {}
        for sql in self.queries:
            areas[_area(sql)] = areas.get(_area(sql), 0) + 1
        return areas


def _area(sql: str) -> str:
    words = sql.lstrip().split(None, 1)
    if not words or words[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
        return "transaction"
    if "pg_advisory" in sql:
        return "audit"  # the audit chain's lock
    match = re.search(r'"([a-z_]+?)_[a-z]+"', sql)
    return match.group(1) if match else "other"


@contextmanager
def saga_meter(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[SagaMeter]:
    """Count queries, commits (explicit transactions and autocommitted writes) and `flow_advance` starts.

    Hops are counted where the task runs: in this process, so with eager tasks (a worker's hops are
    its deliveries, which `saga_burst` reads from the flows' step rows instead).
    """
    connection = connections[using]
    meter = SagaMeter()
    real_commit = connection.commit

    def counting_commit() -> None:
        meter.commits += 1
        real_commit()

    def count_autocommitted(execute, sql, params, many, context):
        if not connection.in_atomic_block and sql.lstrip().upper().startswith(_WRITES):
            meter.commits += 1
        return execute(sql, params, many, context)

    def count_hop(sender=None, **kwargs) -> None:
        if getattr(sender, "name", "") == "ordering.flow_advance":
            meter.hops += 1

    task_prerun.connect(count_hop, weak=False)
    connection.commit = counting_commit
    try:
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(count_autocommitted):
            yield meter
            meter.queries = [query["sql"] for query in captured.captured_queries]
    finally:
        del connection.commit
        task_prerun.disconnect(count_hop)


# -- throughput: a burst of confirmed flows on real Celery workers -------------------------------------

# The seeded shop holds 8 of each size: a burst takes them round-robin (40 flows at most per seed).
BENCH_VARIANTS = tuple(f"var_blue_runner_{size}" for size in range(40, 45))


@dataclass(frozen=True)
class SagaBurstResult:
    """One burst: `flows` confirmed at once, placed by `worker_processes` Celery worker processes."""

    flows: int
    worker_processes: int
    placed: int
    seconds: float  # from the first confirmation to the last flow placed
    deliveries: int  # flow_advance tasks the workers ran (queue hops), all flows together
    statuses: dict[str, int]

    @property
    def placed_per_second(self) -> float:
        return self.placed / self.seconds if self.seconds else 0.0

    @property
    def hops_per_order(self) -> float:
        return self.deliveries / self.flows if self.flows else 0.0


def saga_burst(
    *,
    flows: int = 40,
    worker_processes: int = 1,
    merchant_base_url: str | None = None,
    queue: str | None = None,
    timeout: float = 600.0,
    log_dir: Path | None = None,
) -> SagaBurstResult:
    """Confirm `flows` previewed orders at once and time how fast real workers place them all.

    Needs PostgreSQL and Redis from this process's settings (DATABASE_URL, REDIS_URL), migrated. It seeds
    one bench customer per flow (`saga-bench-<n>`, alice's demo wallet, so no
    spend cap or velocity rule stops the burst), previews every flow over HTTP first (not timed), then
    starts `worker_processes` Celery worker processes (`--concurrency=1` each, on a queue of its own),
    confirms all flows and waits until none is confirmed or placing. Without `merchant_base_url` it
    serves the project (whose sandbox merchant is the shop) with gunicorn itself for the run.
    The merchant's outbound rate limit is switched off in the workers: the saga is measured, not the limiter.
    Each flow buys one unit of one of BENCH_VARIANTS: run `manage.py seed_sandbox_merchant` before each
    burst (it restocks 8 of each, so at most 40 flows per burst).
    """
    from catalog_adapters.registry import reset_merchants
    from ordering.models import OrderFlow
    from ordering.services import flow_confirm

    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="saga-bench-"))
    queue = queue or f"saga-bench-{uuid.uuid4().hex[:8]}"
    server = None
    workers: list[subprocess.Popen] = []
    try:
        if merchant_base_url is None:
            server = _serve_project(log_dir / "merchant.log")
            merchant_base_url = f"{server[1]}/sandbox-merchant"
        settings.MERCHANTS = {
            **settings.MERCHANTS,
            "sandbox": {**settings.MERCHANTS["sandbox"], "BASE_URL": merchant_base_url, "RATE_LIMIT": 0.0},
        }
        reset_merchants()
        customers = _bench_customers(flows)
        previewed = [
            _previewed_flow(customer, BENCH_VARIANTS[n % len(BENCH_VARIANTS)]) for n, customer in enumerate(customers)
        ]
        env = {
            "MERCHANT_SANDBOX_BASE_URL": merchant_base_url,
            "MERCHANT_SANDBOX_RATE_LIMIT": "0",
            "CELERY_DEFAULT_QUEUE": queue,
        }
        workers = [
            _start_worker(
                queue=queue, name=f"bench{n}-{queue}@localhost", env=env, log_path=log_dir / f"worker-{n}.log"
            )
            for n in range(worker_processes)
        ]
        _wait_for_workers([f"bench{n}-{queue}@localhost" for n in range(worker_processes)])
        flow_ids = [flow.pk for flow in previewed]
        started = time.monotonic()
        with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
            from config.celery import app

            previous_queue = app.conf.task_default_queue
            app.conf.task_default_queue = queue
            try:
                for flow in previewed:
                    flow_confirm(flow_id=flow.pk, customer_id=flow.customer_id, preview_hash=flow.preview_hash)
            finally:
                app.conf.task_default_queue = previous_queue
        deadline = started + timeout
        running = ("confirmed", "placing")
        while OrderFlow.objects.filter(pk__in=flow_ids, status__in=running).exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        seconds = time.monotonic() - started
        statuses: dict[str, int] = {}
        for status in OrderFlow.objects.filter(pk__in=flow_ids).values_list("status", flat=True):
            statuses[status] = statuses.get(status, 0) + 1
        deliveries = sum(_log_count(log_dir / f"worker-{n}.log") for n in range(worker_processes))
    finally:
        for worker in workers:
            _stop(worker)
        if server is not None:
            _stop(server[0])
    return SagaBurstResult(
        flows=flows,
        worker_processes=worker_processes,
        placed=statuses.get("placed", 0),
        seconds=seconds,
        deliveries=deliveries,
        statuses=statuses,
    )


def _bench_customers(count: int) -> list[int]:
    """Customers with alice's grants, visa card and home address (not her shop account, which is hers alone)."""
    from django.contrib.auth import get_user_model

    from audit.models import ActorType
    from catalog_adapters.contract import StoredCard
    from consent.demo import DEMO_CARD_EXPIRY, DEMO_CUSTOMERS
    from consent.models import GrantChannel, Scope
    from consent.selectors import addresses_for_customer, grants_for_customer
    from consent.services import address_add, consent_grant, consent_profile_ensure, payment_method_store

    alice = DEMO_CUSTOMERS["alice"]
    vault_reference, brand, last4, _ = alice["cards"][0]
    user_model = get_user_model()
    ids = []
    for n in range(count):
        user, _ = user_model.objects.get_or_create(
            username=f"saga-bench-{n}", defaults={"email": f"saga-bench-{n}@example.com", "first_name": "Bench"}
        )
        consent_profile_ensure(user_id=user.pk)
        if not grants_for_customer(user_id=user.pk).exists():
            for scope in Scope.values:
                consent_grant(user_id=user.pk, scope=scope, via=GrantChannel.SEED, actor_type=ActorType.SYSTEM)
        payment_method_store(
            user_id=user.pk,
            merchant_id="sandbox",
            card=StoredCard(
                vault_reference=vault_reference,
                brand=brand,
                last4=last4,
                exp_month=DEMO_CARD_EXPIRY[0],
                exp_year=DEMO_CARD_EXPIRY[1],
            ),
            make_default=True,
            actor_type=ActorType.SYSTEM,
        )
        if not addresses_for_customer(user_id=user.pk).exists():
            address_add(user_id=user.pk, actor_type=ActorType.SYSTEM, **alice["addresses"][0])
        ids.append(user.pk)
    return ids


def _previewed_flow(customer_id: int, variant: str):
    from catalog_adapters.contract import Address as AcpAddress
    from catalog_adapters.contract import (
        Buyer,
        CheckoutRequest,
        FulfillmentDetails,
        LineItemRequest,
        SelectedFulfillmentOption,
    )
    from catalog_adapters.registry import get_merchant
    from consent.models import Address, PaymentMethod
    from ordering.services import conversation_start, flow_preview, flow_start

    home = Address.objects.filter(user_id=customer_id).order_by("id").first()
    card = PaymentMethod.objects.get(user_id=customer_id, vault_reference="pm_alice_visa")
    session = get_merchant("sandbox").checkout.create(
        request=CheckoutRequest(
            line_items=(LineItemRequest(id=variant, quantity=1),),
            currency="usd",
            buyer=Buyer(email="alice@example.com", first_name="Alice"),
            fulfillment_details=FulfillmentDetails(
                name=home.recipient,
                email="alice@example.com",
                address=AcpAddress(
                    name=home.recipient,
                    line_one=home.line1,
                    city=home.city,
                    state=home.region,
                    country=home.country,
                    postal_code=home.postal_code,
                ),
            ),
            selected_fulfillment_options=(SelectedFulfillmentOption(option_id="ship_standard"),),
        ),
        operation_id=f"saga-bench-{uuid.uuid4().hex}",
    )
    conversation = conversation_start(customer_id=customer_id)
    flow = flow_start(conversation=conversation, merchant_id="sandbox", checkout_session_id=session.id)
    return flow_preview(
        flow_id=flow.pk, customer_id=customer_id, session=session, payment_method_id=card.pk, address_id=home.pk
    )


def _child_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"))
    env["LOG_LEVEL"] = env.get("LOG_LEVEL", "WARNING")
    env.update(overrides)
    return env


def _serve_project(log_path: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [
            sys.executable,
            *("-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "2", "--threads", "8", "--timeout", "60"),
        ],
        cwd=settings.BASE_DIR,
        env=_child_env(SANDBOX_MERCHANT_IN_PROCESS="1"),
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 - http to ourselves
                return process, url
        except urllib.error.HTTPError:
            return process, url
        except OSError:
            time.sleep(0.2)
    _stop(process)
    raise TimeoutError(f"the merchant server did not answer; see {log_path}")


def _start_worker(*, queue: str, name: str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [
            sys.executable,
            *("-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=1"),
            *("-Q", queue, "-n", name, "--without-gossip", "--without-mingle"),
        ],
        cwd=settings.BASE_DIR,
        env=_child_env(**env),
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_for_workers(names: list[str], timeout: float = 60) -> None:
    from config.celery import app

    deadline = time.monotonic() + timeout
    waiting = set(names)
    while waiting and time.monotonic() < deadline:
        for reply in app.control.ping(destination=list(waiting), timeout=0.5) or []:
            waiting -= set(reply)
    if waiting:
        raise TimeoutError(f"workers not ready: {sorted(waiting)}")


def _log_count(log_path: Path) -> int:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return len(re.findall(r"Task ordering\.flow_advance\[[^\]]+\] received", text))


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
