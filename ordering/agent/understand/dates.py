"""Relative dates as shoppers say them, turned into a look-back window in days.

`since_days` is how far back to look for a saved item: wide enough to include the whole period said,
and needing no clock (so the reading is pure). The table:

    today, this morning, earlier            1
    yesterday, last night                   2
    on monday … on sunday, this week,
    the other day, a few/couple of days ago 8
    N days ago                              N + 1
    last week, a week ago, last monday …    14
    N weeks ago                             7·N + 7
    recently, lately, this month            31
    last month, a month ago                 62
    N months ago                            31·(N + 1)
    N years ago                             365·(N + 1)
    ("back" for "ago" too: "a few weeks back")
    last year, a year ago                   730
"""

from __future__ import annotations

import re

from ordering.agent.understand.numbers import parse_quantity

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = "(?:" + "|".join(WEEKDAYS) + ")"

_FIXED: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"\b(?:today|this morning|this afternoon|earlier today|tonight)\b"), 1),
    (re.compile(r"\b(?:yesterday|last night|yday)\b"), 2),
    (re.compile(rf"\b(?:last|past)\s+{_WEEKDAY}\b"), 14),
    (re.compile(rf"\b(?:on\s+)?{_WEEKDAY}\b"), 8),
    (
        re.compile(
            r"\b(?:this week|the other day|a few days ago|few days ago|couple (?:of )?days ago|a couple of days)\b"
        ),
        8,
    ),
    (re.compile(r"\b(?:last week|a week ago|past week|previous week|one week ago|the week before)\b"), 14),
    (re.compile(r"\b(?:recently|lately|this month)\b"), 31),
    # "a while back": longer than recently (the socks bought five weeks before were not found)
    (re.compile(r"\b(?:a while ago|a while back|some time ago|a bit ago|ages ago)\b"), 365),
    (re.compile(r"\b(?:last month|a month ago|past month|previous month|one month ago)\b"), 62),
    (re.compile(r"\b(?:last year|a year ago|past year)\b"), 730),
]
# "3 weeks ago", "a few weeks back" ("a few weeks back" was read as 3 of the thing liked)
_AGO = re.compile(r"\b([a-z0-9-]+(?:\s+[a-z]+)?)\s+(days?|weeks?|months?|years?)\s+(?:ago|back)\b")
_PAST = re.compile(r"\b(?:in the )?(?:last|past)\s+([a-z0-9-]+(?:\s+[a-z]+)?)\s+(days?|weeks?|months?)\b")


def _window(count: int, unit: str) -> int:
    if unit.startswith("day"):
        return count + 1
    if unit.startswith("week"):
        return 7 * count + 7
    if unit.startswith("year"):
        return 365 * (count + 1)
    return 31 * (count + 1)


def since_days(text: str) -> tuple[int | None, tuple[int, int] | None]:
    """(days to look back, span of the words in text) for the first relative date in normalized text."""
    for pattern, days in _FIXED[4:5]:  # "a few days ago", "a couple of days ago": the table, not a count
        match = pattern.search(text)
        if match:
            return days, (match.start(), match.end())
    for pattern in (_AGO, _PAST):
        match = pattern.search(text)
        if match:
            words = match.group(1).split()
            # "2 weeks ago", "two weeks ago", "a couple of weeks ago": read the count from the end.
            for start in range(len(words)):
                value, used = parse_quantity(words, start)
                if value is not None and start + used == len(words) and value > 0:
                    return min(_window(value, match.group(2)), 3650), (match.start(), match.end())
    for pattern, days in _FIXED:
        match = pattern.search(text)
        if match:
            return days, (match.start(), match.end())
    return None, None
