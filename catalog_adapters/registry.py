"""The registry of configured merchants: `get_merchant("sandbox").checkout.complete(...)`.

Merchants come from `settings.MERCHANTS` (built from `MERCHANT_<ID>_*` environment variables by
config/settings/merchants.py). One `Merchant` per id and process holds one HTTP client, hence one
pooled connection set, shared by its capabilities.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.core.signals import setting_changed

from catalog_adapters.contract import Catalog, Checkout, Orders, PaymentVault
from catalog_adapters.errors import CapabilityNotSupported, UnknownMerchant


@dataclass(frozen=True)
class MerchantConfig:
    id: str
    base_url: str
    token: str = field(repr=False)
    api_version: str
    webhook_secret: str = field(repr=False)
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    max_attempts: int = 3
    backoff_base: float = 0.25
    backoff_cap: float = 4.0
    retry_after_cap: float = 5.0
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    rate_limit: float = 100.0
    rate_limit_burst: float = 0.0  # 0: the rate
    rate_limit_lease: int = 0  # 0: a tenth of the rate
    rate_limit_max_wait: float = 2.0
    # Signs every request (Signature/Timestamp) when set; MERCHANT_<ID>_SIGNING_KEY. Never logged.
    signing_key: str = field(default="", repr=False)
    capabilities: tuple[str, ...] = ("catalog", "checkout", "vault", "orders")
    # A test merchant taking no real payments (MERCHANT_<ID>_SANDBOX; the built-in sandbox is one).
    sandbox: bool = False

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> MerchantConfig:
        return cls(
            id=values["ID"],
            base_url=values["BASE_URL"].rstrip("/"),
            token=values.get("TOKEN", ""),
            api_version=values.get("API_VERSION", "2026-04-17"),
            webhook_secret=values.get("WEBHOOK_SECRET", ""),
            connect_timeout=float(values.get("CONNECT_TIMEOUT", 3.05)),
            read_timeout=float(values.get("READ_TIMEOUT", 10.0)),
            max_attempts=int(values.get("MAX_ATTEMPTS", 3)),
            backoff_base=float(values.get("BACKOFF_BASE", 0.25)),
            backoff_cap=float(values.get("BACKOFF_CAP", 4.0)),
            retry_after_cap=float(values.get("RETRY_AFTER_CAP", 5.0)),
            breaker_threshold=int(values.get("BREAKER_THRESHOLD", 5)),
            breaker_cooldown=float(values.get("BREAKER_COOLDOWN", 30.0)),
            rate_limit=float(values.get("RATE_LIMIT", 100.0)),
            rate_limit_burst=float(values.get("RATE_LIMIT_BURST", 0.0)),
            rate_limit_lease=int(values.get("RATE_LIMIT_LEASE", 0)),
            rate_limit_max_wait=float(values.get("RATE_LIMIT_MAX_WAIT", 2.0)),
            signing_key=values.get("SIGNING_KEY", ""),
            capabilities=tuple(values.get("CAPABILITIES", ("catalog", "checkout", "vault", "orders"))),
            # The built-in sandbox is one even when a configuration (a test's) leaves the flag out.
            sandbox=bool(values.get("SANDBOX", values["ID"] == "sandbox")),
        )


class Merchant:
    """One configured merchant and its capabilities. Asking for a capability it lacks raises."""

    def __init__(self, config: MerchantConfig) -> None:
        from catalog_adapters.acp import AcpCatalog, AcpCheckout, AcpOrders, AcpPaymentVault
        from catalog_adapters.http import MerchantHttpClient

        self.config = config
        self.id = config.id
        self.http = MerchantHttpClient(config)
        self._catalog = AcpCatalog(self.http)
        self._checkout = AcpCheckout(self.http)
        self._vault = AcpPaymentVault(self.http)
        self._orders = AcpOrders(self.http)

    def supports(self, capability: str) -> bool:
        return capability in self.config.capabilities

    def _require(self, name: str) -> None:
        if not self.supports(name):
            raise CapabilityNotSupported(f"merchant {self.id!r} does not offer {name!r} (MERCHANT_*_CAPABILITIES)")

    @property
    def catalog(self) -> Catalog:
        self._require("catalog")
        return self._catalog

    @property
    def checkout(self) -> Checkout:
        self._require("checkout")
        return self._checkout

    @property
    def vault(self) -> PaymentVault:
        self._require("vault")
        return self._vault

    @property
    def orders(self) -> Orders:
        self._require("orders")
        return self._orders

    def close(self) -> None:
        self.http.close()

    def __repr__(self) -> str:
        return f"<Merchant {self.id} {self.config.base_url}>"


_merchants: dict[str, Merchant] = {}
_lock = threading.Lock()


def merchant_ids() -> list[str]:
    return list(settings.MERCHANTS)


def get_merchant_config(merchant_id: str) -> MerchantConfig:
    try:
        values = settings.MERCHANTS[merchant_id]
    except KeyError:
        raise UnknownMerchant(f"no merchant {merchant_id!r} is configured (MERCHANT_<ID>_BASE_URL)") from None
    return MerchantConfig.from_settings({**values, "ID": merchant_id})


def merchant_is_sandbox(merchant_id: str) -> bool:
    """Whether the merchant takes no real payments (rollout phase 0 places orders only with these)."""
    try:
        return get_merchant_config(merchant_id).sandbox
    except UnknownMerchant:
        return False


def get_merchant(merchant_id: str | None = None) -> Merchant:
    """The merchant with this id (default: settings.DEFAULT_MERCHANT_ID), built once per process."""
    merchant_id = merchant_id or settings.DEFAULT_MERCHANT_ID
    merchant = _merchants.get(merchant_id)
    if merchant is not None:
        return merchant
    config = get_merchant_config(merchant_id)
    with _lock:
        merchant = _merchants.get(merchant_id)
        if merchant is None:
            merchant = _merchants[merchant_id] = Merchant(config)
        return merchant


def reset_merchants() -> None:
    """Forget built merchants (their sessions close), so the next lookup reads settings again."""
    with _lock:
        for merchant in _merchants.values():
            merchant.close()
        _merchants.clear()


def _on_setting_changed(*, setting: str, **_: object) -> None:
    if setting in ("MERCHANTS", "DEFAULT_MERCHANT_ID"):
        reset_merchants()


setting_changed.connect(_on_setting_changed)


def register_merchant_for_tests(merchant_id: str, merchant: object | None) -> None:
    """Tests only: from now on `get_merchant(merchant_id)` returns `merchant` (an object offering the
    contract's capabilities, e.g. tests/support/fake_merchant.py); `None` forgets it again. A reset of
    the registry (a change to settings.MERCHANTS) forgets it too."""
    with _lock:
        if merchant is None:
            _merchants.pop(merchant_id, None)
        else:
            # A stand-in offers the contract's capabilities; what only a real Merchant has (`http`) it lacks.
            _merchants[merchant_id] = cast(Merchant, merchant)
