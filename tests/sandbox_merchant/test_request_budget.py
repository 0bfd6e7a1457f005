"""What the sandbox's side of a chat turn and of a placed order costs its database, request by request.

The sandbox serves on the live server's own thread (its own connection); its statements are counted there.
Its CPU is part of the machine that `make bench` row 6 measures (docs/performance.md, "Row 6: where the CPU goes").
The budgets are ceilings: they fail when a second write of the request log, a per-request read of who the request
concerns, a second lock of the session, a re-read of what was just written or a per-line round trip comes back.
"""

from __future__ import annotations

import threading

import pytest
from django.db.backends.utils import CursorWrapper

from config.statements import hand_written_sql
from sandbox_merchant.models import CheckoutLine, Order, ReceivedRequest, SavedItem

pytestmark = pytest.mark.django_db(transaction=True)

# Statements per request, transaction control apart (#15). Every request: its fault rules read and one write of the
# request log (was an INSERT before the work and an UPDATE after it); every POST: its idempotency claim and answer.
# A session read 3 (was 5), a delegate 6 (was 8), a complete 14 (was 28: the customer and the token were read for
# fault rules that did not exist, the session locked twice, the lines and the variants read apart, the products and
# the customer read again, a savepoint, a read and a write per saved item, the new order's adjustments and the order
# itself read back for the answer and the webhook).
# Then (#15, the twenty-seventh session) a POST's Idempotency-Key answer is stored by the statement that writes its
# request log row (one data-modifying WITH on PostgreSQL: one statement and one commit fewer per POST): a delegate 5,
# a complete 13, a create 8, an update 10 (one more each where the hand-written statement does not run: SQLite,
# DATABASE_HAND_WRITTEN_SQL=0).
GET_QUERIES = 3
DELEGATE_QUERIES = 5
COMPLETE_QUERIES = 13
# An add-to-cart turn's two requests: the product (its row, images, variants and the stock others hold: 6, was 7) or
# the saved items with their products (8, was 9); then a checkout create (9, was 15: the session was written twice,
# its lines read and deleted before it had any, the product read apart) or an update replacing its line (11, was 14:
# the session locked twice, the product read apart).
PRODUCT_QUERIES = 6
SAVED_PRODUCTS_QUERIES = 8
CREATE_QUERIES = 8
UPDATE_QUERIES = 10
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _post(budget: int) -> int:
    return budget if hand_written_sql() else budget + 1


@pytest.fixture
def server_statements(monkeypatch):
    """The SQL the sandbox's server thread runs (every thread but this test's)."""
    statements: list[str] = []
    lock = threading.Lock()
    here = threading.get_ident()
    original = CursorWrapper._execute

    def counting(self, sql, params, *ignored):
        # Transaction control apart (SQLite sends its BEGIN through a cursor, PostgreSQL does not).
        if threading.get_ident() != here and not sql.lstrip().upper().startswith(TRANSACTION_CONTROL):
            with lock:
                statements.append(sql)
        return original(self, sql, params, *ignored)

    monkeypatch.setattr(CursorWrapper, "_execute", counting)
    return statements


def _spent(statements: list[str], action) -> tuple[object, list[str]]:
    before = len(statements)
    result = action()
    return result, statements[before:]


def test_a_placed_orders_three_requests_stay_within_their_query_budgets(sandbox_merchant, server_statements):
    session = sandbox_merchant.ready_session()
    total = next(item["amount"] for item in session["totals"] if item["type"] == "total")

    read, get_sql = _spent(server_statements, lambda: sandbox_merchant.get(f"/checkout_sessions/{session['id']}"))
    token, delegate_sql = _spent(server_statements, lambda: sandbox_merchant.delegate(session["id"], total))
    completed, complete_sql = _spent(server_statements, lambda: sandbox_merchant.complete(session["id"], token))

    print(f"get {len(get_sql)}, delegate {len(delegate_sql)}, complete {len(complete_sql)}")
    assert read.status_code == 200
    assert completed.status_code == 200, completed.text
    body = completed.json()
    order = Order.objects.get(session_id=session["id"])
    assert body["status"] == "completed" and body["order"]["id"] == order.id
    assert SavedItem.objects.filter(customer_id=order.customer_id, kind="purchased").exists()
    assert len(get_sql) <= GET_QUERIES, "\n".join(get_sql)
    assert len(delegate_sql) <= _post(DELEGATE_QUERIES), "\n".join(delegate_sql)
    assert len(complete_sql) <= _post(COMPLETE_QUERIES), "\n".join(complete_sql)


def test_an_add_to_cart_turns_requests_stay_within_their_query_budgets(sandbox_merchant, server_statements):
    product, product_sql = _spent(server_statements, lambda: sandbox_merchant.get("/products/prod_blue_runner"))
    saved, saved_sql = _spent(
        server_statements, lambda: sandbox_merchant.get("/customers/cus_alice/saved_products?kind=liked&limit=5")
    )
    created, create_sql = _spent(server_statements, lambda: sandbox_merchant.ready_session())
    updated, update_sql = _spent(
        server_statements,
        lambda: sandbox_merchant.post(
            f"/checkout_sessions/{created['id']}", {"line_items": [{"id": "var_blue_runner_43"}]}
        ),
    )

    print(
        f"product {len(product_sql)}, saved_products {len(saved_sql)}, create {len(create_sql)}, "
        f"update {len(update_sql)}"
    )
    assert product.status_code == 200 and saved.status_code == 200 and updated.status_code == 200, updated.text
    assert [line["item"]["id"] for line in updated.json()["line_items"]] == ["var_blue_runner_43"]
    assert list(
        CheckoutLine.objects.filter(session_id=created["id"]).values_list("variant_id", "reserved_quantity")
    ) == [("var_blue_runner_43", 1)]
    # each request is in the log once, with its status
    assert list(ReceivedRequest.objects.order_by("id").values_list("method", "status")) == [
        ("GET", 200),
        ("GET", 200),
        ("POST", 201),
        ("POST", 200),
    ]
    assert len(product_sql) <= PRODUCT_QUERIES, "\n".join(product_sql)
    assert len(saved_sql) <= SAVED_PRODUCTS_QUERIES, "\n".join(saved_sql)
    assert len(create_sql) <= _post(CREATE_QUERIES), "\n".join(create_sql)
    assert len(update_sql) <= _post(UPDATE_QUERIES), "\n".join(update_sql)
