"""Self-corrections inside one message: "blue runner 42, no sorry, 41" asks for the 41 only.

People type the way they speak: a value, an editing phrase ("no sorry", "no wait", "i mean", "actually", "make
that"), and the value that replaces it. Read word by word, such a message names two sizes (two pairs of shoes)
or a size and a quantity ("42 no wait 43": 43 pairs of the 42). Before anything else reads the message, each
such repair is applied: the value said after the editing phrase takes the place of the last value of the
same kind said before it, and the editing phrase goes.

- Kinds: a colour ("a cap, white, no blue"), a clothing size letter ("tee M, sorry L"), a number ("42 i mean
  45", "2 tees, no actually 3"). A number replaces a number of the same magnitude only: "42, make it 2 pairs"
  is a count added to a size, not a repair.
- Only values of this item: between the value replaced and the editing phrase there may be other values,
  commas and size words ("tempo racer red 42.. actually white": the red goes, the 42 stays). A colour or size
  letter is looked for past no other word, so a colour in a product's name ("blue runner 42, no sorry, white")
  is never replaced. A number may be looked for past the item's words ("2 running socks white M no 3"), never
  past "and", "plus" or "also", which start another item.
- "Make that 2" / "make it 2" after an item without a count gives it that count ("kettlebell, make that 2").
- Two sizes left open ("43 or 44 whichever is in stock", "M or L") are no size said: the assistant asks.
- As many sizes listed as the count said are one of each ("3 white cotton tees: S, M and L", "2 blue runners
  42 and 43"): the list is set apart from the item, as "2 tech tees blue, M and L" is read.
- Nothing is guessed: when no value of the same kind comes before, the message is left as it was, and what
  reads corrections of the cart ("no wait, make it 43") reads it as before.
"""

from __future__ import annotations

from ordering.agent.understand import rx
from ordering.agent.understand.lexicon import colour_of
from ordering.agent.understand.numbers import parse_number_words
from ordering.agent.understand.sizes import normalize_clothing
from ordering.agent.understand.text import word_list

# Editing phrases, longest first within each start word; "no" alone only right before the new value.
EDITING_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    tuple(phrase.split())
    for phrase in sorted(
        (
            "no sorry",
            "sorry no",
            "no wait",
            "no no",
            "no actually",
            "actually no",
            "no i mean",
            "no i meant",
            "no make that",
            "no make it",
            "no scratch that",
            "sorry i mean",
            "sorry i meant",
            "oops i mean",
            "oops i meant",
            "i mean",
            "i meant",
            # typed in a hurry, the "i" left out: "street high red 40 sorry meant 41" (41 was read as 41 pairs)
            "sorry meant",
            "oops meant",
            "meant",
            "sorry",
            "wait",
            "hang on",
            "hold on",
            "actually",
            "make that",
            "make it",
            "or rather",
            # the size remembered as it is typed: "grey 41 or is it 42... yeah 42" (42 pairs of the 41 were ordered)
            "or is it",
            "or was it",
            "rather",
            "oops",
            "whoops",
            "my bad",
            "scratch that",
            "correction",
            "no",
            # the impatient last word: "black. no blue. whatever, just do the black ones"; "red 42. no wait white. ugh,
            # red. final answer: red 41"
            "final answer",
            "my final answer",
            "final decision",
            "ugh",
            # said at the slip itself, typed or dictated: "red tempo racers in 42 ducking hell, 43" (the phone's
            # autocorrect; both pairs were ordered), "42 argh 43", "M damn autocorrect L"
            "ducking hell",
            "bloody hell",
            "damn it",
            "dammit",
            "damn autocorrect",
            "stupid autocorrect",
            "autocorrect",
            "damn",
            "argh",
            "doh",
            "ffs",
            "oh god",
            "typo",
            "whatever",
            "whatever just do",
            "just do",
            "just make it",
            "ok fine",
            "fine then",
            "fine",
        ),
        key=lambda phrase: -len(phrase.split()),
    )
)
# Editing phrases that, after an item with no count, give it one ("kettlebell, make that 2").
COUNT_PHRASES = frozenset({("make", "that"), ("make", "it"), ("no", "make", "that"), ("no", "make", "it")})
# Words around an editing phrase that are not an item ("oh wait", "ok actually", "yes").
FILLER = frozenset(
    word_list(
        "actually actualy no nope nah oh ok okay wait sorry oops hmm um umm well so then yes yeah yep please pls "
        "hi hey hello thanks i mean meant just but and the a it that this them those can could you will would"
    )
)
# Editing words that may come before another editing phrase ("no wait, actually 43", "oh sorry i mean").
STACKED = frozenset(word_list("no wait sorry oops whoops actually oh hmm um uh whatever fine ugh argh damn doh"))
SEPARATORS = frozenset({",", "-", "--"})
# Words that may stand between a value and the editing phrase, or before the new value ("no sorry, size 41").
VALUE_WORDS = frozenset({"size", "sz", "eu", "us", "uk", "in", "colour", "color", "the", "a"})
# Words right after an editing phrase that lead to the value meant ("make them one… no wait, keep 2", "sorry, stick
# with 43", "no, go with the black"): the value after them is the repair (the "keep 2" was lost, and one was ordered).
LEAD_WORDS = frozenset({"keep", "stick", "go", "with", "leave", "it", "at", "them", "make"})
ITEM_BOUNDARIES = frozenset({"and", "plus", "also", "with", "then"})


def _number(word: str) -> float | None:
    """A number said as one word ("two", "42", "10.5"), between 0 and 100 (a count or a size), else None."""
    spelled, _ = parse_number_words([word])
    if spelled is None and rx.fullmatch(r"x\d{1,2}|\d{1,2}x", word):
        word = word.strip("x")  # "kettlebell x2, i meant just 1": a count
    try:
        value = float(spelled) if spelled is not None else float(word)
    except ValueError:
        return None
    return value if 0 < value < 100 else None


def _kind(word: str) -> str | None:
    if _number(word) is not None:
        return "number"
    if colour_of(word) is not None:
        return "colour"
    if normalize_clothing(word):
        return "letter"
    return None


def _same_magnitude(old: str, new: str) -> bool:
    """A shoe size (30 and up) for a shoe size, a count or a small size for a count or a small size."""
    old_value, new_value = _number(old), _number(new)
    if old_value is None or new_value is None:
        return False
    return (old_value >= 30) == (new_value >= 30)


def _editing_phrase(words: list[str], start: int) -> int:
    """The end of the editing phrase at `start` (0 when there is none)."""
    for phrase in EDITING_PHRASES:
        if tuple(words[start : start + len(phrase)]) == phrase:
            return start + len(phrase)
    return 0


def _replaced(
    words: list[str],
    before: int,
    kind: str,
    new: str,
    restated: frozenset[str] = frozenset(),
    *,
    past_item: bool = False,
) -> int | None:
    """The position of the value the new one replaces: the last of its kind before `before`, in this item. Item words
    said again after the new value (`restated`: "a black beanie… sorry grey beanie") are passed over."""
    past_item_words = False
    for position in range(before - 1, -1, -1):
        word = words[position]
        if word in restated:
            continue
        if word in ITEM_BOUNDARIES:
            return None
        word_kind = _kind(word)
        if word_kind == kind:
            if kind == "number" and not _same_magnitude(word, new):
                # "1 pair of blue runners 42, actually make it 2": the shoe size is passed, the count before it is
                # the one replaced (it stayed 1)
                past_item_words = True
                continue
            if kind != "number" and past_item_words and not past_item:
                return None
            return position
        if word_kind is None and word not in SEPARATORS and word not in VALUE_WORDS:
            if kind != "number" and not past_item:
                return None  # a colour or size letter is not looked for past the item's words
            past_item_words = True
    return None


def _count_for_item(words: list[str], start: int, end: int, edit_start: int, new_at: int) -> list[str] | None:
    """ "Kettlebell, make that 2", "blue runner 42, make it 2 pairs": a count for the item said before it, when
    that item has no count of its own to replace."""
    if tuple(words[start:end]) not in COUNT_PHRASES or _kind(words[new_at]) != "number":
        return None
    if (_number(words[new_at]) or 0) >= 30:
        return None
    item_start = edit_start
    while item_start > 0 and words[item_start - 1] not in ITEM_BOUNDARIES:
        item_start -= 1
    item = words[item_start:edit_start]
    if not any(word not in FILLER and word not in SEPARATORS for word in item):
        return None  # "actually make it 2": a count for the cart's line, read as a correction of it
    if any(_kind(word) == "number" and (_number(word) or 0) < 30 for word in item):
        return None  # no item before, or it has a count already (replaced above when it could be)
    return [*words[:item_start], words[new_at], *item, *words[new_at + 1 :]]


def _repair_once(words: list[str]) -> list[str] | None:
    for start in range(1, len(words)):
        end = _editing_phrase(words, start)
        if not end:
            continue
        new_at = end
        while new_at < len(words) and (
            words[new_at] in SEPARATORS
            or words[new_at] in VALUE_WORDS
            or words[new_at] in ("just", "only")
            or (words[new_at] in LEAD_WORDS and new_at - end < 3)
        ):
            new_at += 1
        if new_at >= len(words):
            continue
        new = words[new_at]
        split = rx.match(
            r"(?:one|1|two|2|three|3)\s+([a-z0-9]+)\s*,?\s+(?:and\s+)?(?:one|1|two|2|three|3)\s+([a-z0-9]+)\b",
            " ".join(words[new_at:]),
        )
        if split is not None and _kind(split.group(1)) and _kind(split.group(1)) == _kind(split.group(2)):
            # "2 tech tees blue M. wait, one blue and one black": the count split into parts (it became "one tech
            # tees blue m blue and one black", and the black one lost its M). The item's own value of that kind goes:
            # "2 blue tech tees M no wait one M one L" is one M and one L (it kept a line of 2 M beside them).
            item = words[:start]
            kind = _kind(split.group(1))
            for at in range(len(item) - 1, -1, -1):
                if item[at] in ITEM_BOUNDARIES:
                    break
                after = item[at + 1 :]
                if _kind(item[at]) == kind and all(_kind(w) or w in SEPARATORS for w in after):
                    # a value said after the item's words, never a colour in a product's name ("2 blue runners")
                    item = [*item[:at], *after]
                    break
            # parts that add up to another count are the count now: the item's own goes ("3 grey tees L, no wait, one
            # L one XL" is two); parts that add up to it leave it, and what was said with it is every part's
            counts = [at for at, word in enumerate(item) if _kind(word) == "number" and (_number(word) or 99) <= 20]
            total = sum(_number(count) or 0 for count in rx.findall(r"\b(one|1|two|2|three|3)\s", split.group(0)))
            if counts and (counts[0] == 0 or item[counts[0] - 1] in SEPARATORS) and _number(item[counts[0]]) != total:
                item = [*item[: counts[0]], *item[counts[0] + 1 :]]
            # the parts joined by "and", as "one M and one L" is read (without it, "one 42 one 43" was no split)
            parts = rx.sub(
                r"^((?:one|1|two|2|three|3)\s+[a-z0-9]+)\s*(?:,\s*)?(?:and\s+)?", r"\1 and ", " ".join(words[new_at:])
            )
            return [*item, ",", *parts.split()]
        kind = _kind(new)
        # "no" alone right before the new value; for a colour or size letter also "no the" ("the trail blazer in the
        # green no the black one", as dictated: the green was ordered)
        bare_the = (
            words[start:end] == ["no"] and words[end] == "the" and new_at == end + 1 and kind in ("colour", "letter")
        )
        if kind is None or (
            words[start:end] in (["no"], ["fine"]) and new_at != end and words[end] not in SEPARATORS and not bare_the
        ):
            continue
        edit_start = start
        while edit_start > 0 and (words[edit_start - 1] in SEPARATORS or words[edit_start - 1] in STACKED):
            edit_start -= 1  # "42 no wait actually 43": the phrases said one after the other go together
        restated = frozenset(
            word for word in words[new_at + 1 : new_at + 3] if _kind(word) is None and word not in SEPARATORS
        )
        # "beige chinos, scratch that, navy": a phrase that takes back what was said looks past the thing's words for
        # the value it replaces (both pairs were ordered)
        explicit = words[start:end] in (["scratch", "that"], ["correction"])
        old_at = _replaced(words, edit_start, kind, new, restated, past_item=explicit)
        if old_at is not None and restated and kind != "number":
            # the item said again with the new value replaces the one said before, whole: "a black beanie… sorry grey
            # beanie" is "a grey beanie"
            said_again = words[new_at + 1 : new_at + 1 + len(restated)]
            repaired = [*words[:old_at], new, *words[old_at + 1 : edit_start]]
            rest = words[new_at + 1 + len(said_again) :]
            if all(word in repaired for word in said_again):
                return repaired + _more_of_the_repair(repaired, rest, {kind})
        if old_at is None:
            counted = _count_for_item(words, start, end, edit_start, new_at)
            if counted is not None:
                return counted
            continue
        repaired = [*words[:old_at], new, *words[old_at + 1 : edit_start]]
        return repaired + _more_of_the_repair(repaired, words[new_at + 1 :], {kind})
    return None


def _more_of_the_repair(item: list[str], after: list[str], done: set[str]) -> list[str]:
    """ "3 tech tees black M, no wait, make it 2, and in L": a value of another kind said right after the repair,
    with "and" or with nothing between ("actually red 41"), is part of it (the L was read as a second line). It
    replaces the item's value of its kind; what follows is left as it was."""
    while True:
        at = 0
        while at < len(after) and (after[at] in SEPARATORS or after[at] in ("and", "also", "in", "size", "sz")):
            at += 1
        # "red 42, actually red 41": a value right after the repaired one is part of the same repair (the 41 was a
        # count of 41 pairs of the 42)
        if at >= len(after) or (at > 0 and "and" not in after[:at] and "also" not in after[:at]):
            return after
        kind = _kind(after[at])
        if kind is None or kind in done or (at + 1 < len(after) and after[at + 1] not in SEPARATORS):
            return after  # "42 no 43 and 44" is two sizes, not a second repair of the size
        done.add(kind)
        # the item's one value of that kind, wherever it was said ("4 grey beanies")
        same_kind = [position for position, word in enumerate(item) if _kind(word) == kind]
        if len(same_kind) != 1 or (kind == "number" and not _same_magnitude(item[same_kind[0]], after[at])):
            return after
        item[same_kind[0]] = after[at]
        after = after[at + 1 :]


def _open_choice(words: list[str]) -> list[str]:
    """ "Trail blazer 43 or 44 whichever is in stock": two sizes left open are no size said (the assistant asks
    which), never the first as the size and the second as a count."""
    for position in range(1, len(words) - 1):
        if words[position] != "or":
            continue
        first, second = words[position - 1], words[position + 1]
        sizes = (_kind(first) == _kind(second) == "letter") or (
            _kind(first) == _kind(second) == "number" and min(_number(first) or 0, _number(second) or 0) >= 30
        )
        if _kind(first) == _kind(second) == "colour" and not _answers_a_question(words):
            # "Red. no white. hmm red or white": still undecided at the end of the message; no colour said in it
            # stands (the assistant asks), never the one said last before the doubt.
            kept = [word for word in words if _kind(word) != "colour" and word != "or"]
            return [*kept, "undecided"]  # an unread word: the reader says so, and the open question is asked again
        if sizes:
            start = (
                position - 2
                if position >= 2 and words[position - 2] in ("size", "sz", "eu", "us", "uk")
                else position - 1
            )
            return _open_choice([*words[:start], *words[position + 2 :]])
    return words


def _answers_a_question(words: list[str]) -> bool:
    """ "Do you have it in red or white", "which is cheaper, red or white": a question about colours, not a choice."""
    return bool(words) and words[0] in ("do", "does", "is", "are", "which", "what", "have", "can", "could", "any")


def _size_kind(word: str) -> str | None:
    kind = _kind(word)
    if kind == "letter":
        return "letter"
    if kind == "number" and (_number(word) or 0) >= 30:
        return "shoe"
    return None


def _sizes_after_a_count(words: list[str]) -> list[str]:
    """ "3 white cotton tees: S, M and L", "2 blue runners 42 and 43": as many sizes listed as the count are one of
    each (the list is set apart from the item, as "2 tech tees blue, M and L" is read), never the count in the
    first size and one more of each other."""
    for position, word in enumerate(words):
        count = _number(word)
        if count is None or not 2 <= count <= 10 or (position and _kind(words[position - 1]) == "number"):
            continue
        first = position + 1
        while first < len(words) and _size_kind(words[first]) is None and words[first] not in ITEM_BOUNDARIES:
            if words[first] in SEPARATORS and not (first + 1 < len(words) and _size_kind(words[first + 1])):
                break  # a comma before the sizes is kept ("3 black tech tees, S M and L"); any other ends the item
            first += 1
        if first >= len(words) or first == position + 1 or _size_kind(words[first]) is None:
            continue
        kind = _size_kind(words[first])
        sizes: list[str] = []
        end = first
        while end < len(words):
            if _size_kind(words[end]) == kind:
                sizes.append(words[end])
            elif words[end] not in SEPARATORS and words[end] != "and":
                break
            end += 1
        if len(sizes) != count or (end < len(words) and _size_kind(words[end]) is not None):
            continue
        lead = first - 1 if words[first - 1] in ("size", "sizes", "in", "sz", ",") else first
        listed = [*[part for size in sizes[:-1] for part in (size, ",")][:-1], "and", sizes[-1]]
        return [*words[:lead], ",", *listed, *words[end:]]
    return words


def repair_self_corrections(text: str) -> str:
    """The message with each in-message repair applied ("blue runner 42 , no sorry , 41" → "blue runner 41").

    `text` is a normalized message (lower case, commas as words: ordering.agent.understand.text.normalize)."""
    words = text.split()
    changed = False
    for _ in range(8):  # a message with several repairs; each one removes words, so this ends
        repaired = _repair_once(words)
        if repaired is None:
            break
        words, changed = repaired, True
    lead = 0
    while lead < len(words) and (words[lead] in STACKED or words[lead] in SEPARATORS):
        lead += 1
    if changed and lead and any(word in ("no", "nope", "nah") for word in words[:lead]):
        # "no wait black. whatever, the blue ones" → "actually blue ones": what is left of the editing words is a
        # correction, never "no blue ones" (it removed the blue line and emptied the cart)
        words = ["actually", *words[lead:]]
    return " ".join(_parts_joined(_sizes_after_a_count(_open_choice(words))))


_PART_COUNTS = frozenset({"one", "1", "two", "2", "three", "3"})


def _parts_joined(words: list[str]) -> list[str]:
    """ "blue runners one in 42 one in 43": two parts said one after the other, each a count and a value of the same
    kind, are joined by "and" as "one in 42 and one in 43" is read (the 43 was lost: two pairs of the 42)."""
    result = list(words)
    at = 0
    while at < len(result):
        first = _part(result, at)
        if first is None:
            at += 1
            continue
        second = _part(result, first[1])
        if second is not None and _kind(first[0]) == _kind(second[0]) and result[first[1] - 1] != result[second[1] - 1]:
            result.insert(first[1], "and")
            if at > 0 and result[at - 1] not in SEPARATORS and result[at - 1] not in ITEM_BOUNDARIES:
                result.insert(at, ",")  # set apart from the item ("2 blue runners one in 42 ...": not 2 of the 42)
                at += 1
        at = first[1] + 1
    return result


def _part(words: list[str], at: int) -> tuple[str, int] | None:
    """A part at `at` ("one 42", "one in 42"): its value and where it ends."""
    if at >= len(words) or words[at] not in _PART_COUNTS:
        return None
    value_at = at + 2 if at + 1 < len(words) and words[at + 1] == "in" else at + 1
    if value_at >= len(words) or _kind(words[value_at]) is None:
        return None
    return words[value_at], value_at + 1
