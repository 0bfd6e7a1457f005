"""What one placement costs our database and queue: query budgets per saga unit and per placed order.

Counted on this process's connection, with the in-memory fake merchant (it makes no queries, as the sandbox's
on its own thread and connection were never counted) and real commits (`transactional_db`: the budgets count
BEGIN and COMMIT, which a test that rolls back would turn into savepoints). The budgets are ceilings with a
little room, not exact numbers: they fail when a change brings back a per-step re-read, a second lock or a hop
per step. What one placement asks the merchant over HTTP is in test_saga_budget_wire.py.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from ordering.models import FlowStatus, FlowStep, OrderFlow
from ordering.saga import engine
from ordering.saga_bench import saga_meter
from ordering.services import conversation_decide, flow_confirm

# Reached on PostgreSQL (#15): 51 queries from confirm to placed, the audit sealer left out (see the
# test). Ordering's own tables take 21; consent 12 (the grants once per unit of work, in one query; every
# spend window in one aggregate); the audit log 6 (one INSERT per statement that followed events); the rest
# is transaction control.
# Before #15's consent work the same order cost 96 (consent 47: three grant reads per check, twelve sums
# per cap check); 57 before the confirmation became one UPDATE … RETURNING, risk one aggregate and the
# spend reservation lost its savepoint.
# Then (#17, rollout): the placed order's `order_placed` ExperimentEvent (the A/B report's row), one INSERT
# in the transaction that records the placement; and one indexed EXISTS (had the customer ordered before:
# first or repeat purchase, ordering_orders_placed_by_history_total): 54, ordering's tables 23.
# Then (#15, saga3): the move to placing is written in the UPDATE that claims the first merchant step, not
# in one of its own: 52 (measured), ordering's tables 22.
# Then (#15, sagacpu): a transaction's audit events are written as one INSERT before its next statement that
# reads the audit tables, savepoint boundary or commit, not before any next statement (the local unit's three
# events and the placement's two are one INSERT each: audit 6 -> 3); the first-or-repeat label comes from the
# risk step's aggregate when the same task ran it (no EXISTS): 48, ordering's tables 21. Then a merchant step's
# claim writes the finished step's outcome, the next step's row and its undo in one statement on PostgreSQL
# (`engine._steps_write`, a data-modifying WITH; the ORM path takes three), and the local steps' undo (the
# spend release) goes in with their rows, in the same transaction: 43, ordering's tables 16. Then the lease check
# that records a merchant step is part of that statement too (the other parts read its RETURNING, so a lost claim
# writes nothing; `engine._finish_write`): 40, ordering's tables 13.
# Then (#15, the twenty-eighth session's CPU pass): the placement's undo retired, its message and its A/B event in
# one statement (`outcomes._placed_records`: 3 -> 1), and the spend commit written by the statement that looks for
# a settlement (`ledger._insert_unless_settled`: 2 -> 1): 37. A statement is counted where the first table it reads
# or writes belongs (hand-written ones name their columns before it): ordering's tables 11, consent's 11. Then
# the flow's row written by the statement that writes the step rows (the move to placing) and by the placement's
# (`flow_transition(write=…)`: 2 UPDATEs fewer), and the two merchant steps recorded with the next one's claim by
# that one statement alone, which commits by itself (no BEGIN/COMMIT round trips around it; still 5 commits): 31,
# ordering's tables 9.
PLACED_ORDER_QUERIES = 31
PLACED_ORDER_ORDERING_QUERIES = 9
PLACED_ORDER_CONSENT_QUERIES = 11
PLACED_ORDER_AUDIT_QUERIES = 3
PLACED_ORDER_COMMITS = 5
PLACED_ORDER_HOPS = 1
# The customer's confirm request (`conversation_decide`): 7 (was 13, then 8): the flow confirmed by
# conversation, customer and hash in one UPDATE … RETURNING (which locks and reads it), the grants with the
# profile, the spend sums, its audit event, the confirmation message, in one transaction with no savepoint.
# flow_confirm alone takes 6. The whole HTTP request adds the signed-in user's row (the session comes from
# Redis in production) and reads nothing back: 8.
CONFIRM_REQUEST_QUERIES = 7
CONFIRM_HTTP_REQUEST_QUERIES = 8
FLOW_CONFIRM_QUERIES = 6
# (all queries, ordering's own) per unit, each run by itself (so each ends with a hand-over to the queue)
# Each unit here is a task of its own, so the placement asks for the first-or-repeat label itself (the EXISTS).
UNIT_QUERIES = {
    # -2 (#15): the three audit events in one INSERT; the spend release's undo with the step rows.
    "local": (12, 5),
    # -1 (#15): the lease check and the step's outcome in one statement; -1: the flow's row written with its claim.
    "verify_price": (8, 4),
    # -2 (#15): the step's row and its undo in one INSERT … WITH; the lease check and the outcome in one; -1: the
    # flow's row written with its claim.
    "mint_token": (9, 4),
    # +2 (#17): the placed order's `order_placed` ExperimentEvent, in the transaction recording the placement,
    # and the first-or-repeat purchase EXISTS; -1 (#15): its two audit events in one INSERT; -1: the step's row
    # and its undo in one statement; -1: the lease check and the previous step's outcome in one; -3 (#15, the
    # twenty-eighth session): the undo retired, the message and the A/B event in one statement, the spend commit
    # with the read of its settlement; -2: the flow's row written with its claim, and with the placement's records.
    "complete_checkout": (17, 6),
}


@pytest.fixture
def shop(transactional_db, fake_shop):
    """Our database's work is the subject, not the merchant: the fake merchant, with real commits to count."""
    return fake_shop


@pytest.fixture(autouse=True)
def _rollout_settings_cached(settings):
    """The rollout settings (the kill switch a confirmation checks) are this process' copy, read at most every
    ORDERING_ROLLOUT_CACHE_SECONDS, not per request: kept for the test, so a slow machine counts no re-read."""
    from ordering.rollout.assignment import rollout_settings_forget

    settings.ORDERING_ROLLOUT_CACHE_SECONDS = 3600
    rollout_settings_forget()
    yield
    rollout_settings_forget()


@pytest.mark.postgres
@pytest.mark.usefixtures("eager_tasks")
def test_one_placed_order_stays_within_its_query_commit_and_hop_budget(shop, settings):
    # The audit sealer is not part of placing an order: it seals the events of every order in batches
    # (docs/audit.md), and eager tasks would run it here once per commit that wrote events (7 queries
    # and a commit each), counting the chain's upkeep as this order's cost.
    settings.AUDIT_SEAL_ON_COMMIT = False
    flow = shop.start_flow()

    with saga_meter() as meter:
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED
    print(f"placed order: {meter.query_count} queries {meter.by_area()}, {meter.commits} commits, {meter.hops} hops")
    assert meter.query_count <= PLACED_ORDER_QUERIES, "\n".join(meter.queries)
    assert meter.by_area().get("ordering", 0) <= PLACED_ORDER_ORDERING_QUERIES, "\n".join(meter.queries)
    assert meter.by_area().get("consent", 0) <= PLACED_ORDER_CONSENT_QUERIES, "\n".join(meter.queries)
    assert meter.by_area().get("audit", 0) <= PLACED_ORDER_AUDIT_QUERIES, "\n".join(meter.queries)
    assert meter.commits <= PLACED_ORDER_COMMITS
    assert meter.hops <= PLACED_ORDER_HOPS


@pytest.mark.postgres
def test_each_saga_unit_stays_within_its_query_budget(shop):
    # given a confirmed flow whose task has not run (no eager tasks: each unit is run here by hand)
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)
    spent = {}

    for unit in ("local", "verify_price", "mint_token", "complete_checkout"):
        with saga_meter() as meter:
            engine.flow_run_next_step(flow_id=flow.pk)
        spent[unit] = (meter.query_count, meter.by_area().get("ordering", 0))

    print(f"queries per unit: {spent}")
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.PLACED
    assert FlowStep.objects.filter(flow=flow, status="succeeded").count() == 6
    for unit, (budget, own_budget) in UNIT_QUERIES.items():
        queries, own = spent[unit]
        assert queries <= budget, f"{unit}: {queries} queries > {budget}"
        assert own <= own_budget, f"{unit}: {own} queries on ordering's tables > {own_budget}"


@pytest.mark.postgres
def test_the_local_steps_take_one_commit_and_the_flow_lock_once(shop):
    flow = shop.start_flow()
    flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    with saga_meter() as meter:
        engine.flow_run_next_step(flow_id=flow.pk)

    locks = [sql for sql in meter.queries if "FOR UPDATE" in sql and '"ordering_orderflow"' in sql.split("FROM")[1]]
    assert meter.commits == 1
    assert len(locks) == 1
    steps = list(FlowStep.objects.filter(flow=flow).values_list("name", "status"))
    assert steps == [
        ("check_consent", "succeeded"),
        ("reserve_spend", "succeeded"),
        ("score_risk", "succeeded"),
    ]


@pytest.mark.postgres
def test_the_confirm_request_stays_within_its_query_budget(shop, settings):
    settings.AUDIT_SEAL_ON_COMMIT = False  # the sealer's batch is not this request's (see above)
    flow = shop.start_flow()

    with saga_meter() as meter:
        conversation_decide(
            conversation_id=flow.conversation_id,
            customer_id=shop.alice.pk,
            preview_hash=flow.preview_hash,
            decision="confirm",
        )

    print(f"confirm request: {meter.query_count} queries {meter.by_area()}, {meter.commits} commits")
    assert OrderFlow.objects.get(pk=flow.pk).status == FlowStatus.CONFIRMED
    assert meter.query_count <= CONFIRM_REQUEST_QUERIES, "\n".join(meter.queries)
    assert meter.commits == 1


@pytest.mark.postgres
def test_flow_confirm_checks_grants_and_every_cap_in_two_queries(shop, settings):
    settings.AUDIT_SEAL_ON_COMMIT = False
    flow = shop.start_flow()

    with saga_meter() as meter:
        flow_confirm(flow_id=flow.pk, customer_id=shop.alice.pk, preview_hash=flow.preview_hash)

    consent = [sql for sql in meter.queries if '"consent_' in sql]
    assert len(consent) == 2, "\n".join(consent)
    assert meter.query_count <= FLOW_CONFIRM_QUERIES, "\n".join(meter.queries)


@pytest.mark.postgres
def test_the_confirm_buttons_http_request_stays_within_its_query_budget_and_reads_nothing_back(shop, settings):
    # production's session engine: the signed-in session is read from Redis, not from the database
    settings.SESSION_ENGINE = "config.sessions"
    settings.AUDIT_SEAL_ON_COMMIT = False
    flow = shop.start_flow()
    client = APIClient()
    client.force_login(shop.alice)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"/api/v1/conversations/{flow.conversation_id}/confirm/",
            {"preview_hash": flow.preview_hash, "decision": "confirm"},
            format="json",
        )

    print(f"confirm HTTP request: {len(queries)} queries")
    assert response.status_code == 202, response.content
    assert len(queries) <= CONFIRM_HTTP_REQUEST_QUERIES, "\n".join(query["sql"] for query in queries)
    # the answer is the flow as stored by the confirmation (no worker ran: eager tasks are off here)
    stored = OrderFlow.objects.get(pk=flow.pk)
    body = response.json()
    assert stored.status == FlowStatus.CONFIRMED and stored.confirmations == 1
    assert body["status"] == "confirmed" and body["steps"] == []
    assert body["confirmed_preview_hash"] == stored.confirmed_hash == flow.preview_hash
    assert datetime.fromisoformat(body["updated_at"].replace("Z", "+00:00")) == stored.updated_at
    assert body["total"] == stored.total_amount and body["confirmed_via"] == "button"
