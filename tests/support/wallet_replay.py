"""A demo customer's wallet for the evaluation runner's fresh users: `consent.demo.demo_wallet_give` through the
real services once per process and demo customer, then the same rows written again for each later user in a few
statements (`demo_wallet_replaying`).

Why: the corpus gate (tests/evaluation/test_conversation_tasks.py) prepares a fresh user for each of its 185 tasks
(ordering.evaluation.tasks.customer_prepare), and giving alice's wallet is ~70 statements (a lock, a read and an
audit event per grant, card and address): ~25 ms of CPU a task, a sixth of the gate's time outside its turns.
What it writes for a user who has no wallet yet is the same every time, up to ids, the user and timestamps.

How: as tests/support/seed_replay.py does for the `shop` fixture's seed, for one user's rows. The first call for a
demo customer (and the extra addresses it is given) runs the real `demo_wallet_give` and keeps what it wrote: the
user's rows in the wallet tables and the audit events it appended for them. Each later call writes the same rows
for its user, in one INSERT per table (fresh ids from the tables' sequences, timestamps moved forward by the
snapshot's age, `auto_now` ones set by the fields), and appends the same events through `audit_record_many`, the
audit log's own door (targets pointed at the new rows; new numbers, the current transaction and trace id). The real
services run instead on anything but PostgreSQL, while time-machine moves the clock, when the user already has a
wallet row, and when the first call wrote something this module cannot write again. The wallet's services have no
other effects for a new user (no hooks, no notices for the system actor, no cache). tests/evaluation/
test_wallet_replay.py compares the replay with the services, table by table and event by event.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction

from audit.models import AuditEvent
from audit.services import Origin, audit_flush, audit_record_many
from consent import demo
from consent.models import Address, ConsentGrant, ConsentProfile, MerchantAccount, PaymentMethod
from tests.support.seed_replay import holds_a_number

# Every table `demo_wallet_give` writes to besides the audit log; each row points at the user and at nothing else.
WALLET_MODELS: tuple[type[models.Model], ...] = (ConsentProfile, MerchantAccount, ConsentGrant, PaymentMethod, Address)
_EVENT_FIELDS = ("action", "actor_type", "actor_id", "target_type", "target_id", "outcome", "data", "policy_version")
_ORIGIN_FIELDS = ("origin_ip", "origin_user_agent", "origin_channel")


@dataclass(frozen=True)
class _Wallet:
    taken_at: datetime.datetime
    rows: tuple[tuple[type[models.Model], tuple[dict[str, Any], ...]], ...]  # per model, by id, without id and user
    events: tuple[tuple[dict[str, Any], type[models.Model] | None, int | None], ...]  # event, its target's row


class _NotReplayable(Exception):
    pass


_wallets: dict[tuple, _Wallet | None] = {}
_real_give = demo.demo_wallet_give


def demo_wallet_replaying(*, user_id: int, spec: dict, extra_addresses: tuple[dict, ...] = ()) -> None:
    """What `demo_wallet_give` writes for a user without a wallet, from the first call's rows after that one."""
    if connection.vendor != "postgresql" or _travelling() or _has_a_wallet(user_id):
        _real_give(user_id=user_id, spec=spec, extra_addresses=extra_addresses)
        return
    key = (
        connection.settings_dict["NAME"],
        settings.CONSENT_CURRENCY,
        json.dumps([spec, list(extra_addresses)], sort_keys=True, default=str),
    )
    if key not in _wallets:
        _wallets[key] = _give_and_take(user_id=user_id, spec=spec, extra_addresses=extra_addresses)
        return
    wallet = _wallets[key]
    if wallet is None:
        _real_give(user_id=user_id, spec=spec, extra_addresses=extra_addresses)
        return
    _replay(wallet, user_id=user_id)


def _travelling() -> bool:
    from time_machine import escape_hatch

    return escape_hatch.is_travelling()


def _has_a_wallet(user_id: int) -> bool:
    probe = " OR ".join(
        f"EXISTS (SELECT 1 FROM {connection.ops.quote_name(model._meta.db_table)} WHERE user_id = %s)"
        for model in WALLET_MODELS
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {probe}", [user_id] * len(WALLET_MODELS))
        return bool(cursor.fetchone()[0])


def _give_and_take(*, user_id: int, spec: dict, extra_addresses: tuple[dict, ...]) -> _Wallet | None:
    audit_flush()
    events_before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    _real_give(user_id=user_id, spec=spec, extra_addresses=extra_addresses)
    audit_flush()
    taken_at = datetime.datetime.now(tz=datetime.UTC)
    try:
        return _take(user_id=user_id, events_before=events_before, taken_at=taken_at)
    except _NotReplayable:
        return None  # the real services run each time


def _take(*, user_id: int, events_before: int, taken_at: datetime.datetime) -> _Wallet:
    rows = []
    ids: dict[tuple[str, str], tuple[type[models.Model], int]] = {}  # (target_type, id) -> (model, index)
    for model in WALLET_MODELS:
        names = [field.attname for field in model._meta.concrete_fields if field.attname not in ("id", "user_id")]
        taken = list(model.objects.filter(user_id=user_id).order_by("pk").values("id", *names))
        for index, row in enumerate(taken):
            ids[(model._meta.label_lower, str(row.pop("id")))] = (model, index)
        rows.append((model, tuple(taken)))
    events = []
    recorded = AuditEvent.objects.filter(id__gt=events_before).order_by("sequence")
    for event in recorded.values("customer_id", *_EVENT_FIELDS, *_ORIGIN_FIELDS):
        if event.pop("customer_id") != user_id or (event["actor_id"] and event["actor_type"] != "system"):
            raise _NotReplayable(f"the audit event {event['action']} is not the system's, about this user")
        if holds_a_number(event["data"]):
            raise _NotReplayable(f"the audit event {event['action']} holds a number (a row's id?)")
        target = ids.get((event["target_type"], str(event["target_id"])))
        if target is None and event["target_type"]:
            raise _NotReplayable(f"the audit event {event['action']} is about a row the wallet did not write")
        event["origin"] = Origin(
            ip=event.pop("origin_ip"), user_agent=event.pop("origin_user_agent"), channel=event.pop("origin_channel")
        )
        events.append((event, *(target or (None, None))))
    return _Wallet(taken_at=taken_at, rows=tuple(rows), events=tuple(events))


def _replay(wallet: _Wallet, *, user_id: int) -> None:
    age = datetime.datetime.now(tz=datetime.UTC) - wallet.taken_at
    written: dict[type[models.Model], list[models.Model]] = {}
    with transaction.atomic():
        for model, rows in wallet.rows:
            moved = {field.attname for field in model._meta.concrete_fields if isinstance(field, models.DateTimeField)}
            objects = [
                model(
                    user_id=user_id,
                    **{
                        name: value + age if name in moved and value is not None else value
                        for name, value in row.items()
                    },
                )
                for row in rows
            ]
            written[model] = model.objects.bulk_create(objects) if objects else []
        audit_record_many(
            [
                {
                    **{name: value for name, value in event.items() if name != "origin"},
                    "customer_id": user_id,
                    "target_id": written[model][index].pk if model is not None else event["target_id"],
                    "origin": event["origin"] if event["origin"] != Origin() else None,
                }
                for event, model, index in wallet.events
            ]
        )
