"""What every tool is made of: its spec, a call and its result, and the two ways a tool fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catalog_adapters.errors import MerchantError, MerchantIdInvalid

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ordering.agent.turn import Turn

_LETTER_SIZES = {name: rank for rank, name in enumerate(("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"))}


def sizes_in_order(sizes: Iterable[str]) -> list[str]:
    """A product's sizes as a person reads them: S, M, L, XL (not L, M, S, XL), 40.5 after 40, one-size last."""

    def key(size: str) -> tuple[int, float, str]:
        if size.upper() in _LETTER_SIZES:
            return (0, _LETTER_SIZES[size.upper()], size)
        try:
            return (1, float(size), size)
        except ValueError:
            return (2, 0.0, size)

    return sorted(set(sizes), key=key)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict  # JSON Schema of the arguments
    handler: Callable[[Turn, dict], ToolResult]


@dataclass
class ToolCall:
    name: str
    arguments: dict
    rationale: str = ""


@dataclass
class ToolResult:
    ok: bool
    data: dict  # JSON-safe facts for the model, never instructions
    say: str | None = None  # server-rendered text for the customer
    error: str | None = None
    # Structured content for the customer's message when `say` is posted (product cards, the preview).
    message_data: dict | None = field(default=None, repr=False)
    # The shop failed to answer (catalog_adapters' error class): counted as a failure of the tool's step
    # (ordering_turn_step_failures_total). Not for the model: `data` says what it needs.
    shop_error_class: str | None = field(default=None, repr=False)


def failed(error: str, **data: Any) -> ToolResult:
    return ToolResult(ok=False, data=data, error=error)


def merchant_failed(error: MerchantError) -> ToolResult:
    if isinstance(error, MerchantIdInvalid):
        # An id from the customer or the model that no shop uses: refused before anything was sent.
        return failed(
            "That is not an id the shop uses (only letters, digits, '_' and '-'); nothing was looked up.",
            error_class=error.error_class,
            code=error.code,
        )
    result = failed("The shop did not answer properly; please try again in a moment.", error_class=error.error_class)
    result.shop_error_class = error.error_class
    return result
