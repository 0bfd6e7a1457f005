"""Stock: reserved by sessions, released by cancel and by expiry, never oversold, even under a race."""

import threading

import pytest

from sandbox_merchant import tasks
from sandbox_merchant.models import CheckoutSession, CheckoutStatus, Variant
from tests.support.sandbox import payment_data

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_session_past_its_expiry_no_longer_holds_stock_and_the_sweep_marks_it_expired(
    sandbox_merchant, settings, wall_clock
):
    # given sessions that live one second
    settings.SANDBOX_MERCHANT_SESSION_TTL_SECONDS = 1
    before = sandbox_merchant.available("var_blue_runner_42")
    session = sandbox_merchant.create_session(quantity=2)
    assert sandbox_merchant.available("var_blue_runner_42") == before - 2

    # when the second has passed
    wall_clock.advance(1.3)

    # then the stock counts as free at once, and GET shows the session expired
    assert sandbox_merchant.available("var_blue_runner_42") == before
    product = sandbox_merchant.get("/products/prod_blue_runner").json()
    assert next(v["available"] for v in product["variants"] if v["id"] == "var_blue_runner_42") == before
    assert sandbox_merchant.get(f"/checkout_sessions/{session['id']}").json()["status"] == "expired"
    # and the beat task records it
    assert tasks.expire_sessions() == 1
    assert CheckoutSession.objects.get(id=session["id"]).status == CheckoutStatus.EXPIRED
    assert tasks.expire_sessions() == 0


def test_an_expired_session_cannot_be_updated_or_completed(sandbox_merchant, settings, wall_clock):
    settings.SANDBOX_MERCHANT_SESSION_TTL_SECONDS = 1
    session = sandbox_merchant.ready_session()
    token = sandbox_merchant.delegate(session["id"], 100000)
    wall_clock.advance(1.3)

    update = sandbox_merchant.post(f"/checkout_sessions/{session['id']}", {"discounts": {"codes": []}})
    complete = sandbox_merchant.post(
        f"/checkout_sessions/{session['id']}/complete", {"payment_data": payment_data(token)}
    )
    cancel = sandbox_merchant.post(f"/checkout_sessions/{session['id']}/cancel")

    assert update.status_code == complete.status_code == 405
    assert complete.json()["code"] == "invalid_state"
    # cancel of an expired session is a no-op success: nothing is held any more
    assert cancel.status_code == 200 and cancel.json()["status"] == "expired"


def test_an_update_extends_the_reservation(sandbox_merchant, settings, wall_clock):
    settings.SANDBOX_MERCHANT_SESSION_TTL_SECONDS = 2
    before = sandbox_merchant.available("var_blue_runner_42")
    session = sandbox_merchant.create_session()
    wall_clock.advance(1.2)

    sandbox_merchant.post(f"/checkout_sessions/{session['id']}", {"fulfillment_details": sandbox_merchant.ALICE_HOME})
    wall_clock.advance(1.2)

    assert sandbox_merchant.available("var_blue_runner_42") == before - 1


def test_the_last_unit_goes_to_one_session_and_the_next_gets_out_of_stock(sandbox_merchant):
    sandbox_merchant.set_stock("var_blue_runner_45", 1)

    first = sandbox_merchant.create_session(variant_id="var_blue_runner_45")
    second = sandbox_merchant.create_session(variant_id="var_blue_runner_45")

    assert first["messages"] == []
    assert [m["code"] for m in second["messages"]] == ["out_of_stock"]
    # when the first lets go, an update of the second gets the unit
    sandbox_merchant.post(f"/checkout_sessions/{first['id']}/cancel")
    retried = sandbox_merchant.post(f"/checkout_sessions/{second['id']}", {}).json()
    assert retried["messages"] == []


@pytest.mark.postgres
def test_sessions_racing_for_the_last_unit_one_wins_and_stock_never_goes_negative(sandbox_merchant):
    # given one unit left and eight buyers released at the same instant
    sandbox_merchant.set_stock("var_blue_runner_45", 1)
    barrier = threading.Barrier(8)
    results = []

    def buy():
        barrier.wait()
        response = sandbox_merchant.post(
            "/checkout_sessions", {"currency": "usd", "line_items": [{"id": "var_blue_runner_45", "quantity": 1}]}
        )
        results.append(response.json())

    # when
    threads = [threading.Thread(target=buy) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then exactly one holds it; the others were told out_of_stock
    assert len(results) == 8
    winners = [r for r in results if not r["messages"]]
    losers = [r for r in results if [m["code"] for m in r["messages"]] == ["out_of_stock"]]
    assert (len(winners), len(losers)) == (1, 7)
    assert sandbox_merchant.available("var_blue_runner_45") == 0
    assert Variant.objects.get(id="var_blue_runner_45").stock == 1


@pytest.mark.postgres
def test_two_sessions_completing_the_last_unit_sell_it_once(sandbox_merchant):
    # given two ready sessions with one unit between them: the first holds it, the second does not
    sandbox_merchant.set_stock("var_blue_runner_40", 1)
    sessions = [sandbox_merchant.ready_session(variant_id="var_blue_runner_40") for _ in range(2)]
    tokens = [sandbox_merchant.delegate(s["id"], 100000) for s in sessions]
    barrier = threading.Barrier(2)
    results = {}

    def complete(index):
        barrier.wait()
        results[index] = sandbox_merchant.post(
            f"/checkout_sessions/{sessions[index]['id']}/complete", {"payment_data": payment_data(tokens[index])}
        ).json()

    # when both complete at once
    threads = [threading.Thread(target=complete, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then one order, and the stock is zero, not negative
    assert sorted(result["status"] for result in results.values()) == ["completed", "not_ready_for_payment"]
    assert Variant.objects.get(id="var_blue_runner_40").stock == 0
    assert sandbox_merchant.available("var_blue_runner_40") == 0
