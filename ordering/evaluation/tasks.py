"""Multi-turn evaluation: whole shopping conversations run end to end, judged by what the shop ends up with.

Each task of `corpus/tasks.yaml` is one customer (alice or bob) talking to the assistant through the
real conversation JSON API (DRF's test client, signed in as a fresh user linked to the merchant
customer), with the sandbox merchant answering over real HTTP (a live server thread serving this
site) and the placement saga run eagerly (Celery `task_always_eager`). After the last turn the runner
reads the end state *at the merchant* through the merchant contract (the checkout sessions of the
task's flows, the orders they became) and compares it with the task's `expect`.

What the runner needs of the shop beyond the contract (put the demo shop back before each task, set a
task's stock, the card an order charged) it asks of a `ShopControl` it is handed
(ordering/evaluation/sandbox_control.py): the sandbox's control API over HTTP by default, as `make eval`
runs it. The test suite's corpus gate hands it the in-memory fake merchant's instead
(tests/support/fake_merchant.py, registered as the merchant), which answers as the sandbox without a
live server; the runner does the same thing either way.

The task format (see `corpus/tasks.yaml` for ~100 examples):

    - id: correction-size-43
      category: correction
      customer: alice                      # alice | bob (the demo customers)
      setup:                               # optional, applied before the first turn
        caps: {per_order: 10000}           #   spend caps in minor units (consent.services.grants.spend_caps_set)
        auto_checkout: 5000                #   orders under this skip the confirm step
        revoke: [place_orders]             #   grants revoked before the conversation
        stock: {var_blue_runner_42: 2}     #   units on hand at the sandbox
      turns:
        - "I want the blue runners in 42"  # a customer message
        - "actually size 43"
        - {say: "ok do it", confirms: true}  # a message, marked as an explicit confirmation
        - {click: confirm}                 # the latest preview card's Confirm (or decline) button
        - {click: confirm, preview: 1}     # ... on the first preview card of the conversation (stale?)
        - {new_conversation: true}         # later turns go to a new conversation of the same customer
      expect:
        order:                             # exactly one order at the merchant, with exactly:
          lines: [{variant_id: var_blue_runner_43, quantity: 1}]
          codes: []                        #   the discount codes the merchant applied (default none)
          card_last4: "4242"               #   default: the customer's default card
          address_label: Home              #   default: the customer's default address
          shipping: standard               #   standard | express (default standard)
          canceled: false                  #   true: the customer had it canceled later in the task
        # or: `order: none` and the last reply's class (one or a list), see `reply_class`
        reply: question
        reply_mentions: ["2"]              # words the last assistant reply must contain (whole, any case)
        mentions: ["FAKE99"]               # words some assistant message of the task must contain

Counted per task: success (everything in `expect` holds), WRONG ORDER (an order placed in the task
that differs from `expect.order`, more than one, or any when `order: none`; an order canceled later
still counts: it was charged), UNCONFIRMED CHARGE (an order whose
placement was not preceded, in the same step, by an explicit confirmation: a Confirm click, a
message the corpus marks as a confirmation, or an auto-checkout set up by the task with a total under
it), clarifications (assistant questions), turns, and LLM calls (the `ordering_llm_calls_total`
counter before/after; 0 offline).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from ordering.evaluation.corpus_files import corpus_yaml_load

if TYPE_CHECKING:
    from ordering.evaluation.sandbox_control import ShopControl

logger = logging.getLogger(__name__)

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
TASKS_PATH = CORPUS_DIR / "tasks.yaml"

MERCHANT_ID = "sandbox"
CUSTOMERS = ("alice", "bob")

# The class of an assistant message, from its `kind` (the API's `message.kind`, see
# docs/conversation-api.md). A task's `reply` names the class(es) its last assistant/system message may have.
#   question  the assistant asks: a clarification ("which size?"), a quantity it cannot sell ("only 2
#             left, how many?"), words it did not understand, or no match with the closest ones offered
#   preview   the order preview waiting for a yes or no (also shown again as a reminder)
#   placed    the order was confirmed or placed (flow_confirmed, flow_placed)
#   handover  a person takes over (handed_over, specialist_has_it, flow_escalated, flow_requires_action)
#   refusal   the assistant refuses and says why: a preview that cannot be placed (a cap, a revoked
#             grant: preview_blocked), a failed placement (flow_failed), or a message of kind "refusal"
#   info      anything else: an answer, search results, a status, help, out-of-scope, a greeting, a
#             declined or canceled cart, and any message without a kind
REPLY_CLASSES = ("question", "preview", "placed", "handover", "refusal", "info")
KIND_CLASSES: dict[str, str] = {
    "question": "question",
    "clarification": "question",
    "not_understood": "question",
    "not_found": "question",
    "preview": "preview",
    "preview_reminder": "preview",
    "flow_confirmed": "placed",
    "flow_placed": "placed",
    "handed_over": "handover",
    "specialist_has_it": "handover",
    "flow_escalated": "handover",
    "flow_requires_action": "handover",
    "refusal": "refusal",
    "preview_blocked": "refusal",
    "flow_failed": "refusal",
}

# Messages that are explicit confirmations as typed (lower-cased, trailing punctuation and spaces
# dropped). Anything else counts as a confirmation only when the corpus marks it (`confirms: true`):
# the corpus, not the system under test, says what the customer meant.
CONFIRMATION_PHRASES = frozenset(
    {
        "yes", "yes please", "yes place it", "yes place the order", "yes, place it", "yes, place the order",
        "yep", "yeah", "yup", "y", "confirm", "confirmed", "i confirm", "place it", "place the order",
        "place my order", "go ahead", "yes go ahead", "do it", "ok do it", "order it", "buy it", "sure",
        "ok place it", "okay place it", "ok place the order", "ok, place the order", "ok, place it",
        "yes confirm", "confirm the order", "confirm order",
        "yes, go ahead", "sounds good, place it", "perfect, place it",
    }
)  # fmt: skip

# Addresses a task's customer has beyond the demo seed's (consent/demo.py, which gives alice her Home and Work, as the
# shop knows them): none today; kept so that a corpus may add one without changing the seed.
EXTRA_ADDRESSES: dict[str, list[dict[str, str]]] = {}

# The merchant client as the flow tests configure it: short timeouts and backoff, no rate limit.
QUICK_MERCHANT = {
    "CONNECT_TIMEOUT": 2.0,
    "READ_TIMEOUT": 10.0,
    "MAX_ATTEMPTS": 3,
    "BACKOFF_BASE": 0.01,
    "BACKOFF_CAP": 0.02,
    "RETRY_AFTER_CAP": 1.0,
    "BREAKER_THRESHOLD": 50,
    "RATE_LIMIT": 0.0,
}

TURN_WAIT_SECONDS = 60


class CorpusError(ValueError):
    """The corpus file does not fit the task format; the message names the task and the field."""


# -- the corpus -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing the customer does: say something, click a preview button, or open a new conversation."""

    say: str | None = None
    click: str | None = None  # "confirm" | "decline"
    confirms: bool = False  # an explicit confirmation (Confirm click, or a message the corpus marks so)
    new_conversation: bool = False
    # Which preview card of the conversation the click is on: 1 = the first shown, -1 = the latest.
    preview: int = -1

    def describe(self) -> str:
        if self.click:
            return f"[click {self.click}]"
        if self.new_conversation:
            return "[new conversation]"
        return self.say or ""


@dataclass(frozen=True)
class ExpectedOrder:
    lines: tuple[tuple[str, int], ...]
    codes: tuple[str, ...] = ()
    card_last4: str | None = None  # None: the customer's default card
    address_label: str | None = None  # None: the customer's default address
    shipping: str = "standard"
    canceled: bool = False  # the order ends canceled (or refunded) at the merchant


@dataclass(frozen=True)
class Expectation:
    order: ExpectedOrder | None  # None: no order placed at the merchant in the task
    reply: tuple[str, ...] = ()  # accepted classes of the last reply; empty: not checked
    reply_mentions: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    id: str
    category: str
    customer: str
    steps: tuple[Step, ...]
    expect: Expectation
    setup: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def turns(self) -> int:
        return sum(1 for step in self.steps if not step.new_conversation)


def _normalized(text: str) -> str:
    return re.sub(r"[\s.!]+$", "", " ".join(text.lower().split()))


def _step_from(raw: Any, where: str) -> Step:
    if isinstance(raw, str):
        return Step(say=raw, confirms=_normalized(raw) in CONFIRMATION_PHRASES)
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: a turn is a message (string) or a mapping (say/click/new_conversation).")
    unknown = set(raw) - {"say", "confirms", "click", "preview", "new_conversation"}
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}.")
    if "click" in raw:
        if raw["click"] not in ("confirm", "decline"):
            raise CorpusError(f"{where}: click is 'confirm' or 'decline', not {raw['click']!r}.")
        preview = raw.get("preview", -1)
        if not isinstance(preview, int) or preview == 0:
            raise CorpusError(f"{where}: preview is the card's position, 1 for the first, -1 for the latest.")
        return Step(click=raw["click"], confirms=raw["click"] == "confirm", preview=preview)
    if raw.get("new_conversation"):
        return Step(new_conversation=True)
    text = raw.get("say")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(f"{where}: 'say' needs the message text.")
    confirms = raw.get("confirms")
    return Step(say=text, confirms=_normalized(text) in CONFIRMATION_PHRASES if confirms is None else bool(confirms))


def _words(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, (str, int)):
        return (str(raw),)
    if isinstance(raw, list) and all(isinstance(item, (str, int)) for item in raw):
        return tuple(str(item) for item in raw)
    raise CorpusError(f"{where}: a word or a list of words.")


def _expectation_from(raw: Any, where: str) -> Expectation:
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: expect is a mapping with 'order'.")
    unknown = set(raw) - {"order", "reply", "reply_mentions", "mentions"}
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}.")
    if "order" not in raw:
        raise CorpusError(f"{where}: say which order the shop should end with ('order: none' for none).")
    order_raw = raw["order"]
    order = None
    if order_raw not in (None, "none"):
        if not isinstance(order_raw, dict) or not order_raw.get("lines"):
            raise CorpusError(f"{where}.order: 'none' or a mapping with lines.")
        unknown = set(order_raw) - {"lines", "codes", "card_last4", "address_label", "shipping", "canceled"}
        if unknown:
            raise CorpusError(f"{where}.order: unknown keys {sorted(unknown)}.")
        lines = []
        for line in order_raw["lines"]:
            if not isinstance(line, dict) or not isinstance(line.get("variant_id"), str):
                raise CorpusError(f"{where}.order.lines: each line has a variant_id and a quantity.")
            quantity = line.get("quantity", 1)
            if not isinstance(quantity, int) or quantity < 1:
                raise CorpusError(f"{where}.order.lines: quantity {quantity!r} is not a positive whole number.")
            lines.append((line["variant_id"], quantity))
        shipping = order_raw.get("shipping", "standard")
        if shipping not in ("standard", "express"):
            raise CorpusError(f"{where}.order.shipping: standard or express.")
        card = order_raw.get("card_last4")
        order = ExpectedOrder(
            lines=tuple(sorted(lines)),
            codes=tuple(sorted(code.upper() for code in _words(order_raw.get("codes"), f"{where}.order.codes"))),
            card_last4=str(card) if card is not None else None,
            address_label=order_raw.get("address_label"),
            shipping=shipping,
            canceled=bool(order_raw.get("canceled", False)),
        )
    reply = _words(raw.get("reply"), f"{where}.reply")
    for name in reply:
        if name not in REPLY_CLASSES:
            raise CorpusError(f"{where}.reply: {name!r} is not one of {', '.join(REPLY_CLASSES)}.")
    if order is None and not reply:
        raise CorpusError(f"{where}: with 'order: none', say what the last reply must be ('reply').")
    return Expectation(
        order=order,
        reply=reply,
        reply_mentions=_words(raw.get("reply_mentions"), f"{where}.reply_mentions"),
        mentions=_words(raw.get("mentions"), f"{where}.mentions"),
    )


SETUP_KEYS = {"caps", "auto_checkout", "revoke", "stock"}


def task_from_dict(raw: Any, index: int = 0) -> Task:
    where = f"task #{index + 1}"
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: a task is a mapping.")
    task_id = raw.get("id")
    if not isinstance(task_id, str) or not task_id:
        raise CorpusError(f"{where}: needs an id.")
    where = f"task {task_id!r}"
    unknown = set(raw) - {"id", "category", "customer", "setup", "turns", "expect", "note"}
    if unknown:
        raise CorpusError(f"{where}: unknown keys {sorted(unknown)}.")
    customer = raw.get("customer", "alice")
    if customer not in CUSTOMERS:
        raise CorpusError(f"{where}: customer is one of {', '.join(CUSTOMERS)}.")
    if not isinstance(raw.get("category"), str):
        raise CorpusError(f"{where}: needs a category.")
    setup = raw.get("setup") or {}
    if not isinstance(setup, dict) or set(setup) - SETUP_KEYS:
        raise CorpusError(f"{where}.setup: a mapping of {', '.join(sorted(SETUP_KEYS))}.")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise CorpusError(f"{where}: needs turns.")
    steps = tuple(_step_from(turn, f"{where}.turns[{position}]") for position, turn in enumerate(turns))
    return Task(
        id=task_id,
        category=raw["category"],
        customer=customer,
        steps=steps,
        expect=_expectation_from(raw.get("expect"), f"{where}.expect"),
        setup=setup,
        note=str(raw.get("note", "")),
    )


def tasks_load(
    path: Path = TASKS_PATH, *, categories: list[str] | None = None, task_ids: list[str] | None = None
) -> list[Task]:
    """The corpus' tasks, optionally only some categories or ids (an unknown one is an error)."""
    stat = path.stat()
    tasks = list(_tasks_of_file(path.resolve(), stat.st_mtime_ns, stat.st_size))
    seen = {task.id for task in tasks}
    if categories:
        known = {task.category for task in tasks}
        missing = sorted(set(categories) - known)
        if missing:
            raise CorpusError(f"no category {', '.join(missing)}; known: {', '.join(sorted(known))}.")
        tasks = [task for task in tasks if task.category in categories]
    if task_ids:
        missing = sorted(set(task_ids) - seen)
        if missing:
            raise CorpusError(f"no task {', '.join(missing)}.")
        tasks = [task for task in tasks if task.id in task_ids]
    return tasks


@functools.lru_cache(maxsize=8)
def _tasks_of_file(path: Path, _modified_ns: int, _size: int) -> tuple[Task, ...]:
    """The tasks of one version of a corpus file (its path, modification time and size), read and checked once
    per process: the test suite reads the corpus as it collects the gate's chunks and again in each chunk."""
    raw = corpus_yaml_load(path.read_text(encoding="utf-8"))
    entries = raw.get("tasks") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise CorpusError(f"{path}: expected a list of tasks (or a mapping with 'tasks').")
    tasks = tuple(task_from_dict(entry, index) for index, entry in enumerate(entries))
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise CorpusError(f"task id {task.id!r} appears twice.")
        seen.add(task.id)
    return tasks


# -- the outcome of one task ---------------------------------------------------------------------------


@dataclass
class PlacedOrder:
    """One order at the merchant that a flow of the task led to, read back through the merchant contract."""

    order_id: str
    status: str
    lines: tuple[tuple[str, int], ...]
    codes: tuple[str, ...]
    card_last4: str | None
    address_label: str | None
    shipping: str | None
    total: int | None
    flow_id: str
    confirmed_via: str
    confirmed_at: datetime | None

    @property
    def live(self) -> bool:
        return self.status not in ("canceled", "refunded")

    def describe(self) -> str:
        lines = ", ".join(f"{quantity}x {variant}" for variant, quantity in self.lines)
        codes = f" codes {','.join(self.codes)}" if self.codes else ""
        return (
            f"{self.order_id} [{self.status}] {lines}{codes} card {self.card_last4} to {self.address_label} "
            f"{self.shipping} via {self.confirmed_via or '?'}"
        )


@dataclass
class TaskOutcome:
    task_id: str
    category: str
    success: bool = False
    wrong_order: bool = False
    unconfirmed_charge: bool = False
    clarifications: int = 0
    turns: int = 0
    llm_calls: int = 0
    seconds: float = 0.0
    last_reply_class: str = ""
    failures: list[str] = field(default_factory=list)
    orders: list[PlacedOrder] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task_id,
            "category": self.category,
            "success": self.success,
            "wrong_order": self.wrong_order,
            "unconfirmed_charge": self.unconfirmed_charge,
            "clarifications": self.clarifications,
            "turns": self.turns,
            "llm_calls": self.llm_calls,
            "seconds": round(self.seconds, 2),
            "last_reply_class": self.last_reply_class,
            "failures": self.failures,
            "orders": [order.describe() for order in self.orders],
            "transcript": self.transcript,
            "error": self.error,
        }


def reply_class(kind: str) -> str:
    return KIND_CLASSES.get(kind or "", "info")


def mentions(text: str, word: str) -> bool:
    """`word` appears in `text` as a whole (case-insensitive): "4" is in "only 4 left", not in "43" or "$72.54"."""
    return re.search(rf"(?<![\w.]){re.escape(word)}(?![\w])", text, re.IGNORECASE) is not None


# -- the environment: a merchant on a live socket, eager tasks --------------------------------------------


@contextlib.contextmanager
def eager_environment() -> Iterator[None]:
    """Run Celery tasks eagerly, and a failed saga step's retry at once; put back on exit. What every task
    run needs, whichever shop answers (`evaluation_environment` adds the sandbox over HTTP)."""
    from config.celery import app as celery_app

    missing = object()
    saved_retry = getattr(settings, "ORDERING_STEP_RETRY_BASE_SECONDS", missing)
    eager = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    settings.ORDERING_STEP_RETRY_BASE_SECONDS = 0
    celery_app.conf.task_always_eager = True
    # A task's failure stays in its result, as in a worker (the merchant's webhook retries included).
    celery_app.conf.task_eager_propagates = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = eager
        if saved_retry is missing:
            delattr(settings, "ORDERING_STEP_RETRY_BASE_SECONDS")
        else:
            settings.ORDERING_STEP_RETRY_BASE_SECONDS = saved_retry


@contextlib.contextmanager
def evaluation_environment(*, server_url: str, merchant_url: str | None = None) -> Iterator[None]:
    """Point the sandbox merchant at `merchant_url` (default: `server_url`/sandbox-merchant, the sandbox
    served in-process by a live server of this site) and its webhooks at `server_url`, and run Celery
    tasks eagerly (`eager_environment`); everything is put back on exit."""
    from catalog_adapters.registry import get_merchant, reset_merchants

    names = ("MERCHANTS", "SANDBOX_MERCHANT_WEBHOOK_URL")
    missing = object()
    saved = {name: getattr(settings, name, missing) for name in names}
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        MERCHANT_ID: {
            **settings.MERCHANTS[MERCHANT_ID],
            **QUICK_MERCHANT,
            "BASE_URL": merchant_url or f"{server_url}/sandbox-merchant",
        },
    }
    settings.SANDBOX_MERCHANT_WEBHOOK_URL = f"{server_url}/webhooks/merchants/{MERCHANT_ID}/"
    reset_merchants()
    # The breaker and the rate limiter live in the shared cache; an earlier run's state must not leak in.
    merchant = get_merchant(MERCHANT_ID)
    merchant.http.breaker.reset()
    merchant.http.rate_limiter.reset()
    try:
        with eager_environment():
            yield
    finally:
        with contextlib.suppress(Exception):
            merchant = get_merchant(MERCHANT_ID)
            merchant.http.breaker.reset()
            merchant.http.rate_limiter.reset()
        for name, value in saved.items():
            if value is missing:
                delattr(settings, name)
            else:
                setattr(settings, name, value)
        reset_merchants()


def llm_calls_so_far() -> int:
    """The `ordering_llm_calls_total` counter of this process, all outcomes (0 when the LLM module is absent)."""
    try:
        from ordering.agent.llm import llm_calls
    except ImportError:
        return 0
    total = 0.0
    for metric in llm_calls.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                total += sample.value
    return int(total)


# -- one task ------------------------------------------------------------------------------------------


def customer_prepare(*, customer: str, setup: dict[str, Any], control: ShopControl) -> Any:
    """A fresh user who is `customer` at the shop: the demo grants, cards and addresses, then `setup`.

    The shop's customer (cus_alice, cus_bob) can be linked to one of our users at a time, so the link of
    an earlier task's user is removed first (test set-up only; no service unlinks an account).
    """
    from audit.models import ActorType
    from consent.demo import DEMO_CUSTOMERS, demo_wallet_give
    from consent.models import ConsentGrant, GrantChannel, MerchantAccount
    from consent.services.grants import auto_checkout_set, consent_revoke, spend_caps_set

    spec = DEMO_CUSTOMERS[customer]
    MerchantAccount.objects.filter(merchant_id=MERCHANT_ID, customer_ref=spec["customer_ref"]).delete()
    user = get_user_model().objects.create(
        username=f"eval-{customer}-{uuid.uuid4().hex[:10]}", email=spec["email"], first_name=spec["first_name"]
    )
    demo_wallet_give(user_id=user.pk, spec=spec, extra_addresses=tuple(EXTRA_ADDRESSES.get(customer, [])))

    if setup.get("caps"):
        spend_caps_set(user_id=user.pk, caps=dict(setup["caps"]), actor_type=ActorType.SYSTEM)
    if setup.get("auto_checkout"):
        auto_checkout_set(user_id=user.pk, threshold=int(setup["auto_checkout"]), actor_type=ActorType.SYSTEM)
    for scope in setup.get("revoke") or ():
        grant = ConsentGrant.objects.get(user_id=user.pk, scope=scope, status="active")
        consent_revoke(
            user_id=user.pk, grant_id=grant.pk, via=GrantChannel.SEED, actor_type=ActorType.SYSTEM, reason="evaluation"
        )
    if setup.get("stock"):
        from ordering.evaluation.sandbox_control import SandboxControlError

        try:
            control.set_stock({variant: int(units) for variant, units in setup["stock"].items()})
        except SandboxControlError as error:
            raise CorpusError(f"setup.stock: {error}") from None
    return user


@dataclass
class _StepWindow:
    step: Step
    started: datetime
    finished: datetime


class TaskRunner:
    """Runs tasks one after another against the merchant registered as "sandbox", whose controls are `control`
    (default: the sandbox's control API over HTTP, inside `evaluation_environment`)."""

    def __init__(self, *, control: ShopControl | None = None) -> None:
        from rest_framework.test import APIClient

        from ordering.evaluation.sandbox_control import SandboxControl

        # One client for the whole run: a client's handler loads the middleware on its first request, and
        # WhiteNoise's reads every static file's details as it starts (~8 ms, as much as a turn's request).
        self._client = APIClient()
        self._control = control if control is not None else SandboxControl(MERCHANT_ID)
        self._seeded = False

    # -- the conversation through the API --------------------------------------------------------------

    def _start(self, client: Any) -> str:
        response = client.post("/api/v1/conversations/", format="json")
        if response.status_code != 201:
            raise RuntimeError(f"starting a conversation answered {response.status_code}: {response.content[:300]!r}")
        return response.json()["id"]

    def _conversation(self, client: Any, conversation_id: str) -> dict:
        response = client.get(f"/api/v1/conversations/{conversation_id}/")
        if response.status_code != 200:
            raise RuntimeError(f"reading the conversation answered {response.status_code}")
        return response.json()

    def _wait_for_turn(self, conversation_id: str) -> None:
        """A turn may run as background work (the widget polls); wait until none of this conversation runs."""
        from ordering.models import ConversationTurn, TurnStatus

        deadline = time.monotonic() + TURN_WAIT_SECONDS
        waiting = (TurnStatus.QUEUED, TurnStatus.RUNNING)
        while ConversationTurn.objects.filter(conversation_id=conversation_id, status__in=waiting).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"a turn was still running after {TURN_WAIT_SECONDS}s")
            time.sleep(0.05)

    def _preview_hash(self, client: Any, conversation_id: str, position: int) -> str:
        """The hash on a preview card of the transcript (1 = the first, -1 = the latest): what its button sends."""
        hashes = [
            message["preview"]["preview_hash"]
            for message in self._conversation(client, conversation_id)["messages"]
            if message.get("kind") == "preview" and (message.get("preview") or {}).get("preview_hash")
        ]
        index = position - 1 if position > 0 else position
        return hashes[index] if -len(hashes) <= index < len(hashes) else ""

    def _do(self, client: Any, conversation_id: str, step: Step, outcome: TaskOutcome) -> None:
        if step.say is not None:
            response = client.post(
                f"/api/v1/conversations/{conversation_id}/messages/",
                {"text": step.say},
                format="json",
                headers={"Idempotency-Key": f"eval-{uuid.uuid4().hex}"},
            )
            if response.status_code not in (200, 201, 202):
                answer = response.content[:200]
                outcome.failures.append(f"posting {step.say!r} answered {response.status_code}: {answer!r}")
            self._wait_for_turn(conversation_id)
            return
        preview_hash = self._preview_hash(client, conversation_id, step.preview)
        if not preview_hash:
            outcome.transcript.append(f"   (no preview card to click {step.click} on)")
            return
        response = client.post(
            f"/api/v1/conversations/{conversation_id}/confirm/",
            {"preview_hash": preview_hash, "decision": step.click},
            format="json",
        )
        if response.status_code not in (200, 202):
            is_json = response.headers.get("Content-Type", "").startswith("application/json")
            error = response.json().get("error", "") if is_json else ""
            outcome.transcript.append(f"   (click {step.click} answered {response.status_code} {error})")
        self._wait_for_turn(conversation_id)

    # -- the task ----------------------------------------------------------------------------------------

    def run(self, task: Task) -> TaskOutcome:
        outcome = TaskOutcome(task_id=task.id, category=task.category, turns=task.turns)
        started = time.monotonic()
        user = None
        try:
            # The shop as the demo seeds it: no faults, no stock held, the demo stock and prices, and exactly
            # the demo's saved items (an order adds a "purchased" item, which would change what "the socks I
            # bought last time" means for every later task). The whole demo seed once per run; between tasks
            # only what a task can change. The runner cancels each task's sessions through the contract; any
            # a crashed task left open are canceled by the reset.
            self._control.reset(full=not self._seeded)
            self._seeded = True
            user = customer_prepare(customer=task.customer, setup=task.setup, control=self._control)
            client = self._client
            client.cookies = SimpleCookie()  # signed out: each task's customer signs in afresh, as a new client
            client.force_login(user)
            llm_before = llm_calls_so_far()
            conversations = [self._start(client)]
            windows: list[_StepWindow] = []
            for step in task.steps:
                if step.new_conversation:
                    conversations.append(self._start(client))
                    continue
                begun = timezone.now()
                self._do(client, conversations[-1], step, outcome)
                windows.append(_StepWindow(step, begun, timezone.now()))
            outcome.llm_calls = llm_calls_so_far() - llm_before
            messages = [m for cid in conversations for m in self._conversation(client, cid)["messages"]]
            self._transcribe(outcome, messages)
            outcome.orders = merchant_orders_for(user=user, control=self._control)
            self._judge(task, outcome, user=user, messages=messages, windows=windows)
        except Exception as error:  # a crash is a failed task with its reason, never a crashed run
            logger.exception("evaluation task %s crashed", task.id)
            outcome.error = f"{type(error).__name__}: {error}"[:500]
            outcome.failures.append(f"the run crashed: {outcome.error}")
            outcome.success = False
        finally:
            if user is not None:
                sessions_release(user=user)
            outcome.seconds = time.monotonic() - started
        return outcome

    def _transcribe(self, outcome: TaskOutcome, messages: list[dict]) -> None:
        for message in messages:
            role = message["role"]
            if role == "customer":
                outcome.transcript.append(f"C: {message['text']}")
            else:
                kind = message.get("kind") or ""
                outcome.transcript.append(f"A[{kind or '-'}]: {' '.join(message['text'].split())[:300]}")
                if reply_class(kind) == "question":
                    outcome.clarifications += 1

    def _judge(
        self, task: Task, outcome: TaskOutcome, *, user: Any, messages: list[dict], windows: list[_StepWindow]
    ) -> None:
        expect = task.expect
        failures = outcome.failures
        placed = outcome.orders

        # Wrong orders: every order the task led to (one canceled since was still charged).
        if expect.order is None:
            if placed:
                outcome.wrong_order = True
                described = "; ".join(o.describe() for o in placed)
                failures.append(f"an order was placed but none was expected: {described}")
        else:
            wanted = _resolved(expect.order, user=user)
            if not placed:
                failures.append(f"no order at the shop; expected {_describe_expected(wanted)}")
            elif len(placed) > 1:
                outcome.wrong_order = True
                described = "; ".join(o.describe() for o in placed)
                failures.append(f"{len(placed)} orders placed, expected one: {described}")
            else:
                differences = _differences(placed[0], wanted)
                if differences:
                    outcome.wrong_order = True
                    failures.append(f"wrong order: {placed[0].describe()}: " + "; ".join(differences))
                if placed[0].live == wanted.canceled:
                    state = "canceled" if wanted.canceled else "live"
                    failures.append(f"the order is {placed[0].status} at the shop, expected it {state}")

        # Unconfirmed charges: every order the task led to, live or canceled since.
        threshold = int(task.setup.get("auto_checkout") or 0)
        for order in outcome.orders:
            reason = _unconfirmed(order, windows=windows, auto_checkout=threshold)
            if reason:
                outcome.unconfirmed_charge = True
                failures.append(f"UNCONFIRMED CHARGE {order.order_id}: {reason}")

        replies = [m for m in messages if m["role"] in ("assistant", "system")]
        last = replies[-1] if replies else None
        outcome.last_reply_class = reply_class(last.get("kind", "")) if last else ""
        if expect.reply and outcome.last_reply_class not in expect.reply:
            kind = (last or {}).get("kind") or "-"
            got = outcome.last_reply_class or "missing"
            failures.append(f"last reply is {got} (kind {kind}), expected {'/'.join(expect.reply)}")
        last_text = (last or {}).get("text", "")
        for word in expect.reply_mentions:
            if not mentions(last_text, word):
                failures.append(f"the last reply does not mention {word!r}")
        for word in expect.mentions:
            if not any(mentions(m["text"], word) for m in replies):
                failures.append(f"no assistant message mentions {word!r}")
        outcome.success = not failures and not outcome.wrong_order and not outcome.unconfirmed_charge


def _resolved(expected: ExpectedOrder, *, user: Any) -> ExpectedOrder:
    """Fill the defaults: the customer's default card and address."""
    from consent.selectors import address_default, payment_method_default

    card = expected.card_last4
    if card is None:
        default_card = payment_method_default(user_id=user.pk)
        card = default_card.last4 if default_card else None
    address = expected.address_label
    if address is None:
        default_address = address_default(user_id=user.pk)
        address = default_address.label if default_address else None
    return ExpectedOrder(expected.lines, expected.codes, card, address, expected.shipping, expected.canceled)


def _describe_expected(expected: ExpectedOrder) -> str:
    lines = ", ".join(f"{quantity}x {variant}" for variant, quantity in expected.lines)
    codes = f" codes {','.join(expected.codes)}" if expected.codes else ""
    return f"{lines}{codes} card {expected.card_last4} to {expected.address_label} {expected.shipping}"


def _differences(order: PlacedOrder, expected: ExpectedOrder) -> list[str]:
    differences = []
    if order.lines != expected.lines:
        got = ", ".join(f"{q}x {v}" for v, q in order.lines)
        want = ", ".join(f"{q}x {v}" for v, q in expected.lines)
        differences.append(f"lines {got}, expected {want}")
    if order.codes != expected.codes:
        differences.append(f"codes {list(order.codes)}, expected {list(expected.codes)}")
    if expected.card_last4 and order.card_last4 != expected.card_last4:
        differences.append(f"card {order.card_last4}, expected {expected.card_last4}")
    if expected.address_label and (order.address_label or "").lower() != expected.address_label.lower():
        differences.append(f"address {order.address_label}, expected {expected.address_label}")
    if order.shipping != expected.shipping:
        differences.append(f"shipping {order.shipping}, expected {expected.shipping}")
    return differences


def _unconfirmed(order: PlacedOrder, *, windows: list[_StepWindow], auto_checkout: int) -> str:
    """Why this order's placement was not confirmed by the customer in the task ("" when it was)."""
    if order.confirmed_via == "auto_checkout":
        if auto_checkout and order.total is not None and order.total < auto_checkout:
            return ""
        return f"placed by auto-checkout, but the task allows auto-checkout only under {auto_checkout}"
    if order.confirmed_at is None:
        return "the flow records no confirmation"
    step = next((w.step for w in windows if w.started <= order.confirmed_at <= w.finished), None)
    if step is None:
        return "confirmed outside any customer step"
    if order.confirmed_via == "button" and step.click != "confirm":
        return f"confirmed by the button, but the step was {step.describe()!r}"
    if not step.confirms:
        return f"confirmed during {step.describe()!r}, which is not an explicit confirmation"
    return ""


# -- the end state at the merchant -----------------------------------------------------------------------


SHIPPING_NAMES = {"ship_standard": "standard", "ship_express": "express"}


def merchant_orders_for(*, user: Any, control: ShopControl) -> list[PlacedOrder]:
    """Every order at the merchant that one of `user`'s flows led to, read through the merchant contract.

    A flow's checkout session is asked for its order (so an order the flow failed to record is found
    too); the order and the session give the lines, the applied codes, the address and the shipping.
    ACP's order carries no payment field, so the card is the shop's own record of the token it
    charged, from its `control` (for another merchant: the card on our flow).
    """
    from catalog_adapters.registry import get_merchant
    from consent.models import Address
    from ordering.models import OrderFlow

    merchant = get_merchant(MERCHANT_ID)
    addresses = {(a.line1.strip().lower(), a.postal_code.strip()): a.label for a in Address.objects.filter(user=user)}
    found: list[PlacedOrder] = []
    seen: set[str] = set()
    for flow in OrderFlow.objects.filter(customer=user).select_related("payment_method").order_by("created_at"):
        if not flow.checkout_session_id:
            continue
        session = merchant.checkout.get(session_id=flow.checkout_session_id)
        order_id = flow.merchant_order_id or (session.order.id if session.order else "")
        if not order_id or order_id in seen:
            continue
        seen.add(order_id)
        order = merchant.orders.get(order_id=order_id)
        # What was bought, by variant: the completed session's lines (an official Order's lines name the
        # product, not the variant the customer chose).
        lines = [(line.item_id, line.quantity) for line in session.line_items]
        address = session.fulfillment_details.address if session.fulfillment_details else None
        label = None
        if address is not None:
            label = addresses.get((address.line_one.strip().lower(), address.postal_code.strip()), address.line_one)
        selected = session.selected_fulfillment_options
        total = order.total()
        found.append(
            PlacedOrder(
                order_id=order_id,
                status=order.status,
                lines=tuple(sorted(lines)),
                codes=tuple(sorted(discount.code.upper() for discount in session.applied_discounts)),
                card_last4=_charged_card_last4(order_id, control=control)
                or (flow.payment_method and flow.payment_method.last4),
                address_label=label,
                shipping=SHIPPING_NAMES.get(selected[0].option_id, selected[0].option_id) if selected else None,
                total=total.amount if total else None,
                flow_id=str(flow.pk),
                confirmed_via=flow.confirmed_via,
                confirmed_at=flow.confirmed_at,
            )
        )
    return found


def _charged_card_last4(order_id: str, *, control: ShopControl) -> str | None:
    """The card the shop charged for this order, from its controls (ACP's order names no card)."""
    order = control.order(order_id)
    return order.card_last4 if order is not None else None


def sessions_release(*, user: Any) -> None:
    """Cancel the task's open checkout sessions at the merchant, so their stock holds end with the task."""
    from catalog_adapters.registry import get_merchant
    from ordering.models import OrderFlow

    merchant = get_merchant(MERCHANT_ID)
    for flow in OrderFlow.objects.filter(customer=user).exclude(checkout_session_id=""):
        with contextlib.suppress(Exception):
            session = merchant.checkout.get(session_id=flow.checkout_session_id)
            if session.status not in ("completed", "canceled", "expired"):
                merchant.checkout.cancel(
                    session_id=flow.checkout_session_id, operation_id=f"eval-release-{flow.pk}-{uuid.uuid4().hex[:8]}"
                )


def tasks_run(tasks: list[Task], *, progress: Any = None) -> list[TaskOutcome]:
    """Run `tasks` in order (inside `evaluation_environment`); `progress(outcome)` after each."""
    runner = TaskRunner()
    outcomes = []
    for task in tasks:
        outcome = runner.run(task)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes
