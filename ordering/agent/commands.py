"""Commands: what a customer's message asks for, as data, whoever read it.

A command generator (the offline one grounded in the merchant's catalog, `ordering.agent.understand`,
or a language model, `ordering.agent.llm`) turns one message into a list of commands; the policy
(`ordering.agent.policy`) executes them with the tools. The generator never acts and never decides
that an order may be placed: it only says what it read. The pattern is Rasa CALM's command generator
(start flow / set slot / cancel / clarify / chit-chat / human hand-off / cannot handle).

Every command is a frozen dataclass with a `kind`; `command_to_dict` / `command_from_dict` are the
wire form (the LLM's tool arguments, the widget's structured posts, the evaluation corpus), checked
against `COMMAND_SCHEMA` (JSON Schema) before the policy sees it. A value the shop may not sell (a
quantity of 0, -2 or 10000) is still carried as the customer said it: the policy refuses it in words,
it is never clamped or replaced here.

Reference to a product (`ItemSpec`): the generator fills what it read. `product_ids` are catalog
matches the generator is sure of (best first; several means "one of these", the policy asks which);
`query` is the customer's words for the thing when no product was resolved (the policy searches).
`saved` points at the customer's liked / viewed / purchased items ("the shoes I liked last week").
"""

from __future__ import annotations

import functools
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar, Literal

import jsonschema

SavedKind = Literal["liked", "viewed", "purchased"]
Slot = Literal["size", "colour", "quantity", "product"]
Aspect = Literal["price", "availability", "sizes", "colours", "details"]
Which = Literal["current", "last", "all"]
Sort = Literal["relevance", "price_asc", "price_desc"]

MAX_ITEMS_PER_COMMAND = 10


@dataclass(frozen=True)
class ItemSpec:
    """One thing the customer named: a product (resolved or in words) with the variant and quantity asked."""

    product_ids: tuple[str, ...] = ()
    query: str = ""
    category: str | None = None
    colour: str | None = None
    size: str | None = None  # the shop's own size label ("42", "M"), after any US/UK → EU conversion
    # A size said but not mapped for sure ("size 9" for shoes: US 9 is EU 42, UK 9 is EU 43): the words as
    # said, and the shop sizes it could be; the policy asks which, naming them.
    size_said: str | None = None
    size_options: tuple[str, ...] = ()
    quantity: int | None = None  # None: not said (one); anything said is kept as said, even 0 or -2
    saved: SavedKind | None = None
    since_days: int | None = None
    # The line of the cart this refers to, when the customer points at one ("the socks", "the second item").
    variant_id: str | None = None
    # With `saved`: every saved item that fits ("everything on my wishlist", "all the shoes I liked"), not one of them.
    every: bool | None = None
    # With `saved`: the size next to the one saved or bought, +1 bigger or -1 smaller ("the runners I liked, size up").
    size_step: int | None = None
    # What to take when the size or colour asked is not in stock or not made ("42, or 43 if the 42s are gone", "the
    # green ones, if not the black"): the policy takes it then and says so; the shop's stock decides, never a guess.
    otherwise_size: str | None = None
    otherwise_colour: str | None = None
    # And for a count the shop may not have ("2 pairs if they're in stock, if not just one"): the count to take then;
    # with `up_to`, as many as the shop has up to `quantity` ("4 if you have them, otherwise however many you've got").
    otherwise_quantity: int | None = None
    up_to: bool | None = None
    # Only while the whole order stays within this many cents, as the shop totals it ("and a blue cap as long as it all
    # stays under 100"): the policy leaves the thing out, and says so, when the preview with it comes to more.
    within_total: int | None = None
    # Another thing to take only when the one said before it cannot be had as said ("the gloves in S, or if they're
    # out a grey beanie instead", "the headphones if they're under 150, if not the earbuds"): sold out, not made so,
    # or over the price said. Otherwise it is left out.
    instead_of_previous: bool | None = None
    # Who the thing is for, as said ("me", "him", "her", "son", "wife"): "navy M for me, grey L for him" adds two lines
    # with their people, and "make his an L" or "drop hers" later points at the line by its person.
    person: str | None = None

    def describe(self) -> str:
        return self.query or ", ".join(self.product_ids) or (self.saved or "")


class Command:
    kind: ClassVar[str]
    # Commands that change the cart or its choices; after them the policy shows a fresh preview.
    changes_cart: ClassVar[bool] = False


# -- the cart -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddItems(Command):
    """Put one or more things in the cart ("2 pairs of the blue runners in 42 and a cap")."""

    kind: ClassVar[str] = "add_items"
    changes_cart: ClassVar[bool] = True
    items: tuple[ItemSpec, ...] = ()


@dataclass(frozen=True)
class SetSlot(Command):
    """Set or correct one attribute: an answer to a question ("43", "the grey one") or a repair
    ("actually size 43", "make it 2", "make it the Trail Blazer"). `target` says which cart line when
    the customer named one; otherwise the line under discussion (the pending question's, or the only or
    last-added line)."""

    kind: ClassVar[str] = "set_slot"
    changes_cart: ClassVar[bool] = True
    slot: Slot = "size"
    value: str = ""
    target: ItemSpec | None = None
    correction: bool = False  # the customer said it as a change ("actually", "instead", "make it")
    # A quantity value "+2": that many more than the line has ("2 more" about a cart of several things). A size value
    # "-1" / "+1": the size next to the line's that way ("make the kid's one smaller"; the policy knows the sizes).
    # A size or colour value "=<person>": that person's line's ("make hers the same size as mine": "=me", target
    # person "her").


@dataclass(frozen=True)
class Select(Command):
    """Pick one of the options the assistant just offered: by position (0-based, -1 = last), by value, or by
    price ("the cheaper one": `price="lowest"`; "the most expensive": `"highest"`). The price is compared by the
    policy with the shop's prices of the options; the reader never knows or decides one."""

    kind: ClassVar[str] = "select"
    changes_cart: ClassVar[bool] = True
    index: int | None = None
    value: str = ""  # a product id, size or colour among the offered options
    price: Literal["", "lowest", "highest"] = ""


@dataclass(frozen=True)
class RemoveItem(Command):
    """Take a line out ("remove the socks"); no target: the only line, or ask which. By price ("drop the most
    expensive thing": `price="highest"`; "take the cheapest one out": `"lowest"`): the policy compares the shop's
    prices of the cart's lines, and asks which when two tie; the reader never knows or decides a price."""

    kind: ClassVar[str] = "remove_item"
    changes_cart: ClassVar[bool] = True
    target: ItemSpec | None = None
    price: Literal["", "lowest", "highest"] = ""


@dataclass(frozen=True)
class ShowCart(Command):
    """ "What's in my cart?" (also "show my order", "preview"): the current preview, shown again."""

    kind: ClassVar[str] = "show_cart"


@dataclass(frozen=True)
class ClearCart(Command):
    """ "Empty my cart", "start over": the cart goes, nothing is ordered."""

    kind: ClassVar[str] = "clear_cart"


@dataclass(frozen=True)
class Undo(Command):
    """ "Undo that", "put it back how it was", "remove what I just added": the cart's items as they were before
    its last change (`what="added"`: the words named what was just added; with no change to undo, that line)."""

    kind: ClassVar[str] = "undo"
    changes_cart: ClassVar[bool] = True
    what: Literal["change", "added"] = "change"


# -- choices -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyCode(Command):
    kind: ClassVar[str] = "apply_code"
    changes_cart: ClassVar[bool] = True
    code: str = ""


@dataclass(frozen=True)
class RemoveCode(Command):
    """ "Remove the code", "take SAVE10 off": a code comes off the order (no code named: every code)."""

    kind: ClassVar[str] = "remove_code"
    changes_cart: ClassVar[bool] = True
    code: str = ""


@dataclass(frozen=True)
class UseMyPromotion(Command):
    """ "My 10% promo", "my discount": the customer's personal promotion (the policy looks it up). With `about`, a
    promotion named by what it is for ("the running shoe one", after the codes were listed): the one, personal or open
    to everyone, whose shop's description says so."""

    kind: ClassVar[str] = "use_my_promotion"
    changes_cart: ClassVar[bool] = True
    percent: int | None = None
    about: str = ""


@dataclass(frozen=True)
class ListPromotions(Command):
    """ "Do I have any coupons?", "what discounts are there?"; with `code`, a question about that code ("what does
    BIG20 give me?"): answered, never applied."""

    kind: ClassVar[str] = "list_promotions"
    code: str = ""


@dataclass(frozen=True)
class AccountInfo(Command):
    """ "Which cards do you have for me?", "which card is this going on?", "what's my work address?": the customer's
    saved cards or addresses, and the ones this order uses. Nothing changes."""

    kind: ClassVar[str] = "account_info"
    topic: Literal["cards", "addresses"] = "cards"


@dataclass(frozen=True)
class ChooseCard(Command):
    kind: ClassVar[str] = "choose_card"
    changes_cart: ClassVar[bool] = True
    last4: str | None = None
    brand: str | None = None
    # "My usual card", "my normal card", "my default card": the customer's default saved card; with `brand` ("my usual
    # visa"), that brand's default or only card.
    usual: bool = False


@dataclass(frozen=True)
class ChooseAddress(Command):
    kind: ClassVar[str] = "choose_address"
    changes_cart: ClassVar[bool] = True
    label: str = ""
    # The saved address to use when the customer has none called `label` ("to my work address if you've got it on
    # file, otherwise home"): said by the customer, never chosen for them.
    otherwise: str = ""


@dataclass(frozen=True)
class ChooseShipping(Command):
    kind: ClassVar[str] = "choose_shipping"
    changes_cart: ClassVar[bool] = True
    option: Literal["standard", "express"] = "standard"
    # "express if it's under 10 bucks, otherwise normal shipping": the most this option may cost (cents), as the shop
    # prices it on the cart; over it, `otherwise` is taken and the customer told.
    within: int | None = None
    otherwise: Literal["", "standard", "express"] = ""


# -- browsing and questions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Search(Command):
    """Browse the catalog ("show me trail shoes under $100", "cheapest running shoes")."""

    kind: ClassVar[str] = "search"
    query: str = ""
    category: str | None = None
    colour: str | None = None
    size: str | None = None
    price_min: int | None = None  # minor units
    price_max: int | None = None
    sort: Sort = "relevance"
    product_ids: tuple[str, ...] = ()  # catalog matches the generator already resolved


@dataclass(frozen=True)
class ProductQuestion(Command):
    """ "How much is the GPS watch?", "do you have the hoodie in XL?", "what sizes does it come in?"."""

    kind: ClassVar[str] = "product_question"
    item: ItemSpec = field(default_factory=ItemSpec)
    aspect: Aspect = "details"


# -- the preview and the decision -------------------------------------------------------------------


@dataclass(frozen=True)
class Preview(Command):
    """ "Check out", "I'm done", "that's all": show the preview (it asks to confirm; it places nothing).
    `without_open_question`: the customer goes on without the thing the open question is about ("ah, just mine then"
    after "the Cloud Jogger doesn't come in 39, which size?" for someone else); a bare "check out" with such a
    question open asks it once more first."""

    kind: ClassVar[str] = "preview"
    without_open_question: bool = False


@dataclass(frozen=True)
class Confirm(Command):
    """An explicit yes to the preview ("yes", "place it", "go ahead"). Politeness alone is not this."""

    kind: ClassVar[str] = "confirm"


@dataclass(frozen=True)
class Decline(Command):
    """An explicit no to the preview ("no", "don't order it")."""

    kind: ClassVar[str] = "decline"


# -- orders ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelOrder(Command):
    """ "Cancel", "cancel my last order": the cart in this conversation, or the customer's latest order. `item`: the
    order meant is the latest with that in it ("cancel the beanie order", "cancel the grey one")."""

    kind: ClassVar[str] = "cancel_order"
    which: Which = "current"
    item: ItemSpec | None = None


@dataclass(frozen=True)
class OrderStatus(Command):
    """ "Where is my order?", "track my order", "my orders": from any conversation of the customer."""

    kind: ClassVar[str] = "order_status"
    which: Which = "last"


# -- conversation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Greet(Command):
    kind: ClassVar[str] = "greet"


# What a customer asks about the assistant itself, each answered on its own (policy.HELP_TOPIC_TEXTS): whether a person
# reads the chat, how an order is confirmed, what happens after the yes, how paying works, whether an account is needed,
# whether sizes are remembered, a phone line, confirming later.
HELP_TOPICS = ("person", "confirming", "after_order", "paying", "account", "memory", "phone", "later")


@dataclass(frozen=True)
class Help(Command):
    """ "What can you do?", "help"; with a topic, one question about how the assistant works ("is a real person
    reading this?", "so nothing gets ordered until I say yes?", "how do I pay?"): HELP_TOPICS."""

    kind: ClassVar[str] = "help"
    topic: str = ""


@dataclass(frozen=True)
class Thanks(Command):
    """ "Thanks", "ok thanks", "please": politeness. Never a confirmation."""

    kind: ClassVar[str] = "thanks"


@dataclass(frozen=True)
class OutOfScope(Command):
    """A question the assistant is not for ("what's the weather?", "write me a poem")."""

    kind: ClassVar[str] = "out_of_scope"
    topic: str = ""


@dataclass(frozen=True)
class Human(Command):
    """The customer wants a person."""

    kind: ClassVar[str] = "human"


# CannotHandle's reason for a removal of a thing the reader checked is not in the cart ("skip the day pack, i've got
# one"): the policy says so and what the cart has (other removals it cannot place stay "not understood").
NOT_IN_THE_CART = "not understood: a removal of something the cart does not have"


@dataclass(frozen=True)
class CannotHandle(Command):
    """The generator could not read the message (or part of it): the policy says so and asks."""

    kind: ClassVar[str] = "cannot_handle"
    text: str = ""  # the words that were not understood, for the reply and the decision log
    reason: str = ""


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.kind: cls
    for cls in (
        AddItems, SetSlot, Select, RemoveItem, ShowCart, ClearCart, Undo, ApplyCode, RemoveCode, UseMyPromotion,
        ListPromotions, AccountInfo,
        ChooseCard, ChooseAddress, ChooseShipping, Search, ProductQuestion, Preview, Confirm, Decline,
        CancelOrder, OrderStatus, Greet, Help, Thanks, OutOfScope, Human, CannotHandle,
    )
}  # fmt: skip


# -- the wire form ----------------------------------------------------------------------------------

_SHORT = {"type": "string", "maxLength": 100}
_OPTIONAL_SHORT = {"type": ["string", "null"], "maxLength": 100}
_OPTIONAL_INT = {"type": ["integer", "null"]}
_IDS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 128}, "maxItems": 10}

ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "product_ids": _IDS,
        "query": _SHORT,
        "category": _OPTIONAL_SHORT,
        "colour": _OPTIONAL_SHORT,
        "size": {"type": ["string", "null"], "maxLength": 10},
        "size_said": {"type": ["string", "null"], "maxLength": 20},
        "size_options": {"type": "array", "items": {"type": "string", "maxLength": 10}, "maxItems": 6},
        "quantity": _OPTIONAL_INT,
        "saved": {"enum": ["liked", "viewed", "purchased", None]},
        "since_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650},
        "variant_id": {"type": ["string", "null"], "maxLength": 128},
        "every": {"type": ["boolean", "null"]},
        "size_step": {"enum": [-1, 1, None]},
        "otherwise_size": {"type": ["string", "null"], "maxLength": 10},
        "otherwise_colour": _OPTIONAL_SHORT,
        "otherwise_quantity": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
        "up_to": {"type": ["boolean", "null"]},
        "within_total": {"type": ["integer", "null"], "minimum": 1},
        "instead_of_previous": {"type": ["boolean", "null"]},
        "person": {"type": ["string", "null"], "maxLength": 30},
    },
}
_OPTIONAL_ITEM = {"anyOf": [ITEM_SCHEMA, {"type": "null"}]}

_PROPERTIES: dict[str, dict[str, Any]] = {
    "add_items": {"items": {"type": "array", "items": ITEM_SCHEMA, "minItems": 1, "maxItems": MAX_ITEMS_PER_COMMAND}},
    "set_slot": {
        "slot": {"enum": ["size", "colour", "quantity", "product"]},
        "value": {"type": "string", "minLength": 1, "maxLength": 100},
        "target": _OPTIONAL_ITEM,
        "correction": {"type": "boolean"},
    },
    "select": {
        "index": {"type": ["integer", "null"], "minimum": -1, "maximum": 20},
        "value": _SHORT,
        "price": {"enum": ["", "lowest", "highest"]},
    },
    "remove_item": {"target": _OPTIONAL_ITEM, "price": {"enum": ["", "lowest", "highest"]}},
    "undo": {"what": {"enum": ["change", "added"]}},
    "apply_code": {"code": {"type": "string", "pattern": "^[A-Za-z0-9_-]{2,40}$"}},
    "remove_code": {"code": {"type": "string", "pattern": "^([A-Za-z0-9_-]{2,40})?$"}},
    "list_promotions": {"code": {"type": "string", "pattern": "^([A-Za-z0-9_-]{2,40})?$"}},
    "use_my_promotion": {
        "percent": {"type": ["integer", "null"], "minimum": 1, "maximum": 100},
        "about": {"type": "string", "maxLength": 60},
    },
    "choose_card": {
        "last4": {"type": ["string", "null"], "pattern": "^[0-9]{4}$"},
        "brand": {"type": ["string", "null"], "maxLength": 20},
        "usual": {"type": "boolean"},
    },
    "choose_address": {
        "label": {"type": "string", "minLength": 1, "maxLength": 40},
        "otherwise": {"type": "string", "maxLength": 40},
    },
    "account_info": {"topic": {"enum": ["cards", "addresses"]}},
    "choose_shipping": {
        "option": {"enum": ["standard", "express"]},
        "within": {"type": ["integer", "null"], "minimum": 0},
        "otherwise": {"enum": ["", "standard", "express"]},
    },
    "search": {
        "query": _SHORT,
        "category": _OPTIONAL_SHORT,
        "colour": _OPTIONAL_SHORT,
        "size": {"type": ["string", "null"], "maxLength": 10},
        "price_min": {"type": ["integer", "null"], "minimum": 0},
        "price_max": {"type": ["integer", "null"], "minimum": 0},
        "sort": {"enum": ["relevance", "price_asc", "price_desc"]},
        "product_ids": _IDS,
    },
    "product_question": {
        "item": ITEM_SCHEMA,
        "aspect": {"enum": ["price", "availability", "sizes", "colours", "details"]},
    },
    "preview": {"without_open_question": {"type": "boolean"}},
    "cancel_order": {"which": {"enum": ["current", "last", "all"]}, "item": _OPTIONAL_ITEM},
    "order_status": {"which": {"enum": ["current", "last", "all"]}},
    "out_of_scope": {"topic": _SHORT},
    "help": {"topic": {"enum": ["", *HELP_TOPICS]}},
    "cannot_handle": {"text": {"type": "string", "maxLength": 300}, "reason": _SHORT},
}
_REQUIRED: dict[str, list[str]] = {
    "add_items": ["items"],
    "set_slot": ["slot", "value"],
    "apply_code": ["code"],
    "choose_address": ["label"],
    "choose_shipping": ["option"],
    "product_question": ["item"],
}


def command_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of one command's arguments (without `kind`): the LLM's tool parameters."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": dict(_PROPERTIES.get(kind, {})),
        "required": list(_REQUIRED.get(kind, [])),
    }


COMMAND_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            **command_schema(kind),
            "properties": {"kind": {"const": kind}, **_PROPERTIES.get(kind, {})},
            "required": ["kind", *_REQUIRED.get(kind, [])],
        }
        for kind in COMMAND_TYPES
    ]
}


class CommandError(ValueError):
    """A command in wire form that does not fit its schema; `message` names the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def item_from_dict(raw: dict[str, Any] | None) -> ItemSpec | None:
    if raw is None:
        return None
    values = dict(raw)
    values["product_ids"] = tuple(values.get("product_ids") or ())
    values["size_options"] = tuple(values.get("size_options") or ())
    return ItemSpec(**values)


@functools.cache
def _command_validator(kind: str) -> jsonschema.protocols.Validator:
    """One command's argument validator, checked and built once per process (the schemas are constants)."""
    schema = command_schema(kind)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def command_from_dict(raw: Any) -> Command:
    """A command from its wire form; raises CommandError with a message naming what is wrong."""
    if not isinstance(raw, dict):
        raise CommandError("A command must be a JSON object with a 'kind'.")
    kind = raw.get("kind")
    cls = COMMAND_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise CommandError(f"Unknown command kind {kind!r}; known: {', '.join(sorted(COMMAND_TYPES))}.")
    arguments = {key: value for key, value in raw.items() if key != "kind"}
    error = jsonschema.exceptions.best_match(_command_validator(kind).iter_errors(arguments))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path) or "arguments"
        raise CommandError(f"Invalid {kind} command: {where}: {error.message}") from None
    if kind == "add_items":
        arguments["items"] = tuple(item_from_dict(item) for item in arguments["items"])
    for name in ("target", "item"):
        if name in arguments:
            arguments[name] = item_from_dict(arguments[name])
    if "product_ids" in arguments:
        arguments["product_ids"] = tuple(arguments["product_ids"])
    return cls(**arguments)


def command_to_dict(command: Command) -> dict[str, Any]:
    """The wire form: `{"kind": …, **fields}` with defaults left out, JSON-safe."""
    values: dict[str, Any] = {"kind": command.kind}
    for spec in fields(command):  # type: ignore[arg-type]
        value = getattr(command, spec.name)
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        if value == default and spec.name not in _REQUIRED.get(command.kind, ()):
            continue
        values[spec.name] = _jsonable(value)
    return values


def item_to_dict(spec: ItemSpec) -> dict[str, Any]:
    """An item in wire form (defaults left out), as the agent's state keeps a pending item."""
    return _jsonable(spec)


def _jsonable(value: Any) -> Any:
    if isinstance(value, ItemSpec):
        return {key: _jsonable(item) for key, item in asdict(value).items() if item not in (None, "", ())}
    if isinstance(value, tuple):
        return [_jsonable(item) for item in value]
    return value


def commands_describe(commands: list[Command]) -> str:
    """A short, readable line for decision logs: `add_items(items=[...]), apply_code(RUN15)`."""
    parts = []
    for command in commands:
        wire = command_to_dict(command)
        wire.pop("kind")
        parts.append(f"{command.kind}({', '.join(f'{k}={v}' for k, v in wire.items())})")
    return ", ".join(parts) or "(nothing)"


# -- what a generator may know about the conversation ------------------------------------------------


@dataclass(frozen=True)
class CartLine:
    variant_id: str
    product_id: str
    title: str
    colour: str | None
    size: str | None
    quantity: int
    # How many different people the line's units were said to be for (0: none said): "2 packs of socks" is one
    # person's two, "zip hoodies for me and my wife" two people's one each ("the same for my son" copies one or two).
    people: int = 0


@dataclass(frozen=True)
class Option:
    """One choice the assistant offered: `value` is what a Select/SetSlot carries (a product id, a size,
    a colour, a variant id), `label` what the customer saw."""

    value: str
    label: str


@dataclass(frozen=True)
class PendingQuestion:
    """The one open question: which `slot` it asks for ("product", "size", "colour", "quantity", "line"
    for "which item?", "code" for "which promotion?", "cancel_order" for "should I cancel your placed
    order?"), about which product, with the options offered."""

    slot: str
    options: tuple[Option, ...] = ()
    product_id: str | None = None
    title: str = ""
    # The count the customer asked of that product, when the question is about it ("3 blue caps" → "only 1 left, how
    # many?": 3, so that "the one blue and the rest white" is two white)
    quantity: int | None = None


@dataclass(frozen=True)
class DialogueContext:
    """What a command generator may read besides the message: small, structured, no prices decided."""

    cart: tuple[CartLine, ...] = ()
    pending: PendingQuestion | None = None
    # True only while the assistant's latest message is the preview waiting for a yes or no.
    awaiting_confirmation: bool = False
    # Products the assistant showed last (search results, in order), for "the first one", "that one".
    last_shown: tuple[Option, ...] = ()
    cards: tuple[Option, ...] = ()  # value: last four digits, label: "visa ending 4242"
    addresses: tuple[str, ...] = ()  # saved address labels ("Home", "Work")
    # The lines of this conversation's last cart that became an order: "the same in red" said next with an empty cart
    # (one more of such a line is a new cart; a change of it is not possible: the order is with the shop), "cancel
    # the red one" while another cart waits (that order, not the cart).
    ordered: tuple[CartLine, ...] = ()
    # True when the assistant's latest message told the shipping options: "the quick one", "whichever's cheaper" next
    # choose one of them.
    shipping_offered: bool = False
    # True when the assistant's latest message answered about promotion codes: "put that on then", "apply that one"
    # next is use_my_promotion with no fields (the policy takes the one code that answer named).
    promotions_told: bool = False
    # The customer's message just before, when it said only sizes, colours or whose they are and so was not understood
    # ("a medium for me and a small for my daughter please"): the thing named next ("the zip hoodies, navy") is in them.
    values_said: str = ""
