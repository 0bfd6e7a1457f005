"""Our client for the sandbox shop's control API (a sandbox extension, docs/sandbox-merchant.md).

The evaluation (and tests of our side) reach the sandbox only over HTTP, as they would any shop: the
merchant contract for what a shop does, and this for what only the sandbox offers (put the demo shop
back, set stock, list its orders with the card each charged). It uses the merchant's configuration
(`settings.MERCHANTS[merchant_id]`: base URL, bearer token, API version) and nothing of the sandbox's code.

`ShopControl` is what the evaluation's runner (ordering/evaluation/tasks.py) needs of it: `SandboxControl`
is the implementation over HTTP (`make eval`, the end-to-end tests); the test suite's in-memory fake
merchant offers the same over its own state (tests/support/fake_merchant.py, `FakeControl`), so the
corpus gate can run without a live server. The runner is handed one; it never asks which.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import requests

from catalog_adapters.registry import get_merchant_config


class SandboxControlError(RuntimeError):
    """The control API answered something other than success (or could not be reached)."""


@dataclass(frozen=True)
class SandboxOrder:
    """An order as the sandbox's control API lists it: what ACP's order does not carry (the card charged)."""

    id: str
    checkout_session_id: str
    customer: str | None
    status: str
    currency: str
    total: int
    card_brand: str
    card_last4: str
    vault_reference: str


@dataclass(frozen=True)
class SandboxToken:
    """A payment token delegated to the sandbox, and whether it was spent (an order) or revoked."""

    id: str
    checkout_session_id: str
    vault_reference: str
    max_amount: int
    currency: str
    used: bool
    revoked: bool


class ShopControl(Protocol):
    """A demo shop's controls beyond the merchant contract, as the evaluation uses them."""

    def reset(self, *, full: bool = False) -> object:
        """The demo shop as seeded: no stock held, no faults, the demo stock, prices and saved items."""
        ...

    def set_stock(self, stock: dict[str, int]) -> None:
        """Units on hand per variant id; an unknown variant id raises SandboxControlError and nothing changes."""
        ...

    def orders(self, *, customer: str = "") -> list[SandboxOrder]:
        """The orders the shop took (of its customer `customer`, or all), newest first."""
        ...

    def order(self, order_id: str) -> SandboxOrder | None: ...


class SandboxControl:
    def __init__(self, merchant_id: str = "sandbox", *, timeout: float = 60.0) -> None:
        config = get_merchant_config(merchant_id)
        self.base_url = f"{config.base_url}/sandbox"
        self._headers = {"Authorization": f"Bearer {config.token}", "API-Version": config.api_version}
        self.timeout = timeout

    def _call(self, method: str, path: str, *, json: dict | None = None, params: dict | None = None) -> dict:
        headers = dict(self._headers)
        if method == "POST":
            headers["Idempotency-Key"] = f"control-{uuid.uuid4().hex}"
        try:
            response = requests.request(
                method, f"{self.base_url}/{path}", json=json, params=params, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise SandboxControlError(f"{method} sandbox/{path}: {error}") from error
        if response.status_code != 200:
            raise SandboxControlError(f"{method} sandbox/{path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def reset(self, *, full: bool = False) -> dict:
        """The demo shop as seeded: no held stock, no faults, demo stock, prices and saved items (`full`:
        the whole demo seed, catalog and customers included)."""
        return self._call("POST", "reset", json={"full": full})

    def set_stock(self, stock: dict[str, int]) -> None:
        """Units on hand per variant id (an unknown variant id raises, and nothing changes)."""
        self._call("POST", "stock", json={"stock": {variant_id: int(units) for variant_id, units in stock.items()}})

    def orders(self, *, customer: str = "") -> list[SandboxOrder]:
        """The orders the sandbox took (of its customer `customer`, or all), newest first."""
        body = self._call("GET", "orders", params={"customer": customer} if customer else None)
        return [
            SandboxOrder(
                id=row["id"],
                checkout_session_id=row["checkout_session_id"],
                customer=row.get("customer"),
                status=row["status"],
                currency=row["currency"],
                total=int(row["total"]),
                card_brand=row["payment"]["brand"],
                card_last4=row["payment"]["last4"],
                vault_reference=row["payment"]["vault_reference"],
            )
            for row in body["data"]
        ]

    def tokens(self, *, checkout_session_id: str = "") -> list[SandboxToken]:
        """The payment tokens delegated to the sandbox (for one checkout session, or all), oldest first."""
        params = {"checkout_session_id": checkout_session_id} if checkout_session_id else None
        return [SandboxToken(**row) for row in self._call("GET", "tokens", params=params)["data"]]

    def order(self, order_id: str) -> SandboxOrder | None:
        return next((order for order in self.orders() if order.id == order_id), None)
