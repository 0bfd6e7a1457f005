"""Sizes as shoppers say them, mapped to the shop's own labels.

Shoe sizes: the demo shop (and most European shops) label shoes in EU sizes. A size said in another
system is converted with this table (men's sizes, the usual retail approximation):

    EU = US men's + 33      US 7 → 40, US 8 → 41, US 9 → 42, US 10 → 43, US 11 → 44, US 12 → 45
    EU = UK + 34            UK 6 → 40, UK 7 → 41, UK 8 → 42, UK 9 → 43, UK 10 → 44, UK 11 → 45
    EU = US women's + 31    W 9 → 40, W 10 → 41, W 11 → 42

"men's 9" is US men's. A half size (US 9.5) falls between two EU sizes: both are offered. A bare small
number ("size 9") could be US or UK: it is never guessed; the reading carries the words as said and the
EU sizes it could be (US 9 → 42, UK 9 → 43), and the policy asks which. A number from 30 to 50 is an
EU size already (30 to 34 are children's sizes: "court classic 34" was 34 pairs; the policy says which sizes the shoe
comes in).

Clothing sizes: XS, S, M, L, XL, XXL, from letters or words ("medium", "extra large", "x-large").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ordering.agent.understand import rx

EU_SHOE_RANGE = range(30, 51)
US_MEN_OFFSET = 33
UK_OFFSET = 34
US_WOMEN_OFFSET = 31

CLOTHING_WORDS: dict[str, str] = {
    "extra extra large": "XXL",
    "extra small": "XS",
    "extra large": "XL",
    "x-large": "XL",
    "x large": "XL",
    "xlarge": "XL",
    "x-small": "XS",
    "xx-large": "XXL",
    "2xl": "XXL",
    "xxl": "XXL",
    "xl": "XL",
    "xs": "XS",
    "small": "S",
    "medium": "M",
    "med": "M",
    # typed short on a phone: "cotton tee grey md", "shorts lg"
    "md": "M",
    "sm": "S",
    "sml": "S",
    "lg": "L",
    "lrg": "L",
    "xlg": "XL",
    "large": "L",
    "s": "S",
    "m": "M",
    "l": "L",
}
# Letters alone are read as sizes only after "size"/"in"/"a" or as a whole answer: "m" and "s" are too short.
# Letter sizes from small to large: "a size up" from M is L.
LETTER_SIZES = ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL")
SHORT_CLOTHING = frozenset({"s", "m", "l", "med", "md", "sm", "sml", "lg", "lrg", "xlg"})


@dataclass(frozen=True)
class SizeReading:
    size: str | None  # the shop's label when sure
    said: str  # the words as said
    options: tuple[str, ...] = ()  # shop sizes it could be, when not sure
    kind: str = "shoe"  # "shoe" or "clothing"
    start: int = 0
    end: int = 0


def _eu(value: float, offset: int) -> list[str]:
    eu = value + offset
    if eu == int(eu):
        return [str(int(eu))]
    return [str(math.floor(eu)), str(math.ceil(eu))]


def convert_shoe_size(value: float, system: str) -> list[str]:
    """EU labels for a size in `system` ("us", "uk", "us_women", "eu"); two labels for a half size."""
    if system == "eu":
        return _eu(value, 0)
    offset = {"us": US_MEN_OFFSET, "uk": UK_OFFSET, "us_women": US_WOMEN_OFFSET}[system]
    return _eu(value, offset)


def ambiguous_shoe_options(value: float, shop_sizes: tuple[str, ...] = ()) -> tuple[str, ...]:
    """A bare "size 9": the EU sizes it could be (US or UK), kept to the shop's when it sells any of them."""
    candidates = sorted(set(convert_shoe_size(value, "us")) | set(convert_shoe_size(value, "uk")), key=float)
    sold = [size for size in candidates if size in shop_sizes] if shop_sizes else candidates
    return tuple(sold or candidates)


_NUMBER = r"(\d{1,2}(?:\.5)?)"
_MEN = r"(?:men'?s|mens|man's|male)"
_WOMEN = r"(?:women'?s|womens|ladies'?|lady's|female)"
_SYSTEM_FIRST = re.compile(
    rf"\b(?:size\s+)?(us|uk|eu|euro|european)\s*(?:size\s*)?(?:({_MEN}|{_WOMEN})\s*)?(?:size\s*)?{_NUMBER}(?!\.?\d)"
)
_GENDER_FIRST = re.compile(rf"\b({_MEN}|{_WOMEN})\s*(?:size\s*)?(?:(us|uk|eu)\s*)?{_NUMBER}(?!\.?\d)")
_NUMBER_FIRST = re.compile(rf"\b(?:size\s+)?{_NUMBER}\s*(us|uk|eu|euro)\b(?:\s*({_MEN}|{_WOMEN}))?")
_NUMBER_GENDER = re.compile(rf"\b(?:size\s+)?{_NUMBER}\s+({_MEN}|{_WOMEN})(?!\s*(?:us|uk|eu)\b)")
_SIZE_NUMBER = re.compile(rf"\b(?:size|sz|sze|siz)\s*(?:is\s*)?:?\s*{_NUMBER}(?![\d.]|\s*(?:us|uk|eu)\b)")
_IN_NUMBER = re.compile(r"\b(?:in|an?|in an?|in size)\s+(\d{2})(?![\d.%]|\s*(?:us|uk|eu|x|pairs?|of)\b)")
_CLOTHING = re.compile(
    r"(?<![\w'])(?:(size|sz|in|an?|in an?|in size)\s+)?"
    r"(extra extra large|extra small|extra large|x-large|x large|xlarge|x-small|xx-large|2xl|xxl|xl|xs|small|medium|"
    r"med|md|sml|sm|lrg|lg|xlg|large|s|m|l)\b(?!')"
)


def _system(word: str | None, gender: str | None) -> str:
    if word in ("uk",):
        return "uk"
    if word in ("eu", "euro", "european"):
        return "eu"
    if gender and rx.fullmatch(_WOMEN, gender):
        return "us_women"
    return "us"


def _shoe(value_text: str, system: str, said: str, start: int, end: int, shop: tuple[str, ...]) -> SizeReading:
    value = float(value_text)
    labels = convert_shoe_size(value, system)
    if len(labels) == 1:
        return SizeReading(size=labels[0], said=said, kind="shoe", start=start, end=end)
    return SizeReading(size=None, said=said, options=tuple(labels), kind="shoe", start=start, end=end)


def find_shoe_size(text: str, shop_sizes: tuple[str, ...] = ()) -> SizeReading | None:
    """The first shoe size in normalized text: "us 9", "uk 8", "men's 9", "9 us", "size 42", "size 9",
    "in 42". A bare small number after "size" is ambiguous (options, no size)."""
    for pattern, build in (
        (_SYSTEM_FIRST, lambda m: (m.group(3), _system(m.group(1), m.group(2)))),
        (_GENDER_FIRST, lambda m: (m.group(3), _system(m.group(2), m.group(1)))),
        (_NUMBER_FIRST, lambda m: (m.group(1), _system(m.group(2), m.group(3)))),
        (_NUMBER_GENDER, lambda m: (m.group(1), _system(None, m.group(2)))),
    ):
        match = pattern.search(text)
        if match:
            value_text, system = build(match)
            return _shoe(value_text, system, match.group(0).strip(), match.start(), match.end(), shop_sizes)
    match = _SIZE_NUMBER.search(text) or _IN_NUMBER.search(text)
    if match:
        return bare_shoe_size(match.group(1), said=match.group(0).strip(), start=match.start(), end=match.end(),
                              shop_sizes=shop_sizes)  # fmt: skip
    return None


def bare_shoe_size(
    value_text: str, *, said: str | None = None, start: int = 0, end: int = 0, shop_sizes: tuple[str, ...] = ()
) -> SizeReading | None:
    """A number alone as a shoe size: 30 to 50 is EU; a small one (3 to 16) is US or UK, not guessed."""
    try:
        value = float(value_text)
    except ValueError:
        return None
    said = said or value_text
    if value == int(value) and int(value) in EU_SHOE_RANGE:
        return SizeReading(size=str(int(value)), said=said, start=start, end=end)
    if 3 <= value <= 16:
        return SizeReading(size=None, said=value_text, options=ambiguous_shoe_options(value, shop_sizes),
                           start=start, end=end)  # fmt: skip
    return None


def find_clothing_size(text: str, *, letters_alone: bool = False) -> SizeReading | None:
    """The first clothing size in normalized text; single letters ("m") only after "size"/"in"/"a", or
    anywhere when `letters_alone` (a short answer to "which size?")."""
    for match in _CLOTHING.finditer(text):
        lead, word = match.group(1), match.group(2)
        if word in SHORT_CLOTHING and not lead and not letters_alone:
            continue
        if word in SHORT_CLOTHING and lead in ("a", "an") and word in ("s", "l"):
            continue
        start = match.start(2) if lead in ("a", "an") else match.start()
        return SizeReading(size=CLOTHING_WORDS[word], said=match.group(0).strip(), kind="clothing",
                           start=start, end=match.end())  # fmt: skip
    return None


def normalize_clothing(word: str) -> str | None:
    return CLOTHING_WORDS.get(word.strip().lower())
