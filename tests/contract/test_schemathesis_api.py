"""schemathesis over our whole JSON API, from its own OpenAPI schema (drf-spectacular, /api/schema/).

For every operation, hypothesis generates requests from the schema (positive mode) and requests it does
not allow (negative mode: wrong types, missing fields, bodies that are lists, strings, numbers, null) and
sends them over real HTTP, signed in as alice with CSRF, to the live server (real PostgreSQL and Redis,
the sandbox merchant behind it). Every answer must be:

- never a server error (5xx);
- JSON, and for an error the API's one shape `{"error": <code>, "message": <text>, …}`;
- a 400 when the body is not a JSON object (the defect of #16: a revoke with `[null, null]` was a 500).

Some path ids are drawn from alice's real conversation, turn, flow, grants, cards, addresses and activity,
so success paths are exercised too, not only 404s. Bounded by MAX_EXAMPLES per operation and mode; one
test per mode (each about 10-15 s on a 2-core machine).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.core import NOT_SET
from schemathesis.generation.modes import GenerationMode

from tests.ordering.conftest import shop  # noqa: F401 - fixtures reused as they are
from tests.support.local_servers import KeptAliveSession

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_tasks")]

MAX_EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 20}
# The bodies of #16 that answered 500 (hypothesis' negative mode draws such bodies only now and then).
NOT_OBJECTS = ["[null, null]", '"x"', "null", "true", "1", "[]", "{"]


@pytest.fixture
def alice_http(shop, live_server) -> Iterator[requests.Session]:  # noqa: F811
    """alice's browser: her session cookie, and a CSRF cookie sent back as X-CSRFToken."""
    client = Client()
    client.force_login(shop.alice)
    csrf = secrets.token_hex(16)  # 32 characters: Django accepts an unmasked secret
    session = KeptAliveSession()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    session.cookies.set("csrftoken", csrf)
    session.headers.update({"X-CSRFToken": csrf, "Referer": live_server.url})
    with session:  # closed after the test, which lets the live server's thread close its database connection
        yield session


@pytest.fixture
def real_ids(shop, alice_http, live_server) -> dict[str, list]:  # noqa: F811
    """Ids of alice's own things, for the path parameters to hit now and then."""
    from consent.activity import activity_page
    from consent.models import Address, ConsentGrant, PaymentMethod

    api = f"{live_server.url}/api/v1"
    conversation = alice_http.post(f"{api}/conversations/", json={}, timeout=30).json()["id"]
    turn = alice_http.post(
        f"{api}/conversations/{conversation}/messages/", json={"text": "Buy the Blue Runner in size 42"}, timeout=60
    ).json()
    flow = turn["pending_confirmation"]["flow_id"]
    entries, _ = activity_page(user_id=shop.alice.pk, before=None, limit=5)
    return {
        "conversation_id": [conversation],
        "turn_id": [str(turn["turn"]["id"])],
        "flow_id": [flow],
        "grant_id": list(ConsentGrant.objects.filter(user=shop.alice).values_list("pk", flat=True)),
        "payment_method_id": list(PaymentMethod.objects.filter(user=shop.alice).values_list("pk", flat=True)),
        "address_id": list(Address.objects.filter(user=shop.alice).values_list("pk", flat=True)),
        "event_id": [entry.id for entry in entries],
    }


def _problem(case, response) -> str | None:
    """What is wrong with this answer (schemathesis' response: lower-case header names, lists of values)."""
    if response.status_code >= 500:
        return "a server error"
    if response.status_code == 204:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if not content_type.startswith("application/json"):
        return f"not JSON ({content_type})"
    body = response.json()
    if response.status_code >= 400:
        if not (isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("message"), str)):
            return "an error not in the API's shape"
        if response.status_code in (429, 503) and "retry-after" not in response.headers:
            return "a wait without Retry-After"
    sent_json = case.body is not NOT_SET and (case.media_type or "").endswith("json")
    if sent_json and not isinstance(case.body, dict) and response.status_code not in (400, 403, 404, 429):
        return "a body that is not a JSON object was not refused"
    return None


def _explorer(operation, base_url: str, session: requests.Session, real_ids, problems: list, statuses: dict, mode):
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), use_real=st.booleans(), pick=st.integers(0, 10))
    def explore(case, use_real, pick):
        for name in list(case.path_parameters or {}):
            choices = real_ids.get(name) or []
            if use_real and choices and mode == GenerationMode.POSITIVE:
                case.path_parameters[name] = choices[pick % len(choices)]
        headers = {"Idempotency-Key": f"st-{uuid.uuid4().hex}"} if case.path.endswith("/messages/") else {}
        # The schema names the session cookie as the API's security; alice's own replaces a generated one.
        case.cookies = {}
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=60)
        seen = statuses.setdefault(operation.label, {})
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        problem = _problem(case, response)
        if problem:
            problems.append(
                f"{operation.label} ({mode.value}) -> {response.status_code}, {problem}: "
                f"body sent {case.body!r:.300} path {case.path_parameters} query {case.query}\n"
                f"  answer: {response.text[:400]}"
            )
            raise AssertionError(problems[-1])

    return explore


@pytest.fixture
def api_schema(live_server, alice_http, settings) -> dict:
    # Throttles would only turn later examples into 429s; the rates themselves are tested elsewhere.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"conversation_turns": "10000/min"},
    }
    settings.ORDERING_CONVERSATIONS_RATE = "10000/min"
    cache.clear()
    spec = alice_http.get(f"{live_server.url}/api/schema/?format=json", timeout=30)
    assert spec.status_code == 200, spec.text[:300]
    return spec.json()


def test_every_operation_that_takes_a_body_refuses_one_that_is_not_a_json_object(
    live_server, alice_http, real_ids, api_schema
):
    refused: dict[str, set[int]] = {}
    for path, methods in api_schema["paths"].items():
        for method, operation in methods.items():
            if "requestBody" not in operation:
                continue
            url = live_server.url + path.format(**{name: values[0] for name, values in real_ids.items() if values})
            for body in NOT_OBJECTS:
                response = alice_http.request(
                    method, url, data=body, headers={"Content-Type": "application/json"}, timeout=60
                )
                assert response.status_code == 400, f"{method.upper()} {path} with {body}: {response.text[:300]}"
                answer = response.json()
                assert answer["error"] == "parse_error" and answer["message"], answer
                refused.setdefault(f"{method.upper()} {path}", set()).add(response.status_code)
    assert "POST /api/v1/consent/grants/{grant_id}/revoke/" in refused
    assert len(refused) >= 11, sorted(refused)


# One test per generation mode, so that pytest-xdist runs the two at once on two workers.
@pytest.mark.long  # 12-14 s of CPU each: started early (tests/support/long_first.py)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
def test_the_whole_api_answers_no_server_error_and_one_error_shape(live_server, alice_http, real_ids, api_schema, mode):
    schema = schemathesis.openapi.from_dict(api_schema)

    problems: list[str] = []
    statuses: dict[str, dict[int, int]] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        explore = _explorer(operation, live_server.url, alice_http, real_ids, problems, statuses, mode)
        recorded = len(problems)
        try:
            explore()
        except AssertionError:
            if len(problems) == recorded:  # not one of ours: a broken test, report it as such
                raise

    print({label: counts for label, counts in sorted(statuses.items())})
    assert not problems, "\n\n".join(problems[:8])
    # every operation of the API was exercised, at least 10 times
    assert len(operations) >= 28, [operation.label for operation in operations]
    assert set(statuses) == {operation.label for operation in operations}, sorted(statuses)
    assert all(sum(counts.values()) >= 10 for counts in statuses.values()), statuses
    if mode == GenerationMode.POSITIVE:
        # and not only by refusals: requests the schema allows succeed on most operations
        successes = [label for label, counts in statuses.items() if any(200 <= code < 300 for code in counts)]
        assert len(successes) >= len(operations) * 2 // 3, sorted(set(statuses) - set(successes))
