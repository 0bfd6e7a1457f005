"""Reading a customer's words: pure functions, no I/O, never applied to tool results or catalog text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

COLOURS = (
    "blue", "red", "white", "black", "green", "grey", "gray", "navy", "tan", "brown", "orange", "yellow",
    "olive", "lime", "khaki", "beige", "purple", "pink", "silver", "clear",
)  # fmt: skip
NUMBER_WORDS = {"one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
NUMBER_WORDS |= {"eight": 8, "nine": 9, "ten": 10, "pair": 1, "couple": 2}
CLOTHING_SIZES = {"xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL", "small": "S", "medium": "M", "large": "L"}

_AFFIRMATIVE = re.compile(
    r"^(?:(?:yes|yep|yeah|yup|y|sure|ok|okay|confirm|confirmed|go ahead|go for it|do it|place it|"
    r"place the order|order it|buy it|please|thanks|thank you|correct|that'?s right|looks good|sounds good)\s*)+$"
)
_NEGATIVE = re.compile(
    r"^(?:(?:no|nope|nah|n|don'?t|do not|cancel|decline|stop|never ?mind|not now|no thanks|please|thanks|"
    r"cancel it|don'?t order it|forget it)\s*)+$"
)
_HUMAN = re.compile(
    r"\b(human|real person|a person|someone|somebody|specialist|representative|support agent|agent|operator)\b"
)
_HUMAN_VERB = re.compile(r"\b(talk|speak|chat|connect|transfer|get|want|need|give)\b")
_STATUS = re.compile(r"\b(status|where(?:'s| is) my order|track(?:ing)?|has my order|did my order)\b")
_CANCEL = re.compile(r"\bcancel\b")
_REMOVE = re.compile(r"\b(remove|delete|drop|take out|take off)\b")
_BUY = re.compile(r"\b(buy|order|add|get|purchase|want|need|i'?d like|reorder|grab|put)\b")
_SET_QUANTITY = re.compile(r"\b(?:make it|change (?:it|the quantity) to|quantity(?: to)?|set (?:it )?to)\s+(\d{1,2})\b")
_SIZE = re.compile(r"\bsize\s*([0-9]{2}|xs|s|m|l|xl|small|medium|large)\b")
_SHOE_SIZE = re.compile(r"(?<![\d%.$])\b(3[5-9]|4[0-9]|50)\b(?!\s*%)")
_QUANTITY_DIGITS = re.compile(r"(?<![\d.$])\b([1-9]|1[0-9]|20)\s*(?:x\b|pairs?\b|units?\b|of\b|pcs\b)|\bx\s*([1-9])\b")
_PROMO_MINE = re.compile(r"\bmy\s+(?:(\d{1,2})\s*%\s*(?:off\s*)?)?(?:promo(?:tion)?|discount|code|coupon|voucher)\b")
_PROMO_CODE = re.compile(r"\b(?:code|promo|coupon|voucher)\s+([A-Za-z0-9_-]{3,40})\b")
_CODE_TOKEN = re.compile(r"\b([A-Z]{2,}[0-9]+[A-Z0-9]*)\b")
_EXPRESS = re.compile(r"\b(express|fast(?:est)? shipping|next day|overnight)\b")
_STANDARD = re.compile(r"\b(standard|regular|normal|free) (?:shipping|delivery)\b")
_LIKED = re.compile(r"\b(liked|like[ds]? it|favou?rited?|favou?rites?|saved|loved|hearted)\b")
_VIEWED = re.compile(r"\b(viewed|looked at|was looking at|checked out)\b")
_USUAL = re.compile(r"\b(my usual|the usual|same as last time|usual)\b")
_ADDRESS = re.compile(r"\b(?:ship|send|deliver)\w*\s+(?:it\s+)?to\s+(?:my\s+)?(\w+)")
_CARD = re.compile(r"\b(?:card|visa|mastercard)\s+(?:ending\s+(?:in\s+)?)?(\d{4})\b|\b(\d{4})\s+card\b")
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "last": -1}

# Words that say what to do or when, not what to buy.
_STOPWORD_TEXT = (
    "pay paid paying using card ending visa mastercard amex send deliver address "
    "a an the i me my i'd id to and or of for in on with please can could you would like want need buy "
    "order add get purchase grab put some that this those these it them one ones pair pairs size sizes "
    "colour color again also apply use promo promotion discount code coupon voucher off liked like likes "
    "saved loved favourite favorite favorited last week weeks month months days day ago yesterday "
    "recently this usual same time shipping ship delivery express standard please thanks just x units "
    "unit pcs be was were is are from at by shop store i'm im hi hello hey really viewed looked looking "
    "checked out reorder "
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass
class Reading:
    """What the parser found in one message (the words that led to each finding are kept for rationales)."""

    text: str
    wants_human: bool = False
    asks_status: bool = False
    cancel: bool = False
    remove: bool = False
    buy: bool = False
    set_quantity: int | None = None
    quantity: int | None = None
    size: str | None = None
    colour: str | None = None
    promo_code: str | None = None
    my_promo: bool = False
    my_promo_percent: int | None = None
    shipping: str | None = None
    liked: bool = False
    viewed: bool = False
    usual: bool = False
    since_days: int | None = None
    address_label: str | None = None
    card_last4: str | None = None
    words: list[str] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)


def normalize(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"[^a-z0-9%'$.\- ]+", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def is_affirmative(text: str) -> bool:
    return bool(_AFFIRMATIVE.match(normalize(text).replace("-", " ")))


def is_negative(text: str) -> bool:
    return bool(_NEGATIVE.match(normalize(text)))


def size_in(text: str) -> str | None:
    lowered = normalize(text)
    match = _SIZE.search(lowered)
    if match:
        value = match.group(1)
        return CLOTHING_SIZES.get(value, value.upper())
    match = _SHOE_SIZE.search(lowered)
    if match:
        return match.group(1)
    tokens = lowered.split()
    if len(tokens) <= 3:
        for token in tokens:
            if token in CLOTHING_SIZES:
                return CLOTHING_SIZES[token]
    return None


def colour_in(text: str) -> str | None:
    for word in normalize(text).split():
        if word in COLOURS:
            return "grey" if word == "gray" else word
    return None


def read(text: str) -> Reading:
    original = text
    lowered = normalize(text)
    reading = Reading(text=lowered)

    def found(name: str, match: re.Match | None) -> bool:
        if match:
            reading.evidence[name] = match.group(0)
        return bool(match)

    reading.wants_human = found("wants_human", _HUMAN.search(lowered)) and (
        bool(_HUMAN_VERB.search(lowered)) or "human" in lowered
    )
    reading.asks_status = found("asks_status", _STATUS.search(lowered))
    reading.cancel = found("cancel", _CANCEL.search(lowered))
    reading.remove = found("remove", _REMOVE.search(lowered))
    reading.buy = found("buy", _BUY.search(lowered))
    if found("set_quantity", _SET_QUANTITY.search(lowered)):
        reading.set_quantity = int(_SET_QUANTITY.search(lowered).group(1))

    mine = _PROMO_MINE.search(lowered)
    if found("my_promo", mine):
        reading.my_promo = True
        reading.my_promo_percent = int(mine.group(1)) if mine.group(1) else None
    code = _PROMO_CODE.search(original) or _CODE_TOKEN.search(original)
    if code and not (mine and code.group(1).lower() in ("promo", "code", "discount")):
        candidate = code.group(1)
        if any(ch.isdigit() for ch in candidate) or candidate.isupper():
            reading.promo_code = candidate.upper()
            reading.evidence["promo_code"] = code.group(0)
    if found("shipping", _EXPRESS.search(lowered)):
        reading.shipping = "express"
    elif found("shipping", _STANDARD.search(lowered)):
        reading.shipping = "standard"

    reading.liked = found("liked", _LIKED.search(lowered))
    reading.viewed = found("viewed", _VIEWED.search(lowered))
    reading.usual = found("usual", _USUAL.search(lowered))
    if "last week" in lowered or "past week" in lowered:
        reading.since_days = 14
    elif "this week" in lowered or "few days" in lowered:
        reading.since_days = 7
    elif "yesterday" in lowered:
        reading.since_days = 2
    elif "last month" in lowered or "past month" in lowered:
        reading.since_days = 45

    address = _ADDRESS.search(lowered)
    if found("address", address) and address.group(1) not in ("the", "a", "me"):
        reading.address_label = address.group(1)
    card = _CARD.search(lowered)
    if found("card", card):
        reading.card_last4 = card.group(1) or card.group(2)

    # Sizes and quantities: "size 42", a shoe size on its own, "2 pairs", "two".
    reading.size = size_in(lowered)
    if reading.size:
        reading.evidence["size"] = reading.size
    reading.colour = colour_in(lowered)
    quantity = _QUANTITY_DIGITS.search(lowered)
    if quantity:
        reading.quantity = int(quantity.group(1) or quantity.group(2))
        reading.evidence["quantity"] = quantity.group(0)
    else:
        for token in lowered.split():
            if token in NUMBER_WORDS and token not in ("a", "an", "pair"):
                reading.quantity = NUMBER_WORDS[token]
                reading.evidence["quantity"] = token
                break

    skip = set(STOPWORDS)
    if reading.promo_code:
        skip.add(reading.promo_code.lower())
    words = []
    for token in lowered.split():
        token = token.strip("'%$-")
        if not token or token in skip or token in NUMBER_WORDS or token.isdigit() or token in COLOURS:
            continue
        if reading.size and token == reading.size.lower():
            continue
        if token in (reading.address_label, reading.card_last4):
            continue
        if token in ("talk", "speak", "human", "person", "cancel", "remove", "status", "track", "where"):
            continue
        words.append(token)
    reading.words = words[:8]
    return reading


def singular(word: str) -> str:
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("sh", "ch", "x", "s")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def matches_all(words: list[str], haystack: str) -> bool:
    haystack = normalize(haystack).replace("-", " ")
    return all(singular(word) in haystack for word in words)


def choice_in(text: str, options: list[str]) -> int | None:
    """Which of `options` (titles) the answer names: a distinguishing word, or an ordinal."""
    lowered = normalize(text)
    for word, index in _ORDINALS.items():
        if re.search(rf"\b{re.escape(word)}\b", lowered):
            return index if index >= 0 else len(options) - 1
    hits = [i for i, option in enumerate(options) if normalize(option) in lowered]
    if len(hits) == 1:
        return hits[0]
    tokens = {singular(token) for token in lowered.split() if token not in STOPWORDS}
    scored = []
    for i, option in enumerate(options):
        option_words = {singular(w) for w in normalize(option).replace("-", " ").split()}
        others = set().union(
            *({singular(w) for w in normalize(o).replace("-", " ").split()} for j, o in enumerate(options) if j != i)
        )
        if tokens & (option_words - others):
            scored.append(i)
    return scored[0] if len(scored) == 1 else None
