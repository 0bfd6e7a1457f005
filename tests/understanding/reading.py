"""Helpers the reader's tests share: a message read in a context, and the lines an AddItems reading asks for."""

from __future__ import annotations

from ordering.agent.commands import AddItems, CartLine, DialogueContext, Option, PendingQuestion
from ordering.agent.understand import OfflineGenerator


def read(generator: OfflineGenerator, text: str, context: DialogueContext | None = None) -> list:
    return list(generator.generate(text=text, context=context or DialogueContext()))


def lines(commands: list) -> list[tuple]:
    """(product, colour, size, quantity) of each item added; the product ids when more than one may be meant."""
    return [
        (item.product_ids[0] if len(item.product_ids) == 1 else item.product_ids, item.colour, item.size, item.quantity)
        for command in commands
        if isinstance(command, AddItems)
        for item in command.items
    ]


def totals(commands: list) -> dict[tuple, int]:
    """How many of each (product, colour, size) the AddItems ask for in all, whatever the lines: "one for me and one
    for my brother" may be one item of two or one item each with its person."""
    counted: dict[tuple, int] = {}
    for product, colour, size, quantity in lines(commands):
        counted[(product, colour, size)] = counted.get((product, colour, size), 0) + (quantity or 1)
    return counted


def cart_line(variant: str, product: str, colour: str | None = None, size: str | None = None, quantity: int = 1):
    """A line of the cart as the reader's context holds it (the title is the product id: the reader reads no titles)."""
    return CartLine(variant_id=variant, product_id=product, title=product, colour=colour, size=size, quantity=quantity)


def at_preview(*cart: CartLine) -> DialogueContext:
    """A preview waiting for the customer's yes, of these cart lines."""
    return DialogueContext(cart=tuple(cart), awaiting_confirmation=True)


def asked(slot: str, product: str, title: str, *values: str, cart: tuple[CartLine, ...] = ()) -> DialogueContext:
    """The assistant's open question about one product (its size or colour), with the values it offered."""
    return DialogueContext(
        cart=cart,
        pending=PendingQuestion(
            slot=slot, product_id=product, title=title, options=tuple(Option(value=v, label=v) for v in values)
        ),
    )
