"""Named errors of the conversation API (mapped to HTTP once, in ordering/api.py)."""

from __future__ import annotations

from ordering.errors import OrderingError


class ConversationNotFound(OrderingError):
    """No such conversation for this customer (another customer's is "not found", never "forbidden")."""

    code = "conversation_not_found"
    http_status = 404


class TurnNotFound(OrderingError):
    """No such turn in this customer's conversation."""

    code = "turn_not_found"
    http_status = 404


class TurnInProgress(OrderingError):
    """The assistant is still answering an earlier message of this conversation (or this very one)."""

    code = "turn_in_progress"
    http_status = 409


class NothingToConfirm(OrderingError):
    """The conversation has no order preview waiting for a decision."""

    code = "nothing_to_confirm"
    http_status = 409
