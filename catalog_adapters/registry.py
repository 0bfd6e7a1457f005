"""The registry of configured merchants: `get_merchant("sandbox").checkout.complete(...)`.

Merchants come from `settings.MERCHANTS` (built from `MERCHANT_<ID>_*` environment variables by
config/settings/merchants.py). One `Merchant` per id and process holds one HTTP client, hence one
pooled connection set, shared by its capabilities.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed

from catalog_adapters.contract import Catalog, Checkout, CheckoutSession, Orders, PaymentVault
from catalog_adapters.errors import CapabilityNotSupported, UnknownMerchant

logger = logging.getLogger(__name__)

DEFAULT_CAPABILITIES = ("catalog", "checkout", "vault", "orders")
# Revoking a delegated token (POST /agentic_commerce/delegate_payment/{id}/revoke) is the sandbox's extension: ACP
# has no such endpoint, a token is bounded by its allowance (max amount, one checkout session, expiry). Offered by
# the built-in sandbox, and by a merchant whose MERCHANT_<ID>_CAPABILITIES lists it.
TOKEN_REVOKE = "token_revoke"  # noqa: S105 - a capability's name, not a secret
# How long the payment handlers a merchant listed for a session are kept for its later answers (a session lives
# minutes to hours; a flow waiting for a person keeps its session longer).
HANDLERS_KEPT_SECONDS = 7 * 24 * 3600


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
    capabilities: tuple[str, ...] = DEFAULT_CAPABILITIES
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
            capabilities=_capabilities(values),
            # The built-in sandbox is one even when a configuration (a test's) leaves the flag out.
            sandbox=bool(values.get("SANDBOX", values["ID"] == "sandbox")),
        )


def _capabilities(values: dict[str, Any]) -> tuple[str, ...]:
    capabilities = tuple(values.get("CAPABILITIES", DEFAULT_CAPABILITIES))
    # The built-in sandbox serves the token revoke extension (docs/sandbox-merchant-wire.md) with its vault.
    if values["ID"] == "sandbox" and "vault" in capabilities and TOKEN_REVOKE not in capabilities:
        capabilities += (TOKEN_REVOKE,)
    return capabilities


# The handler lists this process wrote last, by cache key (a few thousand sessions at most).
_WRITTEN: collections.OrderedDict[str, Any] = collections.OrderedDict()
_WRITTEN_MAX = 4096


class HandlersKeptCheckout:
    """The checkout capability, keeping the payment handlers a merchant listed for a session for its later answers.

    The spec's examples list `capabilities.payment.handlers` only on the create answer; update, get, complete and
    cancel answer `"handlers": []`. Every answer that lists some is kept (in the shared cache, for every process:
    the web process creates the session, a worker pays it), and an answer listing none carries the latest list kept
    for that session, so the saga negotiates from the latest non-empty list. `raw` stays the wire as received.
    """

    def __init__(self, merchant_id: str, checkout: Checkout) -> None:
        self._merchant_id = merchant_id
        self._checkout = checkout

    def _key(self, session_id: str) -> str:
        return f"acp:payment_handlers:{self._merchant_id}:{session_id}"

    def _kept(self, session: CheckoutSession) -> CheckoutSession:
        from catalog_adapters.acp import payment_handler_from_wire

        if not isinstance(session, CheckoutSession) or not session.id:
            return session
        try:
            if session.payment_handlers:
                wire = ((session.raw.get("capabilities") or {}).get("payment") or {}).get("handlers")
                key = self._key(session.id)
                if wire and _WRITTEN.get(key) != wire:
                    # a merchant that lists them on every answer (the sandbox) is written once per session and
                    # process, not once per answer (a cache round trip on every merchant call of a placement)
                    caches["default"].set(key, list(wire), HANDLERS_KEPT_SECONDS)
                    _WRITTEN[key] = wire
                    while len(_WRITTEN) > _WRITTEN_MAX:
                        _WRITTEN.popitem(last=False)
                return session
            kept = caches["default"].get(self._key(session.id))
            if not kept:
                return session
            handlers = tuple(payment_handler_from_wire(handler) for handler in kept)
        except Exception:
            # The cache is a convenience: without it the session is what the merchant answered.
            logger.warning("payment handlers not kept", extra={"merchant": self._merchant_id}, exc_info=True)
            return session
        capabilities = dataclasses.replace(session.capabilities, payment_handlers=handlers)
        return dataclasses.replace(session, capabilities=capabilities)

    def create(self, **kwargs: Any) -> CheckoutSession:
        return self._kept(self._checkout.create(**kwargs))

    def update(self, **kwargs: Any) -> CheckoutSession:
        return self._kept(self._checkout.update(**kwargs))

    def get(self, **kwargs: Any) -> CheckoutSession:
        return self._kept(self._checkout.get(**kwargs))

    def complete(self, **kwargs: Any) -> CheckoutSession:
        return self._kept(self._checkout.complete(**kwargs))

    def cancel(self, **kwargs: Any) -> CheckoutSession:
        return self._kept(self._checkout.cancel(**kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._checkout, name)


class Merchant:
    """One configured merchant and its capabilities. Asking for a capability it lacks raises."""

    def __init__(self, config: MerchantConfig) -> None:
        from catalog_adapters.acp import AcpCatalog, AcpCheckout, AcpOrders, AcpPaymentVault
        from catalog_adapters.http import MerchantHttpClient

        self.config = config
        self.id = config.id
        self.http = MerchantHttpClient(config)
        self._catalog = AcpCatalog(self.http)
        self._checkout = cast(Checkout, HandlersKeptCheckout(config.id, AcpCheckout(self.http)))
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


def merchant_offers(merchant_id: str, capability: str) -> bool:
    """Whether the configured merchant offers `capability` (e.g. TOKEN_REVOKE); False for one not configured."""
    try:
        return capability in get_merchant_config(merchant_id).capabilities
    except UnknownMerchant:
        return False


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
