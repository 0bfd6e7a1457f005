"""Helpers the conversation tests share: what an answer to a message says, and the lines its preview shows."""

from __future__ import annotations


def texts(answer: dict) -> str:
    """Every message of the answer, customer's and assistant's, as one text."""
    return " ".join(message["text"] for message in answer["messages"])


def preview_lines(answer: dict) -> list[tuple[str, int]]:
    """The lines of the last preview this answer shows (its card's editable lines), or none."""
    previews = [message for message in answer["messages"] if message["kind"] == "preview"]
    return [(line["variant_id"], line["quantity"]) for line in previews[-1]["cart_edit"]] if previews else []


def ordered_lines(shop) -> list[tuple[str, int]]:
    """(variant, quantity) of each line of the one order the fake merchant holds, sorted."""
    [order] = shop.sandbox.order_records.values()
    return sorted((line["item"]["id"], line["quantity"]) for line in order.line_items)
