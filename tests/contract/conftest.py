"""Fixtures of the contract tests: "the merchant" as a scripted server on a real socket serving the
official ACP 2026-04-17 examples, and our client configured for it like any other merchant.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.merchant_client.conftest import configure_merchant, scripted  # noqa: F401 (fixtures)
from tests.merchant_client.scripted import Reply, ScriptedServer
from tests.support.acp_schema import example


def session_example(name: str = "create_checkout_session_response", **changes: Any) -> dict[str, Any]:
    """An official example session (a fresh copy), with top-level `changes` applied."""
    file = "examples.multi_item_checkout.json" if "multi_item" in name else "examples.agentic_checkout.json"
    data = example(name, file=file)
    data.update(copy.deepcopy(changes))
    return data


def serve_session(server: ScriptedServer, session: dict[str, Any], *, times: int = 1) -> None:
    """Answer `times` GETs of this session with it."""
    server.then(*(Reply(200, session, method="GET", path=f"/checkout_sessions/{session['id']}") for _ in range(times)))


@pytest.fixture
def merchant(scripted, configure_merchant):  # noqa: F811
    """Our client for the scripted merchant (one attempt per call: every request recorded is one call)."""
    return configure_merchant(scripted.url, max_attempts=1)
