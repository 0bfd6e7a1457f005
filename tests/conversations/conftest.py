"""Conversation API fixtures: alice's shop (tests/ordering/conftest.py), signed in, with a fresh throttle."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.ordering.conftest import Shop, fake_shop, shop  # noqa: F401 - fixtures reused as they are


@pytest.fixture(autouse=True)
def _fresh_throttle():
    # Throttle counters live in the shared cache; each test starts with none (this run's own Redis db).
    cache.clear()
    yield
    cache.clear()


class Chat:
    """Alice's side of the chat widget: the JSON API through a signed-in client."""

    def __init__(self, client: APIClient) -> None:
        self.client = client
        self.id: str | None = None

    def start(self) -> dict:
        response = self.client.post("/api/v1/conversations/", format="json")
        assert response.status_code == 201, response.content
        self.id = response.json()["id"]
        return response.json()

    def say(self, text: str, *, key: str | None = None, expect: int = 202) -> dict:
        """Post a message; in synchronous mode (the test default) the 202 answer already holds the turn, done."""
        headers = {"Idempotency-Key": key} if key else {}
        response = self.client.post(
            f"/api/v1/conversations/{self.id}/messages/", {"text": text}, format="json", headers=headers
        )
        assert response.status_code == expect, response.content
        body = response.json()
        if response.status_code == 202 and settings.ORDERING_TURNS_INLINE:
            assert body["turn"]["status"] in ("done", "failed"), body  # the turn ran inside the request
            assert body["turn"]["url"] == f"/api/v1/conversations/{self.id}/turns/{body['turn']['id']}/"
        return body

    def turn(self, url: str) -> dict:
        response = self.client.get(url)
        assert response.status_code == 200, response.content
        return response.json()

    def assistant_texts(self, answer: dict) -> list[str]:
        return [m["text"] for m in answer["messages"] if m["role"] in ("assistant", "system")]

    def confirm(self, preview_hash: str, decision: str = "confirm"):
        return self.client.post(
            f"/api/v1/conversations/{self.id}/confirm/",
            {"preview_hash": preview_hash, "decision": decision},
            format="json",
        )

    def get(self) -> dict:
        response = self.client.get(f"/api/v1/conversations/{self.id}/")
        assert response.status_code == 200, response.content
        return response.json()

    def events(self, after: int = 0) -> dict:
        response = self.client.get(f"/api/v1/conversations/{self.id}/events/", {"after": after})
        assert response.status_code == 200, response.content
        return response.json()


@pytest.fixture
def chat(shop) -> Chat:  # noqa: F811
    client = APIClient()
    client.force_login(shop.alice)
    return Chat(client)


@pytest.fixture
def chat_bob(shop) -> Chat:  # noqa: F811
    """bob's chat in the same shop: he has no personal promotion code (alice has ALICE10) and one saved card."""
    client = APIClient()
    client.force_login(get_user_model().objects.get(username="bob"))
    return Chat(client)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def staff(db):
    """A member of support staff (the hand-over tests' specialist)."""
    return get_user_model().objects.create_user(username="sam", password="x", is_staff=True)
