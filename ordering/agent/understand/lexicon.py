"""The merchant's catalog as words: what a customer may call each product, typo-tolerant.

Built only from titles, categories, brands, colours and sizes (never descriptions: a description is the
merchant's text, not something to read as an instruction or a name). Plurals fold to one form
("runners" → "runner"), synonyms map to the catalog's own words ("trainers" → sneakers and running shoes, "tee" /
"t-shirt" / "shirt" → t-shirts, "sweatshirt" → hoodies, "backpack" → the day pack), and a word the
lexicon does not know is corrected to the closest catalog word when it is close enough ("runer" →
"runner", "wach" → "watch"), using rapidfuzz.

`resolve(words)` names the products the words mean, best first:
1. a whole title ("blue runner", "trail blazer", "gps running watch") → that product;
2. a category or generic word ("running shoes", "shoes", "hoodie", "hat") → every product it covers,
   those whose titles share the other words first, kept to the colour said when one was said;
3. a distinctive title word alone ("blazer", "gps", "pullover") → the products that have it;
4. nothing → no ids (the caller keeps the words as a query, so the policy searches and says what it
   found).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from catalog_adapters.contract import Product
from ordering.agent.understand import rx
from ordering.agent.understand.people import PEOPLE_WORDS
from ordering.agent.understand.text import normalize
from ordering.agent.understand.text import word_list as _words

# Colours a shopper may name, with their usual variants folded onto one word.
COLOUR_ALIASES: dict[str, str] = {
    "gray": "grey", "grey": "grey", "navy blue": "navy", "dark blue": "navy", "navy": "navy", "blu": "blue",
    "light blue": "blue", "sky blue": "blue", "royal blue": "blue", "olive green": "olive", "neon green": "lime",
    "lime green": "lime", "transparent": "clear", "see-through": "clear", "violet": "purple",
    "charcoal": "grey", "off white": "white", "off-white": "white", "blk": "black", "wht": "white",
    "grn": "green", "gry": "grey", "blck": "black", "whte": "white", "ylw": "yellow", "nvy": "navy", "pnk": "pink",
    # typed short on a phone ("tempo racer in whit 44"; "whit" is also an old English word, so no typo fix reached it)
    "whit": "white", "bleu": "blue",
}  # fmt: skip
BASIC_COLOURS = frozenset(
    _words("""
    red orange yellow green blue navy purple pink brown tan beige khaki olive lime black white grey silver
    gold clear teal maroon cream
    """)
)

# Several words written as one thing, joined before matching.
PHRASES: dict[str, str] = {
    "t shirt": "tshirt", "t-shirt": "tshirt", "tee shirt": "tshirt", "tee-shirt": "tshirt",
    "ear buds": "earbud", "ear bud": "earbud", "ear phones": "earbud", "earphones": "earbud",
    "head lamp": "headlamp", "head torch": "headlamp", "head light": "headlamp", "headtorch": "headlamp",
    "sun glasses": "sunglasses", "kettle bell": "kettlebell", "back pack": "backpack", "day pack": "day pack",
    "rain coat": "rain jacket", "raincoat": "rain jacket", "rain shell": "rain jacket",
    "wind breaker": "wind shell", "windbreaker": "wind shell", "wind jacket": "wind shell",
    "puffer jacket": "down jacket", "puffer": "down jacket", "down coat": "down jacket",
    "hi top": "high sneaker", "hi-top": "high sneaker", "high top": "high sneaker", "high-top": "high sneaker",
    "high tops": "high sneaker", "low top": "low sneaker", "low-top": "low sneaker", "gym bag": "gym"
    " duffel", "duffle bag": "duffel", "duffel bag": "duffel",
    "water bottle": "bottle", "drink bottle": "bottle", "smart watch": "watch", "smartwatch": "watch",
    "sports watch": "watch", "fitness tracker": "fitness band", "activity tracker": "fitness band",
    "hydration pack": "vest", "running vest": "vest", "yoga mat": "yoga mat", "foam roller": "foam roller",
    "running trainers": "running shoes", "running sneakers": "running shoes", "jogging shoes": "running shoes",
    "running shoe": "running shoes", "road shoes": "running shoes", "trail shoes": "trail shoes",
    "walking boots": "hiking boot", "walking boot": "hiking boot",
    "hooded sweatshirt": "hoodie", "hooded top": "hoodie", "hooded tops": "hoodie", "hooded jumper": "hoodie",
    "knit hat": "beanie", "wooly hat": "beanie", "woolly hat": "beanie",
    "baseball cap": "cap", "running hat": "running cap", "hiking boots": "hiking boot",
}  # fmt: skip

# A word → the catalog word(s) it stands for (applied after plurals fold).
WORD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "pak": ("pack",),  # "day pak": too short for a typo fix (three letters)
    "tshirt": ("tee",), "shirt": ("tee",), "tees": ("tee",), "top": ("tee",),
    "hoody": ("hoodie",), "sweatshirt": ("hoodie",), "sweater": ("hoodie",), "jumper": ("hoodie",),
    "coat": ("jacket",), "anorak": ("jacket",), "parka": ("jacket",),
    "legging": ("tight",), "trouser": ("pant",), "pants": ("pant",),
    "backpack": ("day", "pack"), "rucksack": ("day", "pack"), "daypack": ("day", "pack"), "knapsack": ("day", "pack"),
    "duffle": ("duffel",), "headphones": ("headphone",), "headset": ("headphone",), "airpod": ("earbud",),
    "earbuds": ("earbud",), "bud": ("earbud",), "sunglasses": ("sunglass",), "shades": ("sunglass",),
    "glasses": ("sunglass",), "torch": ("headlamp",), "tracker": ("fitness", "band"), "kick": ("sneaker",),
    "sneaks": ("sneaker",), "runners": ("runner",), "bottles": ("bottle",),
    "weight": ("kettlebell",), "flasks": ("flask",), "sunnies": ("sunglass",), "sunnie": ("sunglass",),
    "specs": ("sunglass",), "beany": ("beanie",), "toque": ("beanie",),
    # "a thermos" is an insulated bottle ("thermos" folds to "thermo", once a typo of "thermal": the running tights)
    "thermos": ("insulated", "bottle"), "thermo": ("insulated", "bottle"),
}  # fmt: skip

# What a customer says a thing is like or is for → the words shop descriptions and titles use for it ("keeps water
# cold" → the bottle that "keeps drinks cold", "stretchy sides" → the "elastic-sided" boots, "counts my steps" → the
# "step, sleep and heart-rate tracker"). Only to tell products apart by what the shop says of them
# (`CatalogLexicon.described`), or to find the one a customer describes without naming it; never an instruction.
FEATURE_WORDS: dict[str, tuple[str, ...]] = {
    "waterproof": ("waterproof",), "rain": ("waterproof",), "rainy": ("waterproof",), "wet": ("waterproof",),
    "downpour": ("waterproof",), "windproof": ("windproof",), "wind": ("windproof",), "windy": ("windproof",),
    "warm": ("warm", "fleece-lined", "thermal"), "warmest": ("warm", "700-fill"), "warmer": ("warm",),
    "cosy": ("warm", "fleece-lined"), "cozy": ("warm", "fleece-lined"), "freeze": ("warm",), "freezing": ("warm",),
    "heavy": ("heavyweight",), "heavier": ("heavyweight",), "heaviest": ("heavyweight",), "thick": ("heavyweight",),
    "thicker": ("heavyweight",), "lightweight": ("lightweight", "featherweight"), "lighter": ("lightweight",),
    "fleecy": ("fleece-lined",), "fleece": ("fleece-lined",), "stretchy": ("elastic-sided", "stretch"),
    "elastic": ("elastic-sided",), "fold": ("collapsible",), "folds": ("collapsible",), "foldable": ("collapsible",),
    "collapsible": ("collapsible",), "squashable": ("collapsible",), "squeezy": ("soft",), "squishy": ("soft",),
    "packable": ("pack",), "race": ("race", "racing"), "racing": ("race", "racing"), "fast": ("racing",),
    "speed": ("racing",), "speedy": ("racing",), "10k": ("race",), "marathon": ("race",), "carbon": ("carbon-plated",),
    "cushioned": ("cushioned",), "cushion": ("cushioned",), "cushy": ("cushioned",), "cushioning": ("cushioned",),
    "plush": ("cushioned",), "grippy": ("grippy",), "grip": ("grippy",), "muddy": ("grippy", "trail"),
    "mud": ("grippy", "trail"), "offroad": ("trail",), "gum": ("gum",), "zip": ("zip",), "zipped": ("zip",),
    "zipper": ("zip",), "pocket": ("pocket",), "step": ("step",), "pedometer": ("step",), "sleep": ("sleep",),
    "heart": ("heart", "heart-rate"), "pulse": ("heart-rate", "heart"), "bpm": ("heart-rate", "heart"),
    "rate": ("heart-rate", "rate"), "track": ("tracker",), "tracking": ("tracker",), "count": ("step",),
    "touchscreen": ("screen", "phone"), "screen": ("screen",), "phone": ("phone",), "texting": ("phone",),
    "sweat": ("sweat-proof",), "sweaty": ("sweat-proof", "quick-dry"), "sweatproof": ("sweat-proof",),
    "noise": ("noise-cancelling",), "cancelling": ("noise-cancelling",), "canceling": ("noise-cancelling",),
    "quick-dry": ("quick-dry",), "wicking": ("quick-dry",), "dries": ("quick-dry",), "breathable": ("breathable",),
    "print": ("print",), "printed": ("print",), "graphic": ("print",), "mountain": ("mountain", "trail"),
    "mountains": ("mountain", "trail"), "hills": ("trail",), "hilly": ("trail",), "fells": ("trail",),
    "hike": ("hiking", "hike"), "hiking": ("hiking", "hike"), "hillwalking": ("hiking", "hike"),
    "trek": ("hiking", "hike"), "trekking": ("hiking", "hike"), "hillwalk": ("hiking", "hike"),
    "road": ("road",), "pavement": ("road",), "tarmac": ("road",), "daily": ("daily", "everyday"),
    "everyday": ("everyday", "daily"), "easy": ("easy",), "slow": ("easy",), "leather": ("leather",),
    "canvas": ("canvas",), "merino": ("merino",), "wool": ("wool",), "woolly": ("wool",), "woollen": ("wool",),
    "blister": ("anti-blister",), "polarised": ("polarised",), "polarized": ("polarised",), "glare": ("polarised",),
    "recovery": ("recovery",), "sore": ("recovery",), "massage": ("recovery",), "stretching": ("yoga", "recovery"),
    "stretch": ("yoga", "recovery"), "yoga": ("yoga",), "cotton": ("cotton",), "organic": ("organic",),
    "wireless": ("wireless",), "bluetooth": ("wireless",), "cordless": ("wireless",), "gps": ("gps",),
    "rechargeable": ("rechargeable",), "usb": ("rechargeable",), "liner": ("liner",), "lined": ("fleece-lined",),
    "compartment": ("compartment",), "insulated": ("insulated",), "thermos": ("insulated",),
    "cold": ("cold",), "chilled": ("cold",), "icy": ("cold",), "sun": ("polarised", "cap"),
    "sunny": ("polarised", "cap"),
    "dark": ("headlamp",), "night": ("headlamp",), "ear": ("earbud",), "back": ("backpack",),
    "side": ("cargo",), "cargo": ("cargo",),
}  # fmt: skip
# A kind the shop sells, made another kind by the word before it: "swim shorts" are no running shorts, "a sleeping bag"
# no day pack, "yoga pants" no running tights. Such words name nothing here (the policy says what it could not find).
OTHER_KINDS: dict[str, frozenset[str]] = {
    "short": frozenset(_words("swim swimming board bike cycling bermuda boxer")),
    "bag": frozenset(_words("sleeping laptop tote hand shopping garbage trash bin bean toiletry wash makeup")),
    "pant": frozenset(_words("yoga sweat track ski snow jogging cargo suit dress")),
    "jacket": frozenset(_words("life ski leather denim suit dinner")),
    "shoe": frozenset(_words("football soccer golf climbing cycling bowling dance ballet water")),
    "boot": frozenset(_words("football soccer ski snow riding cowboy wellington")),
    "sneaker": frozenset(_words("football soccer golf")),
    "tee": frozenset(_words("dress polo")),
    "hat": frozenset(_words("sun bucket cowboy party straw")),
    "cap": frozenset(_words("swim swimming shower bathing graduation")),
    # "a standing desk mat", "a mouse mat": mats for other things than yoga (a yoga mat's colour was asked)
    "mat": frozenset(_words("desk mouse bath door floor car changing picnic beach")),
    "bottle": frozenset(_words("baby wine beer hot")),
    "roller": frozenset(_words("paint lint hair")),
}
# Said of something to wear: it is for an animal, and the shop sells nothing for one ("a raincoat for my dog").
ANIMAL_WORDS = frozenset(_words("dog dogs puppy pup cat cats kitten pet pets doggy"))
_WEARABLE_CATEGORIES = frozenset(
    _words("running-shoes sneakers boots t-shirts hoodies jackets shorts pants socks accessories")
)
# Words about the ordering itself: a message with them is about the order, not a description of a thing ("remove the
# confirmation step" is no step counter).
_PROCESS_WORDS = frozenset(
    _words("confirmation confirm confirming checkout preview payment process login password account website app")
)
# Words of a description that say nothing about the thing.
_DESCRIPTION_STOP_WORDS = frozenset(_words("a an the and or with for that its it own into of to in on by from at"))
# Features that tell one product by themselves ("something waterproof", "counts my steps"); the others need a second
# word of the same product's description before they name anything ("long" alone is no Cloud Jogger).
STRONG_FEATURES = frozenset(
    _words("""
    waterproof windproof rain rainy stretchy elastic collapsible foldable fold folds grippy gum zip pocket step
    pedometer sleep heart pulse touchscreen sweatproof noise cancelling canceling quick-dry wicking merino
    polarised polarized glare wireless bluetooth gps rechargeable compartment insulated thermos cold fleecy fleece
    heavier heaviest warmest cushioned carbon racing marathon freeze freezing
    """)
)

# A word → what it covers: categories ("cat:") or products whose titles have a word ("tok:").
GROUPS: dict[str, tuple[str, ...]] = {
    "shoe": ("cat:running-shoes", "cat:sneakers", "cat:boots"),
    "footwear": ("cat:running-shoes", "cat:sneakers", "cat:boots"),
    "runner": ("cat:running-shoes",),
    "sneaker": ("cat:sneakers",),
    # British "trainers" are any sports shoes: the Blue Runner trainers, the trainers on my wishlist
    "trainer": ("cat:sneakers", "cat:running-shoes"),
    "boot": ("cat:boots",),
    "tee": ("cat:t-shirts",),
    "hoodie": ("cat:hoodies",),
    "jacket": ("cat:jackets",),
    "short": ("cat:shorts",),
    "pant": ("cat:pants",),
    "sock": ("cat:socks",),
    "bag": ("cat:bags",),
    "pack": ("cat:bags",),
    "bottle": ("cat:bottles",),
    "watch": ("cat:watches",),
    "hat": ("tok:cap", "tok:beanie"),
    "headwear": ("tok:cap", "tok:beanie"),
    "audio": ("cat:audio",),
}
# Two-word category phrases (checked before their words alone).
GROUP_PHRASES: dict[str, tuple[str, ...]] = {
    "running shoe": ("cat:running-shoes",),
    "trail shoe": ("tok:trail",),
}

# Words that carry no product meaning: never corrected to a catalog word, never a product on their own.
COMMON_WORDS = frozenset(
    _words("""
    a an the i me my mine you your we our us it its this that these those them they one ones some any all
    every each both other another of for in on at to from by with without and or but if so as than then too
    also just only really very much many more most less least few lot lots please pls thanks thank hi hello
    hey hiya yo yes yeah yep yup no nope nah ok okay sure is are was were be been being am do does did done
    have has had having get got getting give gave want wanted need needed like liked likes love loved would
    could should will can may might must shall let lets let's buy bought order ordered ordering orders add
    added put take took make made change changed set switch swap instead actually wait sorry oops hmm um uh
    pair pairs size sizes sized colour colours color colors coloured colored what which who whom whose when
    where why how there here about into over under above below up down out off again quick quickly new same
    usual last next first second third fourth fifth previous before after ago day days week weeks month months
    year years today yesterday tonight time times cart basket checkout check show see look looking looked find
    search browse tell know think price prices cost costs much cheap cheapest expensive dollars dollar bucks
    usd eur euro euros money total stock available availability sell sold carry have has got item items thing
    things stuff product products something anything everything nothing shop store help ship shipping send
    deliver delivery address card visa mastercard amex pay paying paid code coupon promo promotion discount
    voucher deal deals offer sale express standard free fast slow remove delete drop cancel clear empty start
    over confirm place placed go ahead proceed fine good great nice cool awesome perfect right wrong correct
    sounds looks okay alright not don't dont do not can't cannot won't x qty quantity units unit pcs piece
    pieces each per via men's mens women's womens us uk eu kid kids mean meant rather well also plus minus
    gift present someone friend wife husband son daughter mom dad brother sister girlfriend boyfriend use used
    best bank test rest list fast cast past mask task hand land kind mind bind rent sent went cent care core
    more sore song pack packs bye goodbye tell said says team game name same came come home work life wife
    five fire hire line mine nine wine pine fine dine bike like hike mike site note vote live love move book
    back oop whoops woops he she his hers him her they their theirs hes shes kindly
    books look took cook hook boat road load grab grabbed sweet lovely
    """)
) | frozenset(PEOPLE_WORDS)  # the people an order may be for (people.py): "my fella" is never looked for


def _english_words() -> frozenset[str]:
    """Common English words (data/english_common.txt): what a customer meant, never a typo to correct."""
    path = Path(__file__).with_name("data") / "english_common.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


# "I read the reviews" is not "red", "while" is not "white", "my feet swell" is not a wind shell, "cheers mate" is
# not a yoga mat: a word in everyday English is what the customer meant. 539 such words were corrected into a
# catalog word or a colour of the demo catalog before this list.
ENGLISH_WORDS = _english_words()

# Title words too common to name a product alone ("day", "down", "low", "soft", "classic", "running").
WEAK_TITLE_WORDS = frozenset(
    _words("""
    day down low high soft slim classic running street court cloud organic thermal sport over ear insulated
    steel 3-pack 5-inch 20l 12kg 500ml hiking trail pack
    """)
)
_SINGULAR_KEEP = frozenset(
    _words("""
    yes this is was has gps its us plus less bus does goes canvas dress express address process thanks glass
    boss kiss class chinos jeans kids lbs always perhaps series mens womens
    """)
)

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-.]*")


def singular(word: str) -> str:
    """Fold a plural onto its singular, the same way for titles and for what a customer writes."""
    if word in _SINGULAR_KEEP or len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-1]  # hoodies → hoodie, accessories → accessorie (same on both sides)
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word  # "tennis" is no plural
    if word.endswith("s"):
        return word[:-1]
    return word


# Each several-word name, longest first, with its pattern (built once: sorting and escaping them at every call was
# ~0.3 ms of a message).
_PHRASE_PATTERNS = tuple(
    (phrase, re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?:e?s)?(?![a-z0-9])"), replacement)
    for phrase, replacement in sorted(PHRASES.items(), key=lambda item: -len(item[0]))
)


def join_phrases(text: str) -> str:
    """Replace several-word names with the catalog's one (normalized, lower-case text)."""
    for phrase, pattern, replacement in _PHRASE_PATTERNS:
        if phrase in text:  # a name that is not in the text is not replaced (most are not)
            text = pattern.sub(replacement, text)
    return text


_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_NEIGHBOURS = {
    (row[index], row[index + offset]) for row in _KEYBOARD_ROWS for index in range(len(row)) for offset in (-1, 1)
    if 0 <= index + offset < len(row)
}  # fmt: skip


def _fat_fingered(word: str, candidate: str) -> bool:
    """True when `candidate` is `word` with one letter typed as the key beside it ("bkack" is black, not back)."""
    if len(word) != len(candidate):
        return False
    differ = [(a, b) for a, b in zip(word, candidate, strict=True) if a != b]
    return len(differ) == 1 and differ[0] in _KEYBOARD_NEIGHBOURS


def _swapped(word: str, candidate: str) -> bool:
    """True when `candidate` is `word` with two neighbouring letters swapped."""
    if len(word) != len(candidate):
        return False
    differ = [index for index, (a, b) in enumerate(zip(word, candidate, strict=True)) if a != b]
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and word[differ[0]] == candidate[differ[1]]
        and (word[differ[1]] == candidate[differ[0]])
    )


# Colours a loosely said one ("greenish", "the bright green one", "brownish") may be, when the product has not got
# the colour itself: a shade of it the shop names otherwise.
COLOUR_FAMILIES: dict[str, tuple[str, ...]] = {
    "green": ("olive", "lime", "khaki"), "brown": ("tan", "khaki", "beige"), "blue": ("navy",),
    "yellow": ("lime",), "grey": ("silver",), "red": ("maroon", "pink"), "white": ("cream", "beige"),
}  # fmt: skip


def colour_in_family(colour: str, offered: Sequence[str]) -> str | None:
    """The one colour of `offered` that is a shade of `colour` ("green" of black and olive: olive), or None."""
    shades = [option for option in offered if option in COLOUR_FAMILIES.get(colour, ())]
    return shades[0] if len(shades) == 1 else None


# How dark each colour is (0 darkest), for "the dark ones", "the lighter one" among the colours a product comes in.
COLOUR_LIGHTNESS: dict[str, int] = {
    "black": 0, "navy": 1, "maroon": 2, "brown": 2, "olive": 3, "green": 3, "purple": 3, "teal": 3, "blue": 4,
    "red": 4, "grey": 5, "orange": 6, "tan": 6, "khaki": 6, "pink": 7, "lime": 7, "silver": 7, "gold": 7, "beige": 8,
    "yellow": 8, "cream": 9, "white": 10, "clear": 10,
}  # fmt: skip


def colour_by_shade(shade: str, offered: Sequence[str]) -> str | None:
    """The darkest ("dark", "darker") or lightest ("light", "lighter", "pale") of `offered`, when one is clearly so."""
    known = sorted((COLOUR_LIGHTNESS[colour], colour) for colour in offered if colour in COLOUR_LIGHTNESS)
    if len(known) < 2 or len(known) != len(offered):
        return None
    dark = shade.startswith("dark")
    end, next_one = (known[0], known[1]) if dark else (known[-1], known[-2])
    return end[1] if end[0] != next_one[0] else None


def colour_of(word: str) -> str | None:
    if word in COLOUR_ALIASES:
        return COLOUR_ALIASES[word]
    if word in BASIC_COLOURS:
        return word
    if word.endswith("ish") and len(word) > 5:
        # "navy-ish", "greenish", "reddish", "bluish", "purplish": near enough that colour
        stem = word[:-3].rstrip("-")
        for candidate in (stem, stem[:-1], stem + "e"):
            if candidate in COLOUR_ALIASES or candidate in BASIC_COLOURS:
                return colour_of(candidate)
    return None


@dataclass(frozen=True)
class VariantEntry:
    id: str
    colour: str | None
    size: str | None
    available: int


@dataclass(frozen=True)
class ProductEntry:
    id: str
    title: str
    category: str
    brand: str
    price: int
    colours: tuple[str, ...]
    sizes: tuple[str, ...]
    variants: tuple[VariantEntry, ...]
    title_words: tuple[str, ...]  # singular, lower case
    required_words: frozenset[str]  # the title words a customer must say for the whole title
    # The shop's description, as words: only to tell apart products a customer named by their kind ("wool socks"
    # are the Merino Hiking Socks, "Merino wool hiking socks."), never to name a product alone.
    description_words: frozenset[str] = frozenset()

    @property
    def size_kind(self) -> str:
        """ "shoe" (numeric sizes), "clothing" (letters) or "one_size"."""
        labels = [size for size in self.sizes if size]
        if not labels:
            return "one_size"
        if all(label.replace(".", "").isdigit() for label in labels):
            return "shoe"
        return "clothing"


@dataclass(frozen=True)
class Resolution:
    """What some words name in the catalog."""

    product_ids: tuple[str, ...] = ()
    category: str | None = None
    exact: bool = False  # a whole title was said
    named: bool = False  # a whole title or a distinctive title word was said (not only a category)
    used: frozenset[str] = frozenset()  # the words that named it
    words: tuple[str, ...] = ()  # the content words (corrected), for a query
    described: bool = False  # found only by what the shop says of it ("something that counts my steps")


@dataclass
class CatalogLexicon:
    """Product names, categories, brands, colours and sizes of one merchant's catalog, as words."""

    products: tuple[ProductEntry, ...] = ()
    by_id: dict[str, ProductEntry] = field(default_factory=dict)
    compounds: dict[str, tuple[str, str]] = field(default_factory=dict)
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    colours: frozenset[str] = frozenset()
    brands: dict[str, str] = field(default_factory=dict)
    vocabulary: frozenset[str] = frozenset()
    shoe_sizes: tuple[str, ...] = ()
    clothing_sizes: tuple[str, ...] = ()
    _category_words: dict[str, str] = field(default_factory=dict)
    variant_products: dict[str, str] = field(default_factory=dict)  # variant id → product id
    # The shop's stock-keeping codes, lower case → variant id ("ZIP-HOODIE-NAVY-S" copied off a label or a receipt), and
    # each product's title as a link's path would spell it ("packable-rain-jacket") → product id (understand/pasted.py)
    skus: dict[str, str] = field(default_factory=dict)
    slugs: dict[str, str] = field(default_factory=dict)
    _corrections: dict[tuple[str, frozenset[str]], str] = field(default_factory=dict)

    @classmethod
    def from_products(cls, products: Iterable[Product]) -> CatalogLexicon:
        entries: list[ProductEntry] = []
        products_seen = list(products)
        for product in products_seen:
            variants = tuple(
                VariantEntry(
                    id=variant.id,
                    colour=(variant.colour or None),
                    size=(variant.size or None),
                    available=variant.available,
                )
                for variant in product.variants
            )
            colours = tuple(dict.fromkeys(v.colour.lower() for v in variants if v.colour))
            sizes = tuple(dict.fromkeys(v.size for v in variants if v.size))
            words = tuple(singular(word) for word in _WORD.findall(join_phrases(normalize(product.title))))
            required = frozenset(word for word in words if not any(ch.isdigit() for ch in word)) or frozenset(words)
            entries.append(
                ProductEntry(
                    id=product.id,
                    title=product.title,
                    category=product.category,
                    brand=product.brand,
                    price=product.price.amount,
                    colours=colours,
                    sizes=sizes,
                    variants=variants,
                    title_words=words,
                    required_words=required,
                    description_words=frozenset(
                        singular(word) for word in _WORD.findall(normalize(getattr(product, "description", "") or ""))
                    ),
                )
            )
        lexicon = cls(products=tuple(entries))
        lexicon.by_id = {entry.id: entry for entry in entries}
        # Two title words written as one ("trailblazer", "bluerunner"), when that is no word of its own.
        lexicon.compounds = {
            first + second: (first, second)
            for entry in entries
            for first, second in itertools.pairwise(entry.title_words)
            if first.isalpha() and second.isalpha() and first + second not in ENGLISH_WORDS
        }
        lexicon.variant_products = {variant.id: entry.id for entry in entries for variant in entry.variants}
        lexicon.skus = {
            variant.sku.lower(): variant.id
            for product in products_seen
            for variant in product.variants
            if getattr(variant, "sku", "")
        }
        lexicon.slugs = {rx.sub(r"[^a-z0-9]+", "-", entry.title.lower()).strip("-"): entry.id for entry in entries}
        categories: dict[str, list[str]] = {}
        for entry in entries:
            categories.setdefault(entry.category, []).append(entry.id)
        lexicon.categories = {name: tuple(ids) for name, ids in categories.items()}
        lexicon.colours = frozenset(colour for entry in entries for colour in entry.colours)
        lexicon.brands = {entry.brand.lower(): entry.brand for entry in entries if entry.brand}
        # "running-shoes" → "running shoe", "t-shirts" → "tshirt": each category's own name as words.
        lexicon._category_words = {}
        for name in lexicon.categories:
            spoken = " ".join(singular(word) for word in join_phrases(name.replace("-", " ")).split())
            lexicon._category_words[spoken] = name
            if spoken.replace(" ", "") != spoken:
                lexicon._category_words[spoken.replace(" ", "")] = name
        shoe = {size for entry in entries if entry.size_kind == "shoe" for size in entry.sizes}
        clothing = {size for entry in entries if entry.size_kind == "clothing" for size in entry.sizes}
        lexicon.shoe_sizes = tuple(sorted(shoe, key=float))
        lexicon.clothing_sizes = tuple(sorted(clothing))
        vocabulary = {word for entry in entries for word in entry.title_words if word.isalpha() and len(word) > 2}
        vocabulary |= set(lexicon.brands) | set(BASIC_COLOURS) | set(lexicon.colours)
        vocabulary |= {word for spoken in lexicon._category_words for word in spoken.split()}
        vocabulary |= {word for word in WORD_SYNONYMS if word.isalpha()} | set(GROUPS)
        vocabulary |= {word for word in FEATURE_WORDS if word.isalpha() and len(word) > 3}
        # one-word names the catalog's words stand for ("earphones" are earbuds, never a typo of "headphones")
        vocabulary |= {phrase for phrase in PHRASES if phrase.isalpha()}
        vocabulary |= {"tshirt", "sneaker", "trainer", "hoodie", "jacket", "backpack", "bottle", "watch", "sunglasses"}
        lexicon.vocabulary = frozenset(vocabulary)
        return lexicon

    # -- words -------------------------------------------------------------------------------------

    def correct(self, word: str, extra: frozenset[str] = frozenset()) -> str:
        """The word a typo most likely means ("runer" → "runner", "gery" → "grey", and with `extra`, the
        caller's own words: "ordr" → "order"); the word itself when nothing is close enough. Close: one
        edit (a transposition counts as one) for words of 4 to 6 letters, two for longer words."""
        key = (word, extra)
        if key in self._corrections:
            return self._corrections[key]
        result = word
        if (
            len(word) >= 4
            and word.isalpha()
            and word not in COMMON_WORDS
            and word not in ENGLISH_WORDS
            # the plural of an everyday word: "2 tennis rackets" are no jackets
            and not (singular(word) != word and singular(word) in ENGLISH_WORDS and len(singular(word)) >= 5)
            and word not in extra
            and not self.is_known(word)
            and colour_of(word) is None
        ):
            limit = 1 if len(word) <= 6 else 2
            best: tuple[int, int, float, str] | None = None
            for candidate in (*self.vocabulary, *extra):
                if abs(len(candidate) - len(word)) > limit or (candidate[0] != word[0] and len(word) <= 5):
                    continue
                distance = OSA.distance(word, candidate, score_cutoff=limit)
                if distance > limit:
                    continue
                # At the same distance two swapped letters are the likeliest typo ("balck" is black, not back;
                # "crat" is cart, not coat), then a key's neighbour ("bkack" is black, not back), then a catalog word
                # over one of the caller's own.
                rank = (
                    distance,
                    0 if _swapped(word, candidate) else 1,
                    0 if _fat_fingered(word, candidate) else 1,
                    0 if candidate in self.vocabulary else 1,
                    -fuzz.ratio(word, candidate),
                    candidate,
                )
                if best is None or rank < best:
                    best = rank
            if best is not None:
                result = best[-1]
            elif singular(word) != word:
                # "sokcs": the plural of a typo of a word the catalog has in the singular ("sokc" is sock)
                result = self.correct(singular(word), extra)
        self._corrections[key] = result
        return result

    def title_pairs(self) -> frozenset[tuple[str, str]]:
        """Each two words of a product's title in their order ("merino" then "sock", "steel" then "bottle"), built
        once per lexicon."""
        pairs = self.__dict__.get("_title_pairs")
        if pairs is None:
            pairs = frozenset(
                (first, second)
                for entry in self.by_id.values()
                for first, second in itertools.combinations([w for w in entry.title_words if w.isalpha()], 2)
            )
            self.__dict__["_title_pairs"] = pairs
        return pairs

    def title_word_set(self) -> frozenset[str]:
        """Every word of every product's title, built once per lexicon."""
        words = self.__dict__.get("_title_word_set")
        if words is None:
            words = frozenset(word for entry in self.by_id.values() for word in entry.title_words)
            self.__dict__["_title_word_set"] = words
        return words

    def _title_pair_ends(self) -> tuple[frozenset[str], frozenset[str]]:
        """The first words and the second words of `title_pairs`, built once per lexicon."""
        ends = self.__dict__.get("_title_pair_ends_cache")
        if ends is None:
            pairs = self.title_pairs()
            ends = (frozenset(first for first, _ in pairs), frozenset(second for _, second in pairs))
            self.__dict__["_title_pair_ends_cache"] = ends
        return ends

    def dictation_corrected(self, text: str) -> str:
        """`text` with an everyday word that sounds like a word of a product's title, said right beside another word
        of that title, written as the title's word: "white steal bottle" (steel), "marina socks" (merino), "pink
        fitness ban" (band). A spell checker keeps these (each is a word of its own) and a voice keyboard makes them.
        The word must start with the same letter and be one edit away (two for words of five letters or more), and
        must not be a word the catalog knows, a colour, a number or an everyday little word ("which" is no watch)."""
        tokens = list(rx.finditer(r"[A-Za-z]+", text))
        if len(tokens) < 2:
            return text
        pairs = self.title_pairs()
        firsts, seconds = self._title_pair_ends()
        replaced: dict[int, str] = {}
        for left, right in itertools.pairwise(tokens):
            if right.start() - left.end() > 2:
                continue  # "steal, bottle": words apart
            said_left, said_right = left.group(0).lower(), right.group(0).lower()
            if singular(said_right) in seconds and not self._known_word(said_left):
                meant = self._sounds_like(said_left, [a for a, b in pairs if b == singular(said_right)])
                if meant:
                    replaced[left.start()] = meant
            elif said_left in firsts and not self._known_word(said_right):
                meant = self._sounds_like(said_right, [b for a, b in pairs if a == said_left])
                if meant:
                    replaced[right.start()] = meant + (
                        "s" if said_right.endswith("s") and not meant.endswith("s") else ""
                    )
        if not replaced:
            return text
        result, cursor = [], 0
        for token in tokens:
            if token.start() in replaced:
                result.append(text[cursor : token.start()])
                result.append(replaced[token.start()])
                cursor = token.end()
        result.append(text[cursor:])
        return "".join(result)

    def _known_word(self, word: str) -> bool:
        return self.is_known(word) or colour_of(word) is not None or len(word) < 3 or word in COMMON_WORDS

    @staticmethod
    def _sounds_like(word: str, candidates: list[str]) -> str | None:
        limit = 2 if len(word) >= 5 else 1
        close = sorted(
            (OSA.distance(word, candidate), candidate)
            for candidate in candidates
            if candidate[0] == word[0] and candidate != word and abs(len(candidate) - len(word)) <= limit
        )
        return close[0][1] if close and close[0][0] <= limit else None

    def correct_text(self, text: str, extra: frozenset[str] = frozenset()) -> str:
        """Normalized text with each unknown word replaced by its correction (see `correct`)."""
        return " ".join(self.correct(word, extra) for word in text.split())

    def words(self, text: str) -> list[str]:
        """Normalized, phrase-joined, singular, typo-corrected, synonym-mapped words of `text`."""
        result: list[str] = []
        for word in _WORD.findall(join_phrases(normalize(text))):
            if word in self.compounds:
                result.extend(self.compounds[word])  # "trailblazer": the Trail Blazer's two title words
                continue
            word = colour_of(word) or singular(self.correct(word))
            result.extend(WORD_SYNONYMS.get(word, (word,)))
        return result

    def title_word_owners(self) -> dict[str, frozenset[str]]:
        """Each product's head word (the last word of its title in letters: "headlamp", "duffel", "roller") with the
        products whose title ends so (built once per lexicon). A modifier ("gym" of the Gym Duffel) is no head: "my
        gym" names no duffel."""
        owners = self.__dict__.get("_title_word_owners")
        if owners is None:
            collected: dict[str, set[str]] = {}
            for entry in self.by_id.values():
                heads = [word for word in entry.title_words if word.isalpha()]
                if heads:
                    collected.setdefault(heads[-1], set()).add(entry.id)
            owners = {word: frozenset(ids) for word, ids in collected.items()}
            self.__dict__["_title_word_owners"] = owners
        return owners

    def is_known(self, word: str) -> bool:
        return word in self.vocabulary or singular(word) in self.vocabulary

    def colour_words(self, words: Sequence[str]) -> list[str]:
        return [colour for colour in (colour_of(word) for word in words) if colour]

    def category_ids(self, category: str) -> tuple[str, ...]:
        return self.categories.get(category, ())

    # -- resolution --------------------------------------------------------------------------------

    def resolve(self, words: Sequence[str], *, colour: str | None = None, describing: Sequence[str] = ()) -> Resolution:
        """The products `words` (from `self.words`) name, best first; see the module docstring. `describing`: what
        the thing is for or goes with ("earphones *for the gym*", "socks *to wear with my hiking boots*"), which only
        tells apart the products the words name, never names one itself."""
        if any(previous in OTHER_KINDS.get(word, ()) for previous, word in itertools.pairwise(words)):
            return Resolution(words=tuple(word for word in words if word not in COMMON_WORDS))
        # The colour said first, then what it is for among those: "khaki shorts with the big side pockets" are the
        # cargo shorts, the only khaki ones.
        resolution = self._resolve(words, colour=colour)
        if self._another_thing(resolution):
            return Resolution(words=resolution.words)
        if not describing:
            return resolution
        if (
            ANIMAL_WORDS & set(describing)
            and resolution.product_ids
            and all(self.by_id[pid].category in _WEARABLE_CATEGORIES for pid in resolution.product_ids)
        ):
            return Resolution(words=resolution.words)  # "a raincoat for my dog": nothing the shop sells
        if len(resolution.product_ids) > 1:
            narrowed = self.described(resolution.product_ids, describing)
            if narrowed != resolution.product_ids:
                categories = {self.by_id[pid].category for pid in narrowed}
                return replace(
                    resolution,
                    product_ids=narrowed,
                    category=resolution.category or (categories.pop() if len(categories) == 1 else None),
                    # "socks for hiking": one product of the kind said, as good as its name
                    named=resolution.named or len(narrowed) == 1,
                )
        if (
            len(resolution.product_ids) == 1
            and not resolution.named
            and self._feature_matches(resolution.product_ids[0], describing, plain=True)
        ):
            # "a kit bag for the gym in grey": the one grey bag, and the one for the gym, as good as its name
            return replace(resolution, named=True)
        if not resolution.product_ids:
            found = self.described_anywhere([*resolution.words, *describing])
            if found:
                categories = {self.by_id[pid].category for pid in found}
                return replace(
                    resolution,
                    product_ids=found,
                    category=categories.pop() if len(categories) == 1 else None,
                    described=True,
                )
        return resolution

    def _another_thing(self, resolution: Resolution) -> bool:
        """ "2 yoga blocks", "foam blocks": a word of a product's name that only says what kind (the Yoga Mat's "yoga"),
        followed by a thing the shop has no word for, is that other thing (two yoga mats were read). Only when the
        product was named by such words alone, never by its whole title or its own noun ("mat")."""
        if not resolution.product_ids or resolution.exact or not resolution.used:
            return False
        heads = {self.by_id[pid].title_words[-1] for pid in resolution.product_ids if pid in self.by_id}
        if resolution.used & heads:
            return False
        words = resolution.words
        if len(words) != 2 or words[0] not in resolution.used:
            return False  # only "<kind word> <thing>", said alone: a longer phrase is the customer's own words
        if not any(words[0] in self.by_id[pid].title_words for pid in resolution.product_ids if pid in self.by_id):
            return False  # a category's word ("shoes between …") is no word of a product's name
        following = words[1]
        return (
            following not in self.vocabulary
            and following not in COMMON_WORDS
            and following.isalpha()
            and len(following) > 3
            and colour_of(following) is None
            # a misspelt word of the catalog ("yoga matt", "fitness bland", "tempo razor") is that word
            and not any(
                fuzz.ratio(following, known) >= 60
                for pid in resolution.product_ids
                if pid in self.by_id
                for known in self.by_id[pid].title_words
            )
        )

    def _resolve(self, words: Sequence[str], *, colour: str | None = None) -> Resolution:
        present = set(words)
        content = tuple(word for word in words if word not in COMMON_WORDS)
        content = tuple(word for word in content if not word.isdigit())
        # 1. A whole title.
        exact = [entry for entry in self.products if entry.required_words and entry.required_words <= present]
        if exact:
            longest = max(len(entry.required_words) for entry in exact)
            chosen = [entry for entry in exact if len(entry.required_words) == longest]
            used = frozenset().union(*(entry.required_words for entry in chosen))
            categories = {entry.category for entry in chosen}
            return Resolution(
                product_ids=tuple(entry.id for entry in chosen),
                category=categories.pop() if len(categories) == 1 else None,
                exact=True,
                named=True,
                used=used,
                words=content,
            )
        # 2. Categories and generic words.
        covered: list[str] = []  # product ids, in catalog order
        used_words: set[str] = set()
        categories_said: list[str] = []
        sequence = list(content)
        index = 0
        while index < len(sequence):
            pair = " ".join(sequence[index : index + 2])
            targets: tuple[str, ...] | None = None
            width = 1
            if pair in self._category_words:
                targets, width = (f"cat:{self._category_words[pair]}",), 2
            elif pair in GROUP_PHRASES:
                targets, width = GROUP_PHRASES[pair], 2
            elif sequence[index] in self._category_words:
                targets = (f"cat:{self._category_words[sequence[index]]}",)
            elif sequence[index] in GROUPS:
                targets = GROUPS[sequence[index]]
            if targets:
                for target in targets:
                    kind, _, name = target.partition(":")
                    if kind == "cat" and name in self.categories:
                        categories_said.append(name)
                        covered.extend(self.categories[name])
                    elif kind == "tok":
                        covered.extend(entry.id for entry in self.products if name in entry.title_words)
                used_words.update(sequence[index : index + width])
                index += width
            else:
                index += 1
        covered = list(dict.fromkeys(covered))
        # 3. Distinctive title (and brand) words.
        distinctive = [
            word for word in content
            if word not in used_words and colour_of(word) is None and (
                word in self.brands or any(word in entry.title_words for entry in self.products)
            )
        ]  # fmt: skip
        scope = [self.by_id[pid] for pid in covered] if covered else list(self.products)
        chosen_entries: list[ProductEntry] = []
        best_score = 0
        if distinctive:
            scored = []
            for entry in scope:
                score = sum(1 for word in distinctive if word in entry.title_words or word == entry.brand.lower())
                strong = any(
                    word not in WEAK_TITLE_WORDS
                    # "the 12kg ones": a measure only one product's title has names it
                    or (
                        rx.fullmatch(r"\d+(?:kg|l|ml)", word) is not None
                        and sum(word in other.title_words for other in self.products) == 1
                    )
                    for word in distinctive
                    if word in entry.title_words or word == entry.brand.lower()
                )
                scored.append((score, strong, entry))
            best = max((score for score, _, _ in scored), default=0)
            if best > 0:
                chosen_entries = [entry for score, strong, entry in scored if score == best and (strong or covered)]
                best_score = best if chosen_entries else 0
            if not chosen_entries and covered:
                chosen_entries = _described(scope, distinctive, self)
        elif covered:
            chosen_entries = _described(scope, [word for word in content if word not in used_words], self)
        described_only = False
        if not chosen_entries and not covered and not distinctive:
            # 4. Described, not named: "something that counts my steps and sleep", "a bottle that keeps water cold".
            described = self.described_anywhere(content)
            described_only = bool(described)
            if described:
                chosen_entries = [self.by_id[pid] for pid in described]
                used_words |= {word for word in content if word in FEATURE_WORDS}
        if not chosen_entries:
            return Resolution(words=content)
        if colour:
            coloured = [entry for entry in chosen_entries if colour in entry.colours]
            # The one product named, in a colour it is not made in ("a black beanie"), is still that product: the
            # policy says which colours it comes in (a search for the words would only find it again).
            chosen_entries = coloured if coloured or len(chosen_entries) != 1 else chosen_entries
            # The product named by its colour first ("blue" → Blue Runner among running shoes).
            chosen_entries.sort(key=lambda entry: colour not in entry.title_words)
        category = None
        if len(categories_said) == 1:
            category = categories_said[0]
        elif chosen_entries and len({entry.category for entry in chosen_entries}) == 1:
            category = chosen_entries[0].category
        return Resolution(
            product_ids=tuple(entry.id for entry in chosen_entries[:10]),
            category=category,
            named=bool(distinctive) and best_score > 0,
            used=frozenset(used_words | set(distinctive)),
            words=content,
            described=described_only,
        )

    def find(self, text: str, *, colour: str | None = None) -> Resolution:
        return self.resolve(self.words(text), colour=colour)

    # -- what the shop says of its products ----------------------------------------------------------------

    def features(self, product_id: str) -> frozenset[str]:
        """A product's description and title words, hyphenated ones also in parts ("elastic-sided": elastic, sided)."""
        cache: dict[str, frozenset[str]] = self.__dict__.setdefault("_features", {})
        found = cache.get(product_id)
        if found is None:
            entry = self.by_id[product_id]
            words = set(entry.description_words) | set(entry.title_words)
            words |= {part for word in words if "-" in word for part in word.split("-") if len(part) > 2}
            found = cache[product_id] = frozenset(words - _DESCRIPTION_STOP_WORDS)
        return found

    def _feature_matches(self, product_id: str, words: Sequence[str], *, plain: bool) -> int:
        """How many of `words` the product's own words have: a feature word through what shops call it
        (`FEATURE_WORDS`), and with `plain` any other word of its description as it is ("padded collar")."""
        own = self.features(product_id)
        count = 0
        for word in dict.fromkeys(words):
            wanted = FEATURE_WORDS.get(word)
            if wanted is not None:
                count += any(feature in own for feature in wanted)
            elif plain and word in own and colour_of(word) is None and not word.isdigit() and len(word) > 2:
                count += 1
        return count

    def feature_matches(self, product_id: str, words: Sequence[str]) -> int:
        """How many of what the customer said of a thing (`FEATURE_WORDS`) the shop says of this product."""
        return self._feature_matches(product_id, words, plain=False) if product_id in self.by_id else 0

    def described(self, product_ids: Sequence[str], words: Sequence[str]) -> tuple[str, ...]:
        """Of `product_ids` (one kind the customer named), those the shop describes with the most of what the customer
        said of the thing ("wool socks", "shorts with a zip pocket", "a bag for weekend hikes"); all of them when
        nothing said tells them apart."""
        ids = tuple(pid for pid in product_ids if pid in self.by_id)
        if len(ids) < 2:
            return tuple(product_ids)
        scores = {pid: self._feature_matches(pid, words, plain=True) for pid in ids}
        best = max(scores.values())
        if best == 0:
            return tuple(product_ids)
        return tuple(pid for pid in ids if scores[pid] == best)

    def described_anywhere(self, words: Sequence[str]) -> tuple[str, ...]:
        """The products a customer describes without naming them or their kind ("something that counts my steps and
        sleep", "a bottle that keeps water cold"): those with a feature that tells them alone (`STRONG_FEATURES`), or
        two of what was said; the best-matched ones, at most four, else none."""
        said = [word for word in dict.fromkeys(words) if word in FEATURE_WORDS]
        content = [
            word
            for word in dict.fromkeys(words)
            if word not in COMMON_WORDS and not word.isdigit() and len(word) > 2 and colour_of(word) is None
        ]
        if not said or len(said) * 2 < len(content) or _PROCESS_WORDS & set(content):
            # mostly about something else: "undo the confirmation step and just place it" is no step counter
            return ()
        scored: list[tuple[int, str]] = []
        for entry in self.products:
            own = self.features(entry.id)
            matched = [word for word in said if any(feature in own for feature in FEATURE_WORDS[word])]
            if len(matched) >= 2 or any(word in STRONG_FEATURES for word in matched):
                scored.append((len(matched), entry.id))
        if not scored:
            return ()
        best = max(score for score, _ in scored)
        chosen = tuple(pid for score, pid in scored if score == best)
        return chosen if len(chosen) <= 4 else ()


def _described(scope: list[ProductEntry], words: Sequence[str], lexicon: CatalogLexicon) -> list[ProductEntry]:
    """Of the products of a kind the customer named, those the shop describes with most of the words they added
    ("wool socks": the socks described as wool); all of them when nothing added tells them apart."""
    extra = [word for word in words if word not in COMMON_WORDS and colour_of(word) is None and not word.isdigit()]
    if not extra or len(scope) < 2:
        return scope
    chosen = set(lexicon.described([entry.id for entry in scope], extra))
    return [entry for entry in scope if entry.id in chosen]


# -- the merchant's lexicon, cached per process -------------------------------------------------------

_CACHE: dict[str, tuple[float, CatalogLexicon]] = {}
_CACHE_LOCK = threading.Lock()


def catalog_lexicon(merchant_id: str) -> CatalogLexicon:
    """The lexicon of a merchant's catalog, fetched through the contract and kept for
    `ORDERING_LEXICON_TTL_SECONDS` (default 300) so a turn does not fetch the catalog again."""
    from django.conf import settings

    from catalog_adapters.registry import get_merchant

    ttl = float(getattr(settings, "ORDERING_LEXICON_TTL_SECONDS", 300))
    now = time.monotonic()
    with _CACHE_LOCK:
        cached = _CACHE.get(merchant_id)
        if cached and now - cached[0] < ttl:
            return cached[1]
    products = get_merchant(merchant_id).catalog.search_products(query="", limit=100)
    lexicon = CatalogLexicon.from_products(products)
    with _CACHE_LOCK:
        _CACHE[merchant_id] = (now, lexicon)
    return lexicon


def catalog_lexicon_forget(merchant_id: str | None = None) -> None:
    """Drop the cached lexicon (one merchant's, or all): after a catalog change, and in tests."""
    with _CACHE_LOCK:
        if merchant_id is None:
            _CACHE.clear()
        else:
            _CACHE.pop(merchant_id, None)


def catalog_lexicons_warm() -> list[str]:
    """Fetch every merchant's catalog lexicon into this process's cache; returns the merchants warmed.

    A merchant that cannot be reached is skipped (its first turn fetches it, as without warming). A new
    worker process runs this as it starts (ordering/apps.py)."""
    from django.conf import settings
    from django.db import close_old_connections

    warmed = []
    for merchant_id in settings.MERCHANTS:
        try:
            catalog_lexicon(merchant_id)
        except Exception:
            logging.getLogger("ordering.agent").warning(
                "catalog lexicon warm-up failed", extra={"merchant": merchant_id}, exc_info=True
            )
        else:
            warmed.append(merchant_id)
    close_old_connections()
    return warmed
