"""The `re` functions the reader calls with a pattern written where it is used, over a compile cache of their own.

The reader writes most of its ~700 patterns inline (`re.sub(r"…", …)`), next to the case each one reads. `re` keeps
compiled patterns in a cache of 512 that drops the oldest one first: with more patterns than that, read in the same
order for every message, every pattern missed the cache and was compiled again (0.6 ms of a message's 4.5 ms on the
shipped corpus; `tests/understanding/test_rx.py`). This cache holds 4,096 and drops the least recently used one, so a
pattern made from a customer's words (a code, a colour, escaped) can never push out the reader's own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator

CACHE_SIZE = 4096

_Pattern = str | re.Pattern[str]
_Flags = int | re.RegexFlag


@functools.lru_cache(maxsize=CACHE_SIZE)
def compile(pattern: _Pattern, flags: _Flags = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def search(pattern: _Pattern, string: str, flags: _Flags = 0) -> re.Match[str] | None:
    return compile(pattern, flags).search(string)


def match(pattern: _Pattern, string: str, flags: _Flags = 0) -> re.Match[str] | None:
    return compile(pattern, flags).match(string)


def fullmatch(pattern: _Pattern, string: str, flags: _Flags = 0) -> re.Match[str] | None:
    return compile(pattern, flags).fullmatch(string)


def sub(
    pattern: _Pattern, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0, flags: _Flags = 0
) -> str:
    return compile(pattern, flags).sub(repl, string, count)


def subn(
    pattern: _Pattern, repl: str | Callable[[re.Match[str]], str], string: str, count: int = 0, flags: _Flags = 0
) -> tuple[str, int]:
    return compile(pattern, flags).subn(repl, string, count)


def split(pattern: _Pattern, string: str, maxsplit: int = 0, flags: _Flags = 0) -> list[str]:
    return compile(pattern, flags).split(string, maxsplit)


def findall(pattern: _Pattern, string: str, flags: _Flags = 0) -> list:
    return compile(pattern, flags).findall(string)


def finditer(pattern: _Pattern, string: str, flags: _Flags = 0) -> Iterator[re.Match[str]]:
    return compile(pattern, flags).finditer(string)
