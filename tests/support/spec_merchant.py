"""An independent ACP 2026-04-17 merchant written from the specification alone, for tests.

It was written by a conformance audit from the vendored spec (tests/contract/acp_spec/) without reading our client,
so that the client is tested against a merchant that answers as the spec's examples do, not as our sandbox does
(handlers only on the create answer, its own fulfillment option ids, Item ids in `item_ids`, no token revoke,
every status of the enum). `start()` serves it on a free local port in a thread; `reset()` between tests.

Serves (by default on 127.0.0.1:8150 when run as a script):
  POST /checkout_sessions                      -> 201 CheckoutSession (shapes of examples.agentic_checkout.json)
  POST /checkout_sessions/{id}                 -> 200 CheckoutSession
  GET  /checkout_sessions/{id}                 -> 200 CheckoutSession | 404 Error
  POST /checkout_sessions/{id}/complete        -> 200 CheckoutSessionWithOrder | 200 session+messages | 400 requires_3ds
  POST /checkout_sessions/{id}/cancel          -> 200 canceled | 405 Error
  POST /agentic_commerce/delegate_payment      -> 201 DelegatePaymentResponse
Common rules (rfc.agentic_checkout §3, §6; rfc.delegate_payment §5): Bearer auth, API-Version validated
(400 supported_versions), Idempotency-Key required on POST (400), replay with Idempotent-Replayed: true,
same key + other body 422 idempotency_conflict, in flight 409 + Retry-After, 5xx never stored; Request-Id
and Idempotency-Key echoed. Every request body is validated against the official JSON schema and every
request is logged (GET /__log) with its headers and the schema violations found.

Control (test driver only): POST /__control {json merged into CONTROL}, POST /__reset, GET /__log,
GET /__sessions.
CONTROL keys:
  handlers_on: "create" (as the examples: handlers only on the create answer; update/get/complete/cancel
               answer "payment": {"handlers": []}) | "all"
  item_ids: "item" (selected_fulfillment_options[].item_ids must be Item ids, as every spec example does) |
            "line" | "any"
  bad_option: "error" (400 Error) | "message" (200 + MessageError invalid, not_ready_for_payment)
  complete: "ok" | "declined" | "3ds" | "in_progress" | "escalation" | "pending_approval" | "price_change"
  queue: {op: [ {status?, headers?, body?, patch?, delay?} , ...]}  (op: create, update, get, complete, cancel,
          delegate) - consumed one per request, before normal handling (patch: merged into the normal answer)
  options: "shipping" | "all_kinds"  (fulfillment option kinds offered)
  totals: "example" | "all_types"
  messages: "none" | "all_kinds" (info/warning/error with every optional field)
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema

SPEC = Path(__file__).resolve().parents[1] / "contract" / "acp_spec"
EX = json.loads((SPEC / "examples" / "examples.agentic_checkout.json").read_text())
DP_EX = json.loads((SPEC / "examples" / "examples.delegate_payment.json").read_text())
CHK = json.loads((SPEC / "json-schema" / "schema.agentic_checkout.json").read_text())
DPS = json.loads((SPEC / "json-schema" / "schema.delegate_payment.json").read_text())

TOKEN = "spec-token"
VERSIONS = ["2026-04-17"]
PORT = 8150


def _validator(doc, name):
    return jsonschema.Draft202012Validator(
        {"$schema": doc["$schema"], "$defs": doc["$defs"], "$ref": f"#/$defs/{name}"},
        format_checker=jsonschema.FormatChecker(),
    )


VALIDATORS = {
    "create": _validator(CHK, "CheckoutSessionCreateRequest"),
    "update": _validator(CHK, "CheckoutSessionUpdateRequest"),
    "complete": _validator(CHK, "CheckoutSessionCompleteRequest"),
    "cancel": _validator(CHK, "CancelSessionRequest"),
    "delegate": _validator(DPS, "DelegatePaymentRequest"),
}
RESPONSE_VALIDATORS = {
    "session": _validator(CHK, "CheckoutSession"),
    "with_order": _validator(CHK, "CheckoutSessionWithOrder"),
    "error": _validator(CHK, "Error"),
    "dp": _validator(DPS, "DelegatePaymentResponse"),
    "dp_error": _validator(DPS, "Error"),
}

DEFAULT_CONTROL = {
    "handlers_on": "create",
    "item_ids": "item",
    "bad_option": "error",
    "complete": "ok",
    "queue": {},
    "options": "shipping",
    "totals": "example",
    "messages": "none",
}

LOCK = threading.RLock()
CONTROL = copy.deepcopy(DEFAULT_CONTROL)
LOG: list[dict] = []
SESSIONS: dict[str, dict] = {}
IDEM: dict[tuple, dict] = {}
IN_FLIGHT: set = set()
TOKENS: dict[str, dict] = {}
SELF_CHECK: list = []  # our own answers that break the schema (must stay empty)


def error(status, type_, code, message, param=None, **extra):
    body = {"type": type_, "code": code, "message": message}
    if param:
        body["param"] = param
    body.update(extra)
    return status, {}, body


def canonical(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def line_for(item_id, quantity, unit=300):
    base = unit * quantity
    tax = base // 10
    return {
        "id": f"line_{item_id}",
        "item": {"id": item_id},
        "quantity": quantity,
        "name": f"Product {item_id}",
        "unit_amount": unit,
        "totals": [
            {"type": "items_base_amount", "display_text": "Base Amount", "amount": base},
            {"type": "discount", "display_text": "Discount", "amount": 0},
            {"type": "subtotal", "display_text": "Subtotal", "amount": base},
            {"type": "tax", "display_text": "Tax", "amount": tax},
            {"type": "total", "display_text": "Total", "amount": base + tax},
        ],
    }


def option_cost(option):
    for total in option.get("totals", []):
        if total["type"] == "total":
            return total["amount"]
    return 0


ALL_KIND_OPTIONS = [
    {
        "type": "pickup",
        "id": "pickup_01",
        "title": "Store pickup",
        "location": {
            "name": "Downtown",
            "address": {
                "name": "Downtown Store",
                "line_one": "1 Main St",
                "city": "San Francisco",
                "state": "CA",
                "country": "US",
                "postal_code": "94102",
            },
        },
        "pickup_type": "in_store",
        "ready_by": "2026-05-01T10:00:00Z",
        "totals": [{"type": "total", "display_text": "Pickup", "amount": 0}],
    },
    {
        "type": "local_delivery",
        "id": "delivery_01",
        "title": "Same day",
        "delivery_window": {"start": "2026-05-01T10:00:00Z", "end": "2026-05-01T14:00:00Z"},
        "service_area": {"radius_miles": 10, "center_postal_code": "94102"},
        "totals": [{"type": "total", "display_text": "Delivery", "amount": 999}],
    },
    {
        "type": "digital",
        "id": "digital_01",
        "title": "Instant download",
        "totals": [{"type": "total", "display_text": "Digital", "amount": 0}],
    },
]

ALL_KIND_MESSAGES = [
    {
        "type": "info",
        "severity": "info",
        "resolution": "recoverable",
        "param": "$.line_items[0]",
        "content_type": "markdown",
        "content": "**Free shipping** over $50",
    },
    {
        "type": "warning",
        "code": "low_stock",
        "severity": "medium",
        "resolution": "requires_buyer_review",
        "param": "$.line_items[0]",
        "content_type": "plain",
        "content": "Only 2 left",
    },
    {"type": "warning", "code": "shipping_delay", "content_type": "plain", "content": "Carrier delays"},
]


def recompute(session):
    lines = session["line_items"]
    base = sum(t["amount"] for line in lines for t in line["totals"] if t["type"] == "items_base_amount")
    tax = sum(t["amount"] for line in lines for t in line["totals"] if t["type"] == "tax")
    selected = {s["option_id"] for s in session.get("selected_fulfillment_options", [])}
    ship = sum(option_cost(o) for o in session["fulfillment_options"] if o["id"] in selected)
    fee = 50
    totals = [
        {"type": "items_base_amount", "display_text": "Item(s) total", "amount": base},
        {"type": "subtotal", "display_text": "Subtotal", "amount": base},
        {"type": "tax", "display_text": "Tax", "amount": tax},
        {"type": "fulfillment", "display_text": "Fulfillment", "amount": ship},
        {"type": "fee", "display_text": "Service Fee", "amount": fee, "description": "Processing and handling fee"},
    ]
    total = base + tax + ship + fee
    if CONTROL["totals"] == "all_types":
        totals += [
            {"type": "items_discount", "display_text": "Item discounts", "amount": 0},
            {"type": "discount", "display_text": "Order discount", "amount": 0},
            {"type": "gift_wrap", "display_text": "Gift wrap", "amount": 200},
            {"type": "tip", "display_text": "Tip", "amount": 100},
            {"type": "store_credit", "display_text": "Store credit", "amount": 150},
            {
                "type": "tax",
                "display_text": "City tax",
                "amount": 0,
                "breakdown": [{"jurisdiction": "SF", "rate": 0.0, "amount": 0}],
            },
        ]
        total += 200 + 100 - 150
    totals.append({"type": "total", "display_text": "Total", "amount": total, "presentment_amount": total})
    session["totals"] = totals
    if session["status"] not in ("completed", "canceled", "authentication_required"):
        ready = bool(session.get("fulfillment_details", {}).get("address")) and bool(selected) and lines
        blocking = [m for m in session["messages"] if m["type"] == "error"]
        session["status"] = "ready_for_payment" if ready and not blocking else "not_ready_for_payment"


def new_session(req):
    session = copy.deepcopy(EX["create_checkout_session_response"])
    session["id"] = f"cs_{uuid.uuid4().hex[:16]}"
    session["continue_url"] = f"https://www.testshop.com/checkout/{session['id']}"
    session.pop("marketing_consent_options", None)
    grouped: dict[str, int] = {}
    for item in req.get("line_items", []):
        grouped[item["id"]] = grouped.get(item["id"], 0) + 1
    session["line_items"] = [line_for(i, q) for i, q in grouped.items()]
    session["currency"] = req.get("currency", "usd").lower()
    if "buyer" in req:
        session["buyer"] = req["buyer"]
    if "fulfillment_details" in req:
        session["fulfillment_details"] = req["fulfillment_details"]
    else:
        session.pop("fulfillment_details", None)
    if CONTROL["options"] == "all_kinds":
        session["fulfillment_options"] = session["fulfillment_options"] + copy.deepcopy(ALL_KIND_OPTIONS)
    if session.get("fulfillment_details", {}).get("address"):
        # The merchant's default selection, as the spec's create example: item_ids are the Items' ids.
        session["selected_fulfillment_options"] = [
            {"type": "shipping", "option_id": "fulfillment_option_123", "item_ids": list(grouped)}
        ]
    else:
        session.pop("selected_fulfillment_options", None)
    session["messages"] = copy.deepcopy(ALL_KIND_MESSAGES) if CONTROL["messages"] == "all_kinds" else []
    session["status"] = "not_ready_for_payment"
    recompute(session)
    return session


def answer_session(session, op):
    body = copy.deepcopy(session)
    if CONTROL["handlers_on"] == "create" and op != "create":
        # As the spec's update/get/complete/cancel examples: no handler listed after create.
        body["capabilities"] = {
            "payment": {"handlers": []},
            "interventions": {"supported": [], "required": [], "enforcement": "conditional"},
        }
    return body


def do_create(req):
    session = new_session(req)
    SESSIONS[session["id"]] = session
    return 201, {}, answer_session(session, "create")


def check_selected(session, selected, base="$.selected_fulfillment_options"):
    option_ids = {o["id"] for o in session["fulfillment_options"]}
    item_ids = {line["item"]["id"] for line in session["line_items"]}
    line_ids = {line["id"] for line in session["line_items"]}
    for i, option in enumerate(selected):
        if option.get("option_id") not in option_ids:
            return f"{base}[{i}].option_id", f"Unknown fulfillment option {option.get('option_id')!r}"
        allowed = {"item": item_ids, "line": line_ids, "any": item_ids | line_ids}[CONTROL["item_ids"]]
        for j, item_id in enumerate(option.get("item_ids", [])):
            if item_id not in allowed:
                return f"{base}[{i}].item_ids[{j}]", f"Unknown item {item_id!r}"
    return None


def do_update(session_id, req):
    session = SESSIONS.get(session_id)
    if session is None:
        return error(404, "invalid_request", "not_found", "No such checkout session")
    if session["status"] in ("completed", "canceled"):
        return error(405, "invalid_request", "invalid_state", f"Session is {session['status']}")
    session["messages"] = [m for m in session["messages"] if m.get("code") != "invalid"]
    if "line_items" in req:
        grouped: dict[str, int] = {}
        for item in req["line_items"]:
            grouped[item["id"]] = grouped.get(item["id"], 0) + 1
        session["line_items"] = [line_for(i, q) for i, q in grouped.items()]
        for s in session.get("selected_fulfillment_options", []):
            s["item_ids"] = list(grouped)
    for field in ("buyer", "fulfillment_details"):
        if field in req:
            session[field] = req[field]
    if session.get("fulfillment_details", {}).get("address") and not session.get("selected_fulfillment_options"):
        session["selected_fulfillment_options"] = [
            {
                "type": "shipping",
                "option_id": "fulfillment_option_123",
                "item_ids": [line["item"]["id"] for line in session["line_items"]],
            }
        ]
    if "selected_fulfillment_options" in req:
        problem = check_selected(session, req["selected_fulfillment_options"])
        if problem:
            param, message = problem
            if CONTROL["bad_option"] == "error":
                return error(400, "invalid_request", "invalid", message, param)
            session["messages"].append(
                {"type": "error", "code": "invalid", "param": param, "content_type": "plain", "content": message}
            )
        else:
            session["selected_fulfillment_options"] = copy.deepcopy(req["selected_fulfillment_options"])
    recompute(session)
    return 200, {}, answer_session(session, "update")


def do_get(session_id):
    session = SESSIONS.get(session_id)
    if session is None:
        return error(404, "invalid_request", "not_found", "No such checkout session")
    return 200, {}, answer_session(session, "get")


def do_complete(session_id, req):
    session = SESSIONS.get(session_id)
    if session is None:
        return error(404, "invalid_request", "not_found", "No such checkout session")
    if session["status"] in ("completed", "canceled"):
        return error(405, "invalid_request", "invalid_state", f"Session is {session['status']}")
    if session["status"] == "authentication_required" and "authentication_result" not in req:
        return 400, {}, copy.deepcopy(EX["error_400_requires_3ds"])
    pd = req.get("payment_data", {})
    if pd.get("handler_id") != "card_tokenized":
        return error(400, "invalid_request", "invalid", "Unknown payment handler", "$.payment_data.handler_id")
    mode = CONTROL["complete"]
    if mode == "3ds" and "authentication_result" not in req:
        session["status"] = "authentication_required"
        session["authentication_metadata"] = copy.deepcopy(
            EX["checkout_session_authentication_required"]["authentication_metadata"]
        )
        return 400, {}, copy.deepcopy(EX["error_400_requires_3ds"])
    if mode == "declined":
        body = answer_session(session, "complete")
        body["messages"] = copy.deepcopy(EX["checkout_session_with_payment_declined"]["messages"])
        return 200, {}, body
    if mode == "price_change":
        for line in session["line_items"]:
            line["unit_amount"] = 330
            for t in line["totals"]:
                t["amount"] = int(t["amount"] * 1.1)
        recompute(session)
        body = answer_session(session, "complete")
        body["messages"] = [
            {
                "type": "warning",
                "code": "price_change",
                "param": "$.line_items[0]",
                "content_type": "plain",
                "content": "Prices changed",
                "resolution": "requires_buyer_review",
            }
        ]
        return 200, {}, body
    if mode in ("in_progress", "escalation", "pending_approval"):
        session["status"] = {
            "in_progress": "complete_in_progress",
            "escalation": "requires_escalation",
            "pending_approval": "pending_approval",
        }[mode]
        body = answer_session(session, "complete")
        if mode == "escalation":
            body["continue_url"] = f"https://merchant.example/checkout/{session_id}"
            body["messages"] = [
                {
                    "type": "error",
                    "code": "approval_required",
                    "resolution": "requires_buyer_input",
                    "content_type": "plain",
                    "content": "Please finish on our site.",
                }
            ]
        if mode == "in_progress":
            body["messages"] = [
                {"type": "info", "content_type": "plain", "content": "Your payment is being processed."}
            ]
        return 200, {}, body
    session["status"] = "completed"
    if "buyer" in req:
        session["buyer"] = req["buyer"]
    order_id = f"ord_{uuid.uuid4().hex[:10]}"
    session["order"] = {
        "id": order_id,
        "checkout_session_id": session_id,
        "order_number": "#1001",
        "client_reference_id": "chatgpt_txn_abc789",
        "permalink_url": f"https://www.testshop.com/orders/{order_id}",
        "confirmation": {"confirmation_number": "CNF-1001", "confirmation_email_sent": True},
    }
    return 200, {}, answer_session(session, "complete")


def do_cancel(session_id, req):
    session = SESSIONS.get(session_id)
    if session is None:
        return error(404, "invalid_request", "not_found", "No such checkout session")
    if session["status"] in ("completed", "canceled"):
        return error(405, "invalid_request", "invalid_state", f"Session is already {session['status']}")
    session["status"] = "canceled"
    session["messages"] = [{"type": "info", "content_type": "plain", "content": "Checkout session has been canceled."}]
    return 200, {}, answer_session(session, "cancel")


def do_delegate(req, idem_key):
    token = f"vt_{uuid.uuid4().hex[:14]}"
    TOKENS[token] = req
    body = copy.deepcopy(DP_EX["delegate_payment_success_response"])
    body["id"] = token
    body["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    body["metadata"] = {"source": "agent_checkout", "merchant_id": "acme_store", "idempotency_key": idem_key or ""}
    return 201, {}, body


def deep_merge(base, patch):
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(base)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = deep_merge(base.get(k), v)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, headers, body):
        raw = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def _handle(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        if path.startswith("/__"):
            return self._control(method, path, raw)
        entry = {
            "t": time.time(),
            "method": method,
            "path": path,
            "headers": dict(self.headers.items()),
            "raw": raw.decode("utf-8", "replace"),
        }
        with LOCK:
            LOG.append(entry)
        status, headers, body = self._route(method, path, raw, entry)
        entry["status"] = status
        entry["answer"] = body
        # our own answers must be the spec's shapes (they are the audit's yardstick)
        kind = None
        if status < 300 and isinstance(body, dict) and "line_items" in body:
            kind = "with_order" if body.get("status") == "completed" else "session"
        elif status < 300 and path.endswith("delegate_payment"):
            kind = "dp"
        elif status >= 400:
            kind = "dp_error" if "delegate_payment" in path else "error"
        if kind:
            problems = [
                f"{list(e.absolute_path)}: {e.message[:100]}" for e in RESPONSE_VALIDATORS[kind].iter_errors(body)
            ]
            if problems:
                SELF_CHECK.append({"path": path, "status": status, "problems": problems[:3]})
        rid = self.headers.get("Request-Id")
        if rid:
            headers["Request-Id"] = rid
        self._send(status, headers, body)

    def _op(self, method, path):
        parts = [p for p in path.split("/") if p]
        if parts == ["checkout_sessions"] and method == "POST":
            return "create", None
        if len(parts) == 2 and parts[0] == "checkout_sessions":
            return ("update" if method == "POST" else "get"), parts[1]
        if (
            len(parts) == 3
            and parts[0] == "checkout_sessions"
            and parts[2] in ("complete", "cancel")
            and method == "POST"
        ):
            return parts[2], parts[1]
        if parts == ["agentic_commerce", "delegate_payment"] and method == "POST":
            return "delegate", None
        return None, None

    def _route(self, method, path, raw, entry):
        op, sid = self._op(method, path)
        dp = op == "delegate"
        if op is None:
            return error(404, "invalid_request", "not_found", f"No route {method} {path}")
        auth = self.headers.get("Authorization", "")
        if auth != f"Bearer {TOKEN}":
            return error(401, "invalid_request", "unauthorized", "Bad bearer token")
        version = self.headers.get("API-Version")
        if version not in VERSIONS:
            return error(
                400,
                "invalid_request",
                "missing_api_version" if not version else "unsupported_api_version",
                f"API version {version!r} is not supported",
                supported_versions=VERSIONS,
            )
        req = {}
        if raw:
            try:
                req = json.loads(raw)
            except ValueError:
                return error(400, "invalid_request", "invalid_card" if dp else "invalid", "Body is not JSON")
        if method == "POST" and op in VALIDATORS:
            entry["schema_errors"] = [
                f"{list(e.absolute_path)}: {e.message[:140]}" for e in VALIDATORS[op].iter_errors(req)
            ]
        key = self.headers.get("Idempotency-Key")
        idem = None
        if method == "POST":
            if not key:
                return 400, {}, copy.deepcopy(EX["error_400_idempotency_key_required"])
            if len(key) > 255:
                return error(400, "invalid_request", "invalid_card" if dp else "invalid", "Idempotency-Key too long")
            idem = (auth, path, key)
            fp = canonical(req)
            with LOCK:
                stored = IDEM.get(idem)
                if stored is not None:
                    if stored["fp"] != fp:
                        return 422, {"Idempotency-Key": key}, copy.deepcopy(EX["error_422_idempotency_conflict"])
                    return (
                        stored["status"],
                        {**stored["headers"], "Idempotent-Replayed": "true", "Idempotency-Key": key},
                        copy.deepcopy(stored["body"]),
                    )
                if idem in IN_FLIGHT:
                    return (
                        409,
                        {"Retry-After": "1", "Idempotency-Key": key},
                        copy.deepcopy(EX["error_409_idempotency_in_flight"]),
                    )
                IN_FLIGHT.add(idem)
        try:
            with LOCK:
                queued = CONTROL["queue"].get(op) or []
                scripted = queued.pop(0) if queued else None
            if scripted and scripted.get("delay"):
                time.sleep(scripted["delay"])
            with LOCK:
                if scripted and "body" in scripted:
                    status, headers, body = (
                        scripted.get("status", 200),
                        dict(scripted.get("headers", {})),
                        copy.deepcopy(scripted["body"]),
                    )
                else:
                    status, headers, body = {
                        "create": lambda: do_create(req),
                        "update": lambda: do_update(sid, req),
                        "get": lambda: do_get(sid),
                        "complete": lambda: do_complete(sid, req),
                        "cancel": lambda: do_cancel(sid, req),
                        "delegate": lambda: do_delegate(req, key),
                    }[op]()
                    if scripted:
                        if "patch" in scripted:
                            body = deep_merge(body, scripted["patch"])
                        status = scripted.get("status", status)
                        headers.update(scripted.get("headers", {}))
            if method == "POST":
                headers["Idempotency-Key"] = key
                if status < 500 and status not in (429, 409):
                    with LOCK:
                        IDEM[idem] = {
                            "fp": canonical(req),
                            "status": status,
                            "headers": dict(headers),
                            "body": copy.deepcopy(body),
                        }
            return status, headers, body
        finally:
            if idem is not None:
                with LOCK:
                    IN_FLIGHT.discard(idem)

    def _control(self, method, path, raw):
        global CONTROL
        with LOCK:
            if path == "/__log":
                return self._send(200, {}, {"log": LOG, "self_check": SELF_CHECK})
            if path == "/__sessions":
                return self._send(200, {}, SESSIONS)
            if path == "/__reset":
                CONTROL = copy.deepcopy(DEFAULT_CONTROL)
                LOG.clear()
                SELF_CHECK.clear()
                return self._send(200, {}, {"ok": True})
            if path == "/__control":
                CONTROL.update(json.loads(raw or b"{}"))
                return self._send(200, {}, CONTROL)
        return self._send(404, {}, {"error": "no such control"})


def start(port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve on a free local port in a daemon thread; returns the server (`.shutdown()` it) and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def control(url: str, **values: object) -> None:
    """Merge `values` into the served merchant's CONTROL (its answers; see the keys above)."""
    import urllib.request

    request = urllib.request.Request(f"{url}/__control", data=json.dumps(values).encode(), method="POST")
    urllib.request.urlopen(request, timeout=5).read()


def reset() -> None:
    """Back to the default answers, with an empty request log, sessions and idempotency store."""
    global CONTROL
    with LOCK:
        CONTROL = copy.deepcopy(DEFAULT_CONTROL)
        LOG.clear()
        SELF_CHECK.clear()
        SESSIONS.clear()
        IDEM.clear()


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else PORT
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"spec merchant on 127.0.0.1:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
