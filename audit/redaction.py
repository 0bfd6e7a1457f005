"""What never enters the audit log, and what must stay in it exactly as it was.

An audit event is evidence: the preview hash a customer confirmed, the checkout session a flow started,
the merchant's order id must read back byte for byte. Redaction therefore removes only what is a secret
for sure, and nothing that merely looks like one:

- **By exact key.** A value under one of `SECRET_KEYS` (compared after lower-casing and turning
  camelCase, dashes, dots and spaces into underscores: `Authorization`, `cardNumber`, `api-key`) is
  replaced by `[redacted]`, whatever it holds. Keys are never matched by pattern: `checkout_session_id`,
  `authentication_session_id`, `preview_hash`, `token_expires_at` or `refund_key` are identifiers our own
  code writes on purpose, not secrets.
- **Card numbers in text.** A 13-19 digit run in a string (digits alone, or in groups joined by single
  spaces or dashes, "4242 4242 4242 4242") is removed only when it passes the Luhn check *and* stands on
  its own: not inside a longer token (a hex hash, `ord_8756e03779f61699…`, a UUID, `v1.4242…`), and not a
  piece of a longer digit group. A run of space-separated groups is checked as a whole and group by group
  ("4242424242424242 12/27" loses the card, keeps the expiry); a dash-joined chunk is never split (an
  all-digit UUID is not a card). A 16-digit number that fails Luhn is kept: it is not a card number.
- **Security codes in text.** Three or four digits right after "CVC", "CVV" or "security code".

Numbers stored as JSON numbers (amounts, ids, counts) are not touched: card data travels as strings.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

REDACTED = "[redacted]"

# Keys whose values never enter the log, whatever their content (docs/audit.md, "What is redacted").
SECRET_KEYS = frozenset(
    {
        # card data (ACP's card object calls the number `number`)
        "card_number", "number", "pan", "cvc", "cvv", "cvc2", "cvv2", "security_code", "card_security_code",
        "three_ds_cryptogram", "cryptogram",
        # credentials of people
        "password", "passwd", "password1", "password2", "old_password", "new_password", "new_password1",
        "new_password2", "otp", "otp_token", "otp_code", "totp", "totp_code",
        # bearer credentials: delegated payment tokens, API keys, signing secrets, session cookies
        "token", "access_token", "refresh_token", "id_token", "payment_token", "delegated_token", "vault_token",
        "spt", "authorization", "proxy_authorization", "cookie", "set_cookie", "sessionid", "session_key",
        "csrftoken", "csrfmiddlewaretoken", "secret", "client_secret", "webhook_secret", "signing_secret",
        "secret_key", "api_key", "apikey", "x_api_key", "private_key", "credential", "credentials",
    }
)  # fmt: skip

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[\s.\-]+")
# A maximal run of ASCII digit groups joined by one space or dash each.
_DIGIT_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_SECURITY_CODE = re.compile(r"(?i)\b(cvc2?|cvv2?|security code)(\W{0,3})[0-9]{3,4}(?![0-9])")
_CARD_DIGITS = range(13, 20)
_ANY_DIGIT = re.compile(r"[0-9]")


def key_is_secret(key: object) -> bool:
    """Whether a value under `key` is a secret (one of `SECRET_KEYS`, however the key is cased or joined)."""
    if type(key) is str:
        return _str_key_is_secret(key)
    return _normal_key(str(key)) in SECRET_KEYS


def _normal_key(key: str) -> str:
    return _SEPARATORS.sub("_", _CAMEL.sub("_", key)).strip("_").lower()


# Payload keys come from a small set our code writes: remember the answer (plain strings only, so `1` and
# `True`, equal as keys, are never confused; the cache is bounded for keys that come from outside).
@functools.lru_cache(maxsize=4096)
def _str_key_is_secret(key: str) -> bool:
    return _normal_key(key) in SECRET_KEYS


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number passes."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(chunk: str) -> int:
    return sum(char.isdigit() for char in chunk)


def _is_card(chunk: str) -> bool:
    digits = chunk.replace(" ", "").replace("-", "")
    return len(digits) in _CARD_DIGITS and luhn_valid(digits)


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


# A run is part of a longer token when a word character touches it, or one stands right behind a joining
# dash or dot: a hex hash, `ord_…`, a UUID, `v1.…`, a decimal.
def _token_before(text: str, start: int) -> bool:
    return start > 0 and (
        _word_char(text[start - 1]) or (text[start - 1] in "-." and start > 1 and _word_char(text[start - 2]))
    )


def _token_after(text: str, end: int) -> bool:
    return end < len(text) and (
        _word_char(text[end]) or (text[end] in "-." and end + 1 < len(text) and _word_char(text[end + 1]))
    )


def _card_spans(text: str, chunks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of the card numbers among consecutive space-separated `chunks` of `text`: all of them, or else
    runs of consecutive chunks (the longest from the leftmost chunk first), never overlapping and never
    splitting a chunk (a dash-joined all-digit UUID is one chunk, far too long for a card)."""
    if chunks and _is_card(text[chunks[0][0] : chunks[-1][1]]):
        return [(chunks[0][0], chunks[-1][1])]
    spans: list[tuple[int, int]] = []
    index = 0
    while len(chunks) > 1 and index < len(chunks):
        found = None
        digits = 0
        for last in range(index, len(chunks)):
            digits += _digits(text[chunks[last][0] : chunks[last][1]])
            if digits > _CARD_DIGITS[-1]:
                break
            if _is_card(text[chunks[index][0] : chunks[last][1]]):
                found = last
        if found is None:
            index += 1
            continue
        spans.append((chunks[index][0], chunks[found][1]))
        index = found + 1
    return spans


def redact_text(text: str) -> str:
    """`text` without the card numbers and security codes it holds (see the module docstring)."""
    if _ANY_DIGIT.search(text) is None:
        # Card numbers and security codes are digits: text without an ASCII digit has neither.
        return str.__str__(text)
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        chunks = [(run.start() + m.start(), run.start() + m.end()) for m in re.finditer(r"[^ ]+", run.group())]
        # A chunk touching a longer token belongs to it (`ord_123 4242 …` keeps `123` with the id).
        if _token_before(text, chunks[0][0]):
            chunks = chunks[1:]
        if chunks and _token_after(text, chunks[-1][1]):
            chunks = chunks[:-1]
        spans.extend(_card_spans(text, chunks))
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        pieces += [text[position:start], REDACTED]
        position = end
    pieces.append(text[position:])
    return _SECURITY_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", "".join(pieces))


def redact(value: Any) -> Any:
    """A JSON-safe copy of `value` with secrets (by key) and card numbers and security codes (in text) removed."""
    if isinstance(value, Mapping):
        return {str(key): REDACTED if key_is_secret(key) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))
