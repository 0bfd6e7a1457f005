"""Conversations, the agent, order flows: Celery tasks.

Thin, id-based and safe to run twice: each loads the flow and calls one saga function, which claims
the step under a lock and a lease, so a redelivered or duplicated task finds nothing to do.
"""

from celery import shared_task

from ordering import holds, order_events, services, sessions
from ordering.saga import engine, sweeper, undo
from ordering.turn_wait import turn_ended_notify

# acks_late + reject_on_worker_lost: a task whose worker dies is delivered again, not lost; the
# saga's claim makes the second delivery harmless.
_RELIABLE = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="ordering.flow_advance", **_RELIABLE)
def flow_advance(flow_id: str) -> str:
    # Runs the flow on as long as its next step is ready (bounded per task), not one step per delivery.
    return engine.flow_run(flow_id=flow_id)


@shared_task(name="ordering.flow_compensate", **_RELIABLE)
def flow_compensate(flow_id: str) -> str:
    return undo.flow_compensate_run(flow_id=flow_id)


@shared_task(name="ordering.flows_sweep", **_RELIABLE)
def flows_sweep() -> dict:
    return sweeper.flows_sweep()


# Carts and previews whose conversation went quiet give their stock back to the shop early (ordering/holds.py).
@shared_task(name="ordering.holds_release_idle", **_RELIABLE)
def holds_release_idle() -> dict:
    return holds.holds_release_idle()


# Conversations quiet for ORDERING_SESSION_IDLE_SECONDS are counted as ended sessions (ordering/sessions.py).
@shared_task(name="ordering.sessions_end_idle", **_RELIABLE)
def sessions_end_idle() -> dict:
    return sessions.sessions_end_idle()


@shared_task(name="ordering.flows_halt_for_customer", **_RELIABLE)
def flows_halt_for_customer(customer_id: int, reason: str) -> list[str]:
    return services.flows_halt_for_customer(customer_id=customer_id, reason=reason)


@shared_task(name="ordering.merchant_order_event_apply", **_RELIABLE)
def merchant_order_event_apply(event_id: int) -> str:
    return order_events.merchant_order_event_apply(event_id=event_id)


@shared_task(name="ordering.merchant_order_events_sweep", **_RELIABLE)
def merchant_order_events_sweep() -> dict:
    return order_events.merchant_order_events_sweep()


# A redelivered or duplicated task finds the turn no longer queued and does nothing: a turn half run by a
# worker that died is never run again from the start (it may have changed the cart); the sweep fails it
# with an apology. A task lost before it started is enqueued again by the sweep (`turns_sweep`).
@shared_task(name="ordering.turn_run", **_RELIABLE)
def turn_run(turn_id: int) -> str:
    status = services.turn_execute(turn_id=turn_id)
    if status in ("done", "failed"):
        turn_ended_notify(turn_id=turn_id)  # its end is committed: wake the long-polls of its url (turn_wait.py)
    return status


@shared_task(name="ordering.turns_sweep", **_RELIABLE)
def turns_sweep() -> dict:
    return services.turns_sweep()
