"""Starting conversations is throttled per customer like turns are, with the same clear 429."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ordering.models import Conversation
from tests.consent.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.redis, pytest.mark.usefixtures("fresh_cache")]


def _client(username: str) -> APIClient:
    client = APIClient()
    client.force_login(UserFactory(username=username))
    return client


def test_starting_conversations_past_the_rate_is_a_clear_429(settings):
    settings.ORDERING_CONVERSATIONS_RATE = "3/min"
    carol = _client("carol")
    for _ in range(3):
        assert carol.post("/api/v1/conversations/", format="json").status_code == 201

    response = carol.post("/api/v1/conversations/", format="json")

    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "throttled"
    assert "please wait" in body["message"] and body["retry_after_seconds"] >= 1
    assert response.headers["Retry-After"]
    assert Conversation.objects.filter(customer__username="carol").count() == 3
    # another customer is counted apart
    assert _client("dave").post("/api/v1/conversations/", format="json").status_code == 201


def test_the_default_rate_allows_ten_a_minute(db):
    carol = _client("carol")
    statuses = [carol.post("/api/v1/conversations/", format="json").status_code for _ in range(11)]

    assert statuses == [201] * 10 + [429]
