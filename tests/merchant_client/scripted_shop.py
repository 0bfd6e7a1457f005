"""A scripted ACP merchant for whole-saga tests: the official example session on a real socket.

`ScriptedShop` answers like an ACP 2026-04-17 merchant from a mutable session dict (an official example):
GET/POST of the session, delegate_payment (always the same token id), delegate_authentication (the
spec's challenge-required, then authenticated examples), complete (from a queue of
scripted answers, else a completed session with an order), cancel, token revoke, delegate_authentication.
It records every request (ScriptedServer.received), so tests validate what our client sent.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from contextlib import contextmanager
from typing import Any

from tests.merchant_client.scripted import Reply, ScriptedServer
from tests.support.acp_schema import example

_AUTH = "examples.delegate_authentication.json"


class ScriptedShop(ScriptedServer):
    def __init__(self, session: dict[str, Any] | None = None) -> None:
        super().__init__()
        if session is None:
            # The spec's multi-item session; it advertises no payment handler, so the merchant's capabilities
            # of the spec's main example (dev.acp.tokenized.card as card_tokenized) are put on it.
            session = example("create_multi_item_checkout_response", file="examples.multi_item_checkout.json")
            session["capabilities"] = example("create_checkout_session_response")["capabilities"]
        self.session = session
        self.complete_answers: deque[Reply | tuple[Reply, dict[str, Any]]] = deque()
        self.get_answers: deque[dict[str, Any]] = deque()
        self._state_lock = threading.Lock()
        self.tokens_minted = 0

    @property
    def session_id(self) -> str:
        return self.session["id"]

    def completed(self) -> dict[str, Any]:
        done = copy.deepcopy(self.session)
        done["status"] = "completed"
        done["order"] = {
            "id": "ord_scripted_1",
            "checkout_session_id": self.session_id,
            "permalink_url": "https://shop.example/orders/ord_scripted_1",
            "order_number": "#1001",
        }
        return done

    def _take(self, method: str, path: str) -> Reply:
        with self._state_lock:
            base = f"/checkout_sessions/{self.session_id}"
            if method == "GET" and path == base:
                body = self.get_answers.popleft() if self.get_answers else self.session
                return Reply(200, copy.deepcopy(body))
            if method == "POST" and path == f"{base}/complete":
                if not self.complete_answers:
                    return Reply(200, self.completed())
                answer = self.complete_answers.popleft()
                if isinstance(answer, tuple):  # (reply, the session as the merchant holds it afterwards)
                    answer, self.session = answer
                return answer
            if method == "POST" and path == "/delegate_authentication":
                return Reply(201, example("authenticate_response_challenge_required", file=_AUTH))
            if method == "GET" and path.startswith("/delegate_authentication/"):
                return Reply(200, example("retrieve_session_response_authenticated", file=_AUTH))
            if method == "POST" and path in (base, f"{base}/cancel"):
                answer = copy.deepcopy(self.session)
                if path.endswith("/cancel"):
                    answer["status"] = "canceled"
                return Reply(200, answer)
            if method == "POST" and path == "/agentic_commerce/delegate_payment":
                self.tokens_minted += 1
                return Reply(201, {"id": "vt_scripted1", "created": "2026-01-01T00:00:00Z", "metadata": {}})
            if method == "POST" and path.startswith("/agentic_commerce/delegate_payment/") and path.endswith("/revoke"):
                return Reply(200, {"id": path.split("/")[3], "revoked": True})
        return super()._take(method, path)


@contextmanager
def scripted_shop_running(configure_merchant, session: dict[str, Any] | None = None):
    """A ScriptedShop on a real socket, configured as our merchant (one attempt per call); `.merchant` is ours."""
    server = ScriptedShop(session).start()
    # It serves the sandbox's token revoke extension too, so it is configured as offering it.
    server.merchant = configure_merchant(
        server.url, max_attempts=1, capabilities=["catalog", "checkout", "vault", "orders", "token_revoke"]
    )
    try:
        yield server
    finally:
        server.stop()


def previewed_flow(shop: ScriptedShop):
    """Alice's flow on the scripted shop's session, previewed with her Visa and home address (demo data)."""
    from django.contrib.auth import get_user_model

    from consent.demo import consent_demo_seed
    from consent.models import Address, PaymentMethod
    from ordering.services import conversation_start, flow_preview, flow_start

    consent_demo_seed()
    alice = get_user_model().objects.get(username="alice")
    session = shop.merchant.checkout.get(session_id=shop.session_id)
    flow = flow_start(
        conversation=conversation_start(customer_id=alice.pk),
        merchant_id=shop.merchant.id,
        checkout_session_id=session.id,
    )
    return flow_preview(
        flow_id=flow.pk,
        customer_id=alice.pk,
        session=session,
        payment_method_id=PaymentMethod.objects.filter(user=alice, brand="visa").order_by("pk").first().pk,
        address_id=Address.objects.get(user=alice, label="Home").pk,
    )


def confirmed_flow(shop: ScriptedShop):
    """`previewed_flow`, confirmed by alice: the saga runs (eagerly, in tests using eager_tasks)."""
    from ordering.models import OrderFlow
    from ordering.services import flow_confirm

    flow = previewed_flow(shop)
    flow_confirm(flow_id=flow.pk, customer_id=flow.customer_id, preview_hash=flow.preview_hash)
    return OrderFlow.objects.get(pk=flow.pk)
