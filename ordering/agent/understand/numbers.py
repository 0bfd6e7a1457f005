"""Numbers as shoppers write them: digits, number words, "a couple", "a pair", "a dozen".

A quantity is returned exactly as said, even when the shop cannot sell it (0, -2, 10000): the policy
refuses it in words; nothing here clamps it.
"""

from __future__ import annotations

import re

from ordering.agent.understand import rx

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
# Phrases that stand for a count (checked longest first).
PHRASES = {
    "half a dozen": 6,
    "a dozen": 12,
    "dozen": 12,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "a few": 3,
    "a pair of": 1,
    "pair of": 1,
    "a single": 1,
    "single": 1,
    "a": 1,
    "an": 1,
    "another": 1,
    "both": 2,
}
NUMBER_WORDS = frozenset(UNITS) | frozenset(TENS) | frozenset(SCALES)

# The phrases longest first, split once (they were sorted and split at every call, ~100 calls a message)
_PHRASES_LONGEST_FIRST = tuple(
    (phrase, phrase.split(), value) for phrase, value in sorted(PHRASES.items(), key=lambda item: -len(item[0]))
)
_DIGITS = re.compile(r"^[-\u2212]?\d{1,9}$")


def number_from_digits(token: str) -> int | None:
    """ "3" → 3, "-2" → -2, "10,000" → 10000; anything else → None."""
    cleaned = token.replace(",", "").replace("\u2212", "-")
    if _DIGITS.match(cleaned):
        return int(cleaned)
    return None


def parse_number_words(tokens: list[str], start: int = 0) -> tuple[int | None, int]:
    """Read a number written in words from tokens[start:]: ("twenty", "five") → 25, ("ten", "thousand")
    → 10000. Returns (value, tokens used); (None, 0) when tokens[start] starts no number."""
    total = 0
    current = 0
    used = 0
    index = start
    seen = False
    while index < len(tokens):
        word = tokens[index]
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word in SCALES and seen:
            scale = SCALES[word]
            if scale == 100:
                current *= 100
            else:
                total += current * scale
                current = 0
        elif seen and word == "and" and index + 1 < len(tokens) and tokens[index + 1] in NUMBER_WORDS:
            index += 1  # "one hundred and five": the "and" inside a number
            continue
        else:
            break
        seen = True
        index += 1
        used = index - start
    if not seen:
        return None, 0
    return total + current, used


def parse_quantity(tokens: list[str], start: int = 0) -> tuple[int | None, int]:
    """A count at tokens[start]: digits ("2", "-2", "x2", "2x"), words ("two", "twenty five") or phrases
    ("a couple of", "a pair of", "a dozen"). Returns (value, tokens used) or (None, 0)."""
    if start >= len(tokens):
        return None, 0
    word = tokens[start]
    for phrase, words, value in _PHRASES_LONGEST_FIRST:
        if tokens[start : start + len(words)] == words:
            # "a couple", "a pair of": a number word may follow "a" ("a hundred") — prefer the number.
            if phrase in ("a", "an") and start + 1 < len(tokens) and tokens[start + 1] in SCALES:
                # "a hundred", "a thousand": the scale is the number.
                return SCALES[tokens[start + 1]], 2
            return value, len(words)
    match = rx.match(r"^(?:x|\u00d7)([-\u2212]?\d{1,9})$|^([-\u2212]?\d{1,9})(?:x|\u00d7)$", word)
    if match:
        return int((match.group(1) or match.group(2)).replace("\u2212", "-")), 1
    value = number_from_digits(word)
    if value is not None:
        return value, 1
    return parse_number_words(tokens, start)
