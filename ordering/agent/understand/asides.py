"""What a message says beside the order: numbers that are not counts, values said with "not", a joke taken back.

Run on the normalized message before the self-corrections (repair.py) and before anything reads it. Each rule
takes words out (or keeps the one value meant); none adds a value the customer did not say.

- **Numbers that count something else** are dropped with their words: an age ("i am 42 years old", "my son
  turns 10"), an order, room or flat number ("order number 10234", "room 101", "#a1234"), how often or how long
  ("3 times a week", "for 3 weeks", "24 hours", "a 100 mile race", "my 5k"), a date ("before the 15th"), and the
  people it is for ("my 2 kids"). Read as they were, "send a kettlebell to room 101" ordered 101 kettlebells; a
  room or flat number stays an address ("my room"), which is not a saved one and is refused as such.
- **A size in words after "size"** is the number: "size forty three" is size 43 (it was 43 pairs).
- **A value said with "not"** is the one not wanted. Beside another value of its kind, the other one stays:
  "green not black, 43 not 44", "not pink, black", "the navy one, not the grey one". Alone ("a steel bottle, not
  blue"), it goes and `excluded` keeps it, so the reader can ask, or take the one other option offered.
- **"Anything but black"** is "not black"; in a removal, "not the shoes" after what goes is what stays ("remove the
  socks, not the shoes" removed both).
- **Who each item is for** goes when it only marks the parts of an order: "navy L for me and grey S for her",
  "40 for me and 44 for my husband", "gloves for me in M and my son in S". Left in, "for me and my wife" made the
  message a search, and "S for my daughter" lost its size. A recipient said with more ("something for my dad
  who hikes", "what do you have for my son") stays: there it is what the customer asks about.
- **"Just kidding"** takes back what came before it in the message: "add 5 kettlebells. just kidding, one beanie
  in grey" is the beanie.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ordering.agent.understand import rx
from ordering.agent.understand.lexicon import colour_of
from ordering.agent.understand.numbers import parse_number_words
from ordering.agent.understand.people import RELATION_PHRASES, RELATION_WORDS
from ordering.agent.understand.sizes import normalize_clothing

_NUMBER = r"\d{1,6}"
_COUNT_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
# An amount of money as said: "$15", "$15 bucks", "60 bucks", "20 dollars", "10 quid".
_MONEY = (
    r"(?:\$\s*\d+(?:\.\d\d)?(?:\s*(?:bucks|dollars?|quid|pounds?|euros?))?"
    r"|\d+(?:\.\d\d)?\s*(?:bucks|dollars?|quid|pounds?|euros?|usd|eur|gbp))"
)

ORDER_NUMBER = re.compile(
    r"\b(?:(?:my|the|our)\s+)?order\s*(?:number|no|#|id)\s*#?\s*(?:[a-z]{1,4}_?)?[a-z]?\d{1,12}[a-z]?\b"
    r"|\b(?:(?:my|the|our)\s+)?order\s+#?(?:[a-z]{2,4}\s+(?=[a-z0-9]*\d)[a-z0-9]{6,30}|[a-z]\d{1,8}|\d{3,12})[a-z]?\b"
)
ELSEWHERE_NUMBERS = [
    re.compile(pattern)
    for pattern in (
        # ages
        r"\b(?:my|our|his|her|a)\s+\d{1,2}\s*(?:years?|yrs?|year)[\s-]*old(?:\s+(?:son|daughter|boy|girl|kid|"
        r"child|nephew|niece|grandson|granddaughter))?\b",
        r"\b(?:i am|i'm|he is|she is|they are|he's|she's)\s+" + _NUMBER + r"\s*(?:years?|yrs?|yo)(?:\s+old)?\b",
        r"\b" + _NUMBER + r"\s*(?:years?|yrs?|year)[\s-]*old\b",
        r"\b(?:turns?|turning|aged?)\s+" + _NUMBER + r"\b",
        # reference numbers ("ref 55123", "house number 12"; an order's number below)
        r"\b(?:ref|reference|house|door)\s*(?:number|no|#)\s*#?\s*[a-z]?\d{1,8}[a-z]?\b",
        r"\b(?:ref|reference)\s+#?(?:[a-z]\d{1,8}|\d{3,8})[a-z]?\b",
        r"\b(?:house number|door)\s*\d{1,5}\b",
        r"(?:^|\s)#\s*[a-z]?\d{3,8}\b",
        # "i've said it 3 times", "told you twice": how often the customer asked, never a count or a size
        r"\b(?:i have\s+|i\s+)?(?:already\s+)?(?:said|told you|asked|tried|repeated|typed)\s+"
        r"(?:it|this|that|you|for it)?\s*" + _NUMBER + r"\s+times(?:\s+(?:already|now|before|today))?\b",
        # how often, how long, how far
        r"\b" + _NUMBER + r"\s*(?:times?|x)\s+(?:a|per|each)\s+(?:week|day|month|year)\b",
        r"\b(?:for|in|over|about|around|within|every|like|after|almost|nearly|only|just)\s+"
        + _NUMBER
        + r"\s+(?:weeks?|days?|months?|years?|hours?|"
        r"minutes?|mins?|nights?)\b",
        r"\b" + _NUMBER + r"\s*(?:hours?|hrs?|minutes?|mins?|miles?|mi|km|kilometers?|kilometres?|k|marathons?|laps?|"
        r"nights?)\b(?!\s*(?:pairs?|packs?|of))",
        # dates
        r"\b(?:before|by|on|until|till|after|for|from)\s+(?:the\s+)?\d{1,2}(?:st|nd|rd|th)\b(?:\s+of\s+[a-z]+)?",
        # chatter about the item already named ("i have been looking at it for ages" read as a viewed item that
        # took the hoodie's size)
        r"\b(?:i have|i've|ive|been)\s+(?:been\s+)?(?:looking at|eyeing|wanting|thinking about)\s+(?:it|this|that|them|"
        r"these|those)(?:\s+for\s+(?:ages|a while|weeks|months|ever|a long time))?\b",
        # two sizes left open ("usually a 44 but sometimes 45", "between 44 and 45"): no size said, so it is asked
        r"\b(?:i am\s+|i'm\s+|im\s+)?(?:usually|normally|mostly)?\s*(?:a\s+)?\d{2}(?:\.5)?\s+(?:but|or)\s+"
        r"(?:sometimes|occasionally|maybe|often)\s+(?:a\s+)?\d{2}(?:\.5)?\b",
        r"\bbetween\s+(?:a\s+)?\d{2}(?:\.5)?\s+and\s+(?:a\s+)?\d{2}(?:\.5)?\b",
        # the people it is for
        r"\b(?:my|our|his|her)\s+(?:" + _NUMBER + r"|" + _COUNT_WORD + r")\s+(?:kids|children|sons|daughters|boys|"
        r"girls|friends|brothers|sisters|grandkids)\b",
    )
]
# "My son is 12", "he is 9": an age (the person stays).
AGE_OF_PERSON = re.compile(
    r"\b((?:son|daughter|boy|girl|kid|child|nephew|niece|he|she) is)\s+(?:only\s+|just\s+)?1?\d\b(?!\s*(?:pairs?|of))"
)
# "my 3 kids are 8, 10 and 12 and they each need a cap", "my kids (6 and 9)", "the twins, aged 7": ages, never a count
# (it ordered 8 caps); the people stay ("my 3 kids … each need" is three).
AGES_OF_PEOPLE = re.compile(
    r"\b((?:kids|children|sons|daughters|boys|girls|twins|grandkids|grandchildren|nephews|nieces))\s*,?\s*"
    r"\(?(?:who\s+)?(?:are\s+(?:aged\s+)?|aged\s+|ages\s+)?(?:only\s+|just\s+)?1?\d(?:\s*(?:,|and|&)\s*1?\d)+"
    r"(?:\s+(?:years old|year olds|yrs old|yrs|yo))?\)?(?:\s*,?\s*(?:and\s+)?(?=they\b|each\b))?"
)
AGE_SAID = re.compile(r"\b(?:aged\s+1?\d|1?\d\s*(?:years? old|yrs? old|yo|y/o|year-old))\b")
# "Send it to room 101": an address, never 101 of anything; kept as "my room" so that the address is read (and,
# not being a saved one, refused with the saved ones named).
PLACE_NUMBER = re.compile(
    r"\b(?:(?:my|the|our)\s+)?(room|apt|apartment|flat|suite|unit)\s*(?:number|no|#)?\s*#?\s*[a-z]?\d{1,5}[a-z]?\b"
)
_RELATION = "(?:" + "|".join((*RELATION_WORDS, *RELATION_PHRASES)) + ")"
RELATION = _RELATION  # the people an order may be for, also where it may be sent (generator.SHIP_TO_RELATION)
# "her sister" before "her": a relation said with its possessive is one person (the sister was left over as words)
_PERSON = (
    r"(?:(?:both\s+(?:of\s+)?)?(?:my|our|his|her)\s+(?:(?:little|big|older|younger|eldest|youngest|oldest"
    r"|baby|\d|two|three)\s+)?" + _RELATION + r"\b|"
    # "one each for the two kids"
    r"the\s+(?:\d|two|three|four)\s+" + _RELATION + r"\b|"
    # "beanies for both kids, one each" (one beanie was asked for)
    r"both\s+(?:of\s+)?(?:the\s+)?" + _RELATION + r"\b|"
    # "blue runners for me and the lad" (one pair was asked for)
    r"the\s+(?:little\s+|big\s+)?" + _RELATION + r"\b|"
    # "us" but "US 11", a size ("40 for me and US 11 for my husband" lost the husband's pair)
    r"me|myself|us(?!\s*\d)|him|her|them|both of us|the two of us|(?:the\s+)?(?:whole\s+)?family|the kids|"
    r"the twins|the boys|"
    r"the girls|the children|mum|mom|dad|mummy|mommy|daddy|nan|nana|nanna|gran|granny|grandma|grandpa|grandad|"
    r"the wife|the missus|the hubby|the husband|hubby|hubbie)"
)
RECIPIENT = re.compile(r"\s*\bfor\s+" + _PERSON + r"(?:\s*(?:and|&|,)\s*" + _PERSON + r")*\b")
# What may follow a recipient that only marks a part: the end, a comma, "and", a size, a colour or a count.
_AFTER_RECIPIENT = re.compile(
    r"\s*(?:$|[,:;&+]|(?:and|plus|also|with|along with|as well as|in|size|sz|both|all|each|please|pls|thanks|too"
    r"|as well|one|x|the|but)\b|\d)"
)
# "gloves for me in M and my son in S": the second person named without "for".
RECIPIENT_AND = re.compile(r"\b(and|,)\s+(?:(?:my|our)\s+" + _RELATION + r"|me|him|her)(?=\s+(?:in|size|sz)\b)")
# Before the recipient, words that make it what is asked about ("something for my son", "ideas for my dad").
_ASKED_FOR = re.compile(
    r"\b(?:something|anything|gift|gifts|present|presents|idea|ideas|stuff|things|have|recommend|suggest|good|"
    r"nice|best|options?)\s*$"
)


# How many people one "each" is for: "me", "my brother" one each; "my 2 sons", "my two kids" their number. A group
# whose size is not said ("my kids", "us", "the family") gives None: the count is then not guessed.
_PEOPLE_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "both": 2}


def _people_of_ages(match: re.Match[str]) -> str:
    """ "kids are 8, 10 and 12" → "kids"; "my kids (6 and 9)" → "my 2 kids": as many people as ages, when their number
    was not said."""
    ages = rx.findall(r"\d+", match.group(0))
    counted = rx.search(r"\b(?:\d|two|three|four|five|six|both)\s*$", match.string[: match.start()])
    return f"{match.group(1)} " if counted else f"{len(ages)} {match.group(1)} "


def _people_in(persons: str) -> int | None:
    total = 0
    for person in rx.split(r"\s*(?:\band\b|&|,)\s*", persons.strip()):
        person = person.strip()
        if not person:
            continue
        number = rx.search(r"\b(\d|two|three|four|five|six|both)\b", person)
        if number is not None:
            total += int(number.group(1)) if number.group(1).isdigit() else _PEOPLE_WORDS[number.group(1)]
        elif rx.fullmatch(r"(?:both of us|the two of us)", person):
            total += 2
        elif rx.search(r"\b(?:twins|triplets)$", person):
            total += 2 if person.endswith("twins") else 3  # "white caps for my twins": two of them
        elif rx.search(r"(?:s|children|family|us|them|kids)$", person) and not rx.search(
            r"\b(?:his|ness|boss)$", person
        ):
            return None  # a group of no said size
        else:
            total += 1
    return total or None


_PERSONS = _PERSON + r"(?:\s*(?:and|&|,)\s*" + _PERSON + r")*"
# "one each for me and my brother", "a zip hoodie each for me and my 2 sons": as many as the people named.
ONE_EACH_FOR = re.compile(
    r"\b(?:(?:one|1|a|an)\s+(?:(?:pack|pair|set|box)\s+)?)?each\s+for\s+(?P<persons>" + _PERSONS + r")\b"
)
# "get me and my brother a zip hoodie each": the people first, "each" after the thing.
PEOPLE_THEN_EACH = re.compile(
    r"\b(?:get|buy|order|grab)\s+(?P<persons>" + _PERSONS + r")\s+(?P<thing>(?:a|an|one)\s+[a-z ]+?)\s+each\b"
)
# "my 2 kids need water bottles, one each", "me and my wife want zip hoodies, one each": the people say what they
# need, and "each" later says one per person.
PEOPLE_NEED = re.compile(
    r"^(?:so\s+|ok\s+|okay\s+|hi\s+|hey\s+)*(?P<persons>" + _PERSONS + r")\s+"
    r"(?:both\s+|all\s+|each\s+|each of them\s+|all of them\s+|both of them\s+)?"
    r"(?:need|needs|want|wants|would like|are after)\s+"
)
ONE_EACH = re.compile(r"(?:,\s*)?\b(?:one|1|a|an)\s+each\b")
# "one for me and one for my brother", "one for me one for my wife": one per "one for".
ONE_FOR_EACH = re.compile(
    r"\b(?:one|1)\s+for\s+" + _PERSON + r"(?:\s*(?:,\s*and|,|and|&)?\s*(?:one|1)\s+for\s+" + _PERSON + r")+\b"
)
PEOPLE_PAIR = re.compile(r"\bfor\s+" + _PERSON + r"\s*(?:,|&)?\s*(?:and\s+)?(?:one|1)\s+for\s+" + _PERSON)
# where such a pair starts without a count of its own before it ("a beanie for me and one for my dog")
A_THING_FOR_THEN_ONE = re.compile(r"(?<!\bone )(?<!\b1 )(?<!\beach )(?=" + PEOPLE_PAIR.pattern + ")")
# "a red beanie and one for my brother", "navy lows in 42 and the same for her sister": the thing, then one more of it
# for someone, with nothing said after (it was one)
AND_ONE_FOR = re.compile(
    r"^(?P<thing>(?:(?!\band\b)[^,])+?)\s*,?\s*\band\s+(?:one|1)\s+for\s+"
    + _PERSON
    + r"\s*(?:please|pls|too|as well)?\s*$"
)
_THING_COUNTED = re.compile(r"\b(?:[2-9]|two|three|four|five|six|pairs|several|some|a few|a couple)\b")
# "navy lows in 42 for my girlfriend, and the same for her sister", "… and another pair for my son": one more of
# the thing, for someone else, as "and one for her sister" (it was one pair)
SAME_FOR_SOMEONE = re.compile(
    r"\b(?:the\s+same(?:\s+again)?|same\s+again|another(?:\s+(?:one|pair|set|pack))?)\s+(?=for\s+" + _PERSON + r"\b)"
)
# "L for me, S for her", "black for him and white for me": a value for each person named.
VALUE_FOR_EACH = re.compile(
    r"\b(?P<a>[a-z]+|\d{2})\s+for\s+"
    + _PERSON
    + r"\s*(?:,|&)?\s*(?:and\s+)?(?P<b>[a-z]+|\d{2})\s+for\s+"
    + _PERSON
    + r"\b"
)
ONE_FOR_SOMEONE = re.compile(
    r"\s*,?\s*\b(?:and\s+)?(?:one|1)\s+(?:is\s+|of them\s+|of those\s+)?for\s+" + _PERSON + r"\b"
)
# "zip hoodies for me and my wife, both M": two or more people named, with "both"/"all"/"each" about the things.
FOR_PEOPLE = re.compile(r"\bfor\s+(?P<persons>" + _PERSONS + r")\b")
_SAID_COUNT = re.compile(
    r"(?:^|\s)(?:\d{1,2}|two|three|four|five|six|a couple of|a pair of|pair of)\s+(?!for\b)[a-z]"
    # "grey wool beanie x2, one for my mum": the count written after the thing
    r"|[a-z]\s*x\s*[2-9]\b"
)


def _people_named(text: str) -> int | None:
    """Two or more people one thing is for, said without "each" or "both" ("for me and my brother"), or None."""
    match = FOR_PEOPLE.search(text)
    if match is None or rx.search(r"\b(?:both|all|each|one for)\b", text):
        return None
    if _SAID_COUNT.search(" " + text[: match.start()] + " " + text[match.end() :]):
        return None  # "2 tees for me and my brother": the count said stands ("my 2 brothers" counts people)
    count = _people_in(match.group("persons"))
    return count if count is not None and count >= 2 else None


# Numbers in words a promotion code ends with ("save ten"), and words before a number that make it no code.
_CODE_NUMBER_WORDS = r"five|ten|fifteen|twenty|twenty five|thirty|forty|fifty"
_NOT_CODE_WORDS = (
    r"size|sizes|sz|pack|packs|pair|pairs|card|visa|mastercard|amex|ending|number|order|room|apt|unit|suite|qty|"
    r"the|my|a|an|this|that|these|those|one|ones|only|just|all|both|and|for|with|each|about|around|under|over|"
    r"in|of|to|at|by|us|uk|eu|eur|mens|womens|kids"
)


def _code_number_joined(match: re.Match[str]) -> str:
    number, _ = parse_number_words(match.group(3).split())
    if match.group(2) in _NOT_CODE_WORDS.split("|") or number is None:
        return match.group(0)
    return f"{match.group(1)} {match.group(2)}{number}"


def _parts_of_the_people(before: str, values: str) -> tuple[int, int]:
    """How many each of two values is for ("M for me L for them", after "for me and my 2 brothers": 1 and 2): a part
    for a group said with its size counts that many, "them" or "the others" the people named before less the other
    part. One each when that is not said (or does not add up)."""
    said = [match.group(0)[4:].strip() for match in FOR_PEOPLE.finditer(values)]
    named = FOR_PEOPLE.search(before)
    total = _people_in(named.group("persons")) if named is not None else None
    if len(said) != 2:
        return 1, 1
    counts = [None if rx.fullmatch(r"them|the others|the rest", person) else _people_in(person) for person in said]
    if counts[0] is None and counts[1] is not None and total is not None:
        counts[0] = total - counts[1]
    elif counts[1] is None and counts[0] is not None and total is not None:
        counts[1] = total - counts[0]
    first, second = counts
    if first is None or second is None or first < 1 or second < 1 or (total is not None and first + second != total):
        return 1, 1
    return first, second


_FILLERS = {"and", "ooh", "oh", "so", "also", "plus", "then", "ok", "okay", "um", "wait", "actually", "yes", "yeah"}


def _one_more_after_a_thing(match: re.Match[str]) -> str:
    """SAME_FOR_SOMEONE as "one ", only after a thing said in the same message ("… in 42 for my girlfriend, and the
    same for her sister"); "and the same for my dad but in 45" alone is about the cart, read by the generator."""
    before = [word for word in rx.findall(r"[a-z0-9']+", match.string[: match.start()]) if word not in _FILLERS]
    return "one " if before else match.group(0)


def _per_person_count(text: str) -> str:
    """A count said by the people it is for ("one each for me and my brother" is 2): the phrase becomes "x2", which
    the reader takes as the count of the one thing named, or ", 2 each" after several things ("a cap and a beanie
    each for me and my wife"). A count said too stands ("2 hoodies, one for me one for my wife" keeps its 2, the
    people dropped); a group of no said size ("one each for the kids") is left as it was."""
    count: int | None = None
    span: tuple[int, int] | None = None
    replacement = ""
    loose = False
    text = SAME_FOR_SOMEONE.sub(_one_more_after_a_thing, text)
    thing_then_one = AND_ONE_FOR.match(text) if PEOPLE_PAIR.search(text) is None else None
    if thing_then_one is not None and not _THING_COUNTED.search(thing_then_one.group("thing")):
        return thing_then_one.group("thing") + " x2"
    # "a beanie for me and one for my brother", "yoga mat for me and one for my dog": the thing said for the first
    # person is one of them (it was one beanie)
    if (first := A_THING_FOR_THEN_ONE.search(text)) is not None:
        before = text[: first.start()].split()
        people = PEOPLE_PAIR.match(text, first.start())
        after = [word for word in rx.findall(r"[a-z0-9]+", text[people.end() :] if people is not None else "")]
        values_after = len([word for word in after if _value_kind(word)])
        # not "navy L for me and one for my son in S", nor "… for my mum, purple and blue": a value each, said apart;
        # "navy zip hoodie L for me and one for my son", with nothing said after it, is two in L (it was one)
        if before and (not _value_kind(before[-1]) or values_after == 0) and values_after < 2:
            text = text[: first.start()] + "one " + text[first.start() :]
    values = VALUE_FOR_EACH.search(text)
    if values is not None and _value_kind(values.group("a")) and _value_kind(values.group("b")):
        # "L for me, S for her": one in each (it was both in L)
        # said alone, of a line of two already in the cart: that line split ("actually 1 in L and 1 in S")
        lead = "" if text[: values.start()].strip(" ,") else "actually "
        first, second = _parts_of_the_people(text[: values.start()], values.group(0))
        parts = f" {lead}{first} in {values.group('a')} and {second} in {values.group('b')} "
        return text[: values.start()] + parts + text[values.end() :]
    if (match := ONE_EACH_FOR.search(text)) is not None:
        count, span = _people_in(match.group("persons")), match.span()
        valued = rx.search(r"\b(?:one|1|a|an)\s+(?P<value>[a-z0-9]+)\s+$", text[: span[0]])
        if count is not None and count >= 2 and valued is not None and _value_kind(valued.group("value")):
            # "2 L for me and one S each for my 3 kids": three in S, whatever was counted for someone else before (the
            # 2 said for me stood for the whole message, and one S was ordered)
            return f"{text[: valued.start()]}{valued.group('value')} x{count}{text[span[1] :]}"
    elif (match := PEOPLE_THEN_EACH.search(text)) is not None:
        count, span = _people_in(match.group("persons")), match.span()
        replacement = match.group("thing")
    elif (match := PEOPLE_NEED.search(text)) is not None and rx.search(
        r"\beach(?: of them)?\s+(?:need|want)", match.group(0)
    ):
        # "my 3 kids each need a running cap": one per person
        count = _people_in(match.group("persons"))
        if count is None or count < 2 or _SAID_COUNT.search(" " + text[match.end() :]):
            return text
        return f"x{count} " + text[match.end() :]
    elif (match := PEOPLE_NEED.search(text)) is not None and (each := ONE_EACH.search(text, match.end())):
        count = _people_in(match.group("persons"))
        if count is None or count < 2 or _SAID_COUNT.search(" " + text[match.end() :]):
            return text
        # the count where "one each" was: the thing said before it ("water bottles x2, the steel one in white")
        return text[match.end() : each.start()].rstrip(" ,") + f" x{count} " + text[each.end() :]
    elif (match := ONE_FOR_EACH.search(text)) is not None:
        count, span = len(rx.findall(r"\b(?:one|1)\s+for\b", match.group(0))), match.span()
        last_only = rx.match(
            r"\s*,?\s*(?:(?:(?:he|she|they)\s+(?:is|are|wears|wear)|hes|shes|theyre)\s+(?:a\s+|an\s+)?(?:size\s+)?"
            r"|in\s+|"
            r"size\s+)"
            r"(?P<value>[a-z0-9]+)\b",
            text[span[1] :],
        )
        if last_only is not None and not rx.search(r"\b(?:both|all|each)\b", text):
            # "one for me and one for my sister in S": the size is the sister's only; one without it (it was 2 in S)
            parts = "one and " * (count - 1) + f"one in {last_only.group('value')}"
            return text[: span[0]] + " " + parts + text[span[1] + last_only.end() :]
    elif (match := FOR_PEOPLE.search(text)) is not None and rx.search(r"\b(?:both|all|each)\b", text):
        count, span = _people_in(match.group("persons")), match.span()
        if count is not None and count < 2:
            return text
        loose = True  # "both" may be about the things as well as the people: only one thing is counted
    if span is None and _SAID_COUNT.search(" " + text):
        # "2 of the hoodie i saved, one for my brother": the count said stands; who one of them is for is no item
        one_for = ONE_FOR_SOMEONE.search(text)
        if one_for is not None and len(rx.findall(r"\b(?:one|1)\b", text)) == 1:  # not "one blue and one for him"
            return text[: one_for.start()] + " " + text[one_for.end() :]
    if span is not None and count is None:
        # "3 grey beanies, one each for me and the kids": a group of no said size, after a count said: the count stands
        # and the people only say who they are for (it was not understood)
        rest = text[: span[0]] + " " + replacement + text[span[1] :]
        return rest if _SAID_COUNT.search(" " + rest) else text
    if span is None or count is None:
        return text
    rest = text[: span[0]] + " " + replacement + text[span[1] :]
    if loose:
        # "caps for the twins, one each, different colours": "one each" is how many per person, no count of its own
        rest = ONE_EACH.sub(" ", rest)
    if _SAID_COUNT.search(" " + rest):
        return rest  # the count said stands; the people only said who each is for
    if rx.search(r"\band\b|&|\bplus\b", rest) or (rest.count(",") > 1 and rx.search(r",\s*(?:a|an|one|some)\s", rest)):
        # several things: that many of each, when "each" said so ("both" may be about the things; "… for both my kids,
        # white, plus a black one for me" gave the black one the count)
        return text if loose else f"{rest.rstrip(' ,')}, {count} each"
    return f"{rest} x{count}"


def _parts_by_person(text: str) -> str:
    """Two or more people, each with a part of the order: "cotton tees for both my kids, white, and a black one for me
    in L" is two white (the group's count where it was said) and one black L (the 2 went, or the L went to the white
    ones); "navy L for me and one for my son in S, grey": the value after the last part is that part's (it became a
    third item)."""
    recipients = list(RECIPIENT.finditer(text))
    if len(recipients) < 2:
        return text
    first = recipients[0]
    count = _people_in(first.group(0).strip()[4:])
    later = text[first.end() :]
    if (
        count is not None
        and count >= 2
        and rx.search(r"\b(?:and|plus)\s+(?:a|an|one|1)\b", later)
        and not _SAID_COUNT.search(" " + text[: first.start()])
    ):
        after = rx.match(r"\s*,\s*(?P<value>[a-z0-9]+)\s*(?=,)", later)
        if after is not None and _value_kind(after.group("value")):
            text = f"{text[: first.start()]} x{count} {after.group('value')}{later[after.end() :]}"
        else:
            text = f"{text[: first.start()]} x{count}{later}"
        recipients = list(RECIPIENT.finditer(text))
    last = recipients[-1]
    tail = rx.search(r"\s+in\s+(?P<said>[a-z0-9]+)\s*,\s*(?P<value>[a-z0-9]+)\s*$", text[last.end() :])
    if (
        tail is not None
        and _value_kind(tail.group("said"))
        and _value_kind(tail.group("value"))
        and _value_kind(tail.group("said")) != _value_kind(tail.group("value"))
    ):
        text = text[: last.end() + tail.start()] + f" in {tail.group('said')} {tail.group('value')}"
    return text


def _drop_recipients(text: str) -> str:
    def drop(match: re.Match[str]) -> str:
        after = text[match.end() :]
        next_word = after.split()[0] if after.split() else ""
        marks_a_part = bool(_AFTER_RECIPIENT.match(after)) or _value_kind(next_word) is not None
        if not marks_a_part or _ASKED_FOR.search(text[: match.start()]):
            return match.group(0)
        return ""

    text = RECIPIENT.sub(drop, text)
    return RECIPIENT_AND.sub(r"\1", text)


JUST_KIDDING = re.compile(r"^.*\b(?:just kidding|only kidding|just joking|only joking|jk|lol jk)\b\s*,?\s*")


@dataclass
class Asides:
    text: str
    excluded: list[str] = field(default_factory=list)  # values said only with "not" ("not blue")
    # How many people one thing was said for ("a pullover hoodie for me and my brother"): the reader makes it the
    # count of one thing that is worn (one each), never of a thing that may be shared (a yoga mat).
    people: int | None = None
    # A gift service asked for beside the order ("can you gift wrap it?"): the order is read without it, and the
    # assistant says what it cannot do.
    gift_service: bool = False
    # What to take when the first choice is gone, as said ("or 43 if the 42s are gone": "43"; "if not, the black"):
    # the reader keeps it beside the item as its fallback size or colour; the shop's stock decides which is taken.
    otherwise: str = ""
    # The most the whole order may come to for one thing said with it ("and a blue cap as long as it all stays under
    # 100", "and, if the total's still under 100, socks too"), in cents; `total_before` is the message before the
    # condition when the thing comes after it ("", when the condition ends the message: the thing before it).
    total_max: int | None = None
    total_before: str = ""


def _value_kind(word: str) -> str | None:
    if colour_of(word) is not None:
        return "colour"
    if rx.fullmatch(r"\d{2}(?:\.5)?", word) and 30 <= float(word) <= 50:
        return "shoe"
    if normalize_clothing(word):
        return "letter"
    return None


def _size_in_words(words: list[str]) -> list[str]:
    """ "size forty three" → "size 43"."""
    out: list[str] = []
    index = 0
    while index < len(words):
        out.append(words[index])
        if words[index] == "size" and index + 1 < len(words):
            value, used = parse_number_words(words, index + 1)
            if value is not None and used > 0 and not words[index + 1].isdigit():
                out.append(str(value))
                index += 1 + used
                continue
        index += 1
    return out


def _not_values(words: list[str]) -> tuple[list[str], list[str]]:
    """ "green not black" → "green"; "not pink , black" → "black"; "not blue" alone → excluded."""
    excluded: list[str] = []
    index = 0
    out = list(words)
    while index < len(out):
        if out[index] != "not":  # "no 43" after a value is a self-correction (repair.py), never "not 43"
            index += 1
            continue
        at = index + 1
        while at < len(out) and out[at] in ("the", "a", "an", "in"):
            at += 1
        if at >= len(out) or (kind := _value_kind(out[at])) is None:
            index += 1
            continue
        end = at + 1
        if end < len(out) and out[end] in ("one", "ones"):
            end += 1
        # Another value of the same kind said near it: that one is meant.
        window = [word for word in out[max(0, index - 4) : index] + out[end : end + 5] if word not in (",",)]
        if any(_value_kind(word) == kind and word != out[at] for word in window):
            del out[index:end]
            continue
        excluded.append(out[at])
        del out[index:end]
    return out, excluded


# "Anything but black", "any colour except white": said as "not black".
ANYTHING_BUT = re.compile(
    r"\b(?:anything|any colou?r|any other colou?r|whatever)\s+(?:but|except|other than|apart from)\s+(?:the\s+)?"
)
# "Remove the socks, not the shoes": the line named after "not" stays; it names no removal.
NOT_THAT_LINE = re.compile(r"\s*,?\s*\b(?:but\s+)?not\s+the\s+[a-z]+(?:\s+[a-z]+)?\s*$")
# "the cap not the tees, in blue", "the first one in S not the second": the thing meant, then the one not meant (a
# pointer or a thing, never a value: "not the blue one" keeps its colour out, below). What is not meant goes; left in,
# the tees took the cap's colour.
NOT_THE_OTHER = re.compile(
    r"(?<=[a-z0-9])\s*,?\s+(?:but\s+)?not\s+the\s+(?P<what>[a-z0-9]+)(?:\s+(?:one|ones|pair|thing|line))?"
    r"(?=\s*(?:,|$))"
)


# A budget said beside what is wanted ("£30 budget, a beanie in red", "i want to spend no more than 100 on running
# shoes"): the most the customer will pay, as "under 30" (it was a search for "30 beanie", and "no more than 100"
# a removal).
BUDGET = [
    (re.compile(r"\b(?:(?:my|a|the|with a)\s+)?budget\s+(?:is\s+|of\s+)?(?:about\s+|around\s+|max\s+)?"
                r"(?P<amount>\d+(?:\.\d\d)?)\s*(?:quid|pounds?|dollars?|bucks|euros?)?\b"), "under"),
    (re.compile(r"\b(?P<amount>\d+(?:\.\d\d)?)\s*(?:quid|pounds?|dollars?|bucks|euros?)?\s+(?:budget|max budget)\b"),
     "under"),
    (re.compile(r"\b(?:i\s+)?(?:(?:want|would like|would rather|only want|am happy|am willing)\s+to|can|can only|"
                r"could|will|only|do not want to|dont want to)\s+spend\s+"
                r"(?:no more than|not more than|at most|up to|under|less than|about|around|max)?\s*"
                r"(?P<amount>\d+(?:\.\d\d)?)\s*(?:quid|pounds?|dollars?|bucks|euros?)?\s*(?:on|for)?\b"), "under"),
    # "i have $100 to spend on running shoes", "50 is all i have for a cap": the money the customer has, never a count
    # (it was 100 pairs)
    (re.compile(r"\b(?:i\s+|we\s+)?(?:have|have got|got|only have|have only|just have)\s+(?:only\s+|just\s+|about\s+|"
                r"around\s+|like\s+)?\$?\s*(?P<amount>\d+(?:\.\d\d)?)\s*(?:quid|pounds?|dollars?|bucks|euros?)?\s+"
                r"(?:to spend|to play with|to blow|left to spend)\b(?:\s+(?:on|for)\b)?"), "under"),
    (re.compile(r"\$?(?P<amount>\d+(?:\.\d\d)?)\s*(?:quid|pounds?|dollars?|bucks|euros?)?\s+is all (?:i|we) "
                r"(?:have|got|can spend)\b(?:\s+(?:on|for)\b)?"), "under"),
]  # fmt: skip
# "The $49 hoodie", "the 49 dollar hoodie": a price said to name the product, never a count.
PRICE_NAMING = re.compile(
    r"\b(?P<article>the|a|that|this)\s+(?:\$\s*\d+(?:\.\d\d)?|\d+(?:\.\d\d)?\s*(?:dollar|buck|quid|pound|euro))\s+"
    r"(?=[a-z])"
)
PRICE_SAID = re.compile(
    r"\s*\b(?:for|at|costing|priced at|which is|that is|thats)?\s*"
    + _MONEY
    + r"(?:\s+(?:each|a pair|apiece|per pair|a piece|per item|a pop))?(?![a-z0-9])"
)
_LIMIT_BEFORE = re.compile(
    r"(?:under|below|less than|over|above|more than|between|and|max|maximum|up to|budget|from|to|no more than|at most|"
    r"at least|around|about|cheaper than|within"
    r"|if (?:it|its|it s|they|theyre|they re|the [a-z]+) (?:is |are |s )?(?:still|only))\s*$"
)


def _not_a_limit(text: str, match: re.Match[str]) -> bool:
    """Whether a price said is the thing's supposed price, not a limit ("under $50", "between 40 and 60 dollars") or
    one end of a range ("40-60 bucks", "$20-30": the range is the reader's)."""
    return not (
        _LIMIT_BEFORE.search(text[: match.start()])
        or rx.search(r"\d\s*-\s*$", text[: match.start()])
        or rx.match(r"\s*(?:-|to)\s*\$?\s*\d", text[match.end() :])
    )


# "A birthday present for my 10 year old, the graphic tee in S", "…, it's a gift": why, not what.
GIFT_LEAD = re.compile(
    r"^(?:(?:it is|its|this is)\s+)?(?:a\s+|as a\s+)?(?:(?:birthday|christmas|xmas|anniversary|wedding|bday)\s+)?"
    r"(?:present|gift)(?:\s+for(?:\s+(?:my|our|a|the))?(?:\s+[a-z]+)?)?\s*,\s*(?=\S)"
)
GIFT_TAIL = re.compile(
    r"\s*,\s*(?:(?:it is|its|this is)\s+)?(?:a\s+|as a\s+)?(?:(?:birthday|christmas|xmas|anniversary|wedding|bday)\s+)?"
    r"(?:present|gift)(?:\s+for(?:\s+[a-z]+){1,3})?\s*$"
)
# How the customer feels about the order, or that the shopping is done ("yes please, she'll love it", "yep thats all
# the xmas presents sorted, place it", "he is gonna be so happy"): no part of the order. Left in, the yes beside it
# was not understood, and "presents sorted" became a search.
FEELING_REMARK = re.compile(
    r"\s*[,.;!]?\s*\b(?:(?:i\s+)?(?:think|hope|bet|know|am sure)\s+)?"
    r"(?:she|he|they|we|you|my\s+[a-z]+|the\s+(?:kids|twins|boys|girls))\s*(?:'ll|'s|'re|will|is|are)?\s*"
    r"(?:going to\s+|gonna\s+)?(?:absolutely\s+|really\s+|totally\s+|just\s+|so\s+)?"
    r"(?:love|adore|be\s+(?:so\s+|really\s+|very\s+|super\s+)?"
    r"(?:happy|pleased|thrilled|chuffed|excited|stoked|made up))"
    r"(?:\s+(?:it|them|this|that|these|those|with (?:it|them)))?(?:\s+(?:so much|to bits|lol|haha))*\b"
    r"|\s*[,.;!]?\s*\b(?:that is|thats)\s+(?:all\s+|the\s+last of\s+)?(?:the\s+|my\s+)?"
    r"(?:(?:xmas|christmas|birthday|bday)\s+)?(?:presents?|gifts?|shopping)\s+(?:all\s+)?(?:sorted|done|covered)\b"
)
# Why, said of the person after the order ("gloves should be M, my dad has big hands", "the 44 should be red, he likes
# red"): a reason, no part of the order, when it says no value the order does not already have ("a beanie for my mum,
# she likes red" keeps its colour). Left in, "has big hands" made the gloves a product to change to.
REASON_REMARK = re.compile(
    r"\s*[,.;!-]\s*(?:(?:cos|cause|because|as|since)\s+)?(?:he|she|they|my\s+[a-z]+|her|his)\s*(?:'s|is)?\s*"
    r"(?:likes|loves|prefers|has|have|hates|adores|is into|is obsessed with|is really into|really likes|really loves|"
    r"only likes|only wears|always wears|is a fan of)\s+(?P<what>(?!.*\b(?:what|which|any|anything"
    r"|something|got|have you|"
    r"do you|can you|recommend|suggest|ideas?)\b)[a-z0-9 ']+?)\s*$"
)
# Why, before what is asked ("it's my daughter's birthday next week, she's really into yoga. what have you got?"): the
# occasion goes, and what the person is into is what to look for (it was a question about "daughter's birthday").
OCCASION = re.compile(
    r"^(?:(?:it is|its|it's)\s+)?(?:(?:my|our|his|her)\s+[a-z]+(?:'s|s)?\s+)?(?:birthday|bday|anniversary|graduation|"
    r"retirement)\s*(?:is\s+)?(?:next week|next month|tomorrow|today|soon|this weekend|on [a-z]+"
    r"|coming up)?\s*[,.;!]\s*"
)
INTO_SOMETHING = re.compile(
    r"\b(?:he|she|they)\s*(?:'s|is|are|s)?\s+(?:really\s+|very\s+|super\s+|big(?:ly)?\s+)?(?:into|a fan of"
    r"|keen on|mad about)\s+"
)
# Where the customer is from ("hello, I am from Spain, I need one rain jacket"): no part of the order (it was a search
# for "spain", a second item).
FROM_PLACE = re.compile(r"\s*\b(?:i am|i'm|im)\s+(?:from|in|based in|writing from)\s+[a-z]+(?:\s+[a-z]+)?\s*(?=,|$)")
# "the tee is fine but the cap should be blue": what stays as it is, before the change (the tee was made blue)
LINE_IS_FINE = re.compile(
    r"\b(?:the|my)\s+[a-z]+(?:\s+[a-z]+)?\s+(?:is|are|s)\s+(?:fine|good|ok|okay|perfect|great|right|grand)"
    r"(?:\s+as (?:it is|they are))?\s*,?\s*(?:but|and|just)\s+(?=(?:the|my|change|make|swap)\b)"
)
# "I have a code, RUN15": the code follows; the words before it are no item
HAVE_A_CODE = re.compile(
    r"\b(?:i\s+(?:have|got|ve got|have got)|got)\s+(?:a|an|this|the)\s+(?:promo\s+|discount\s+|voucher\s+|coupon\s+)?"
    r"(?:code|voucher|coupon)\s*[,:]?\s*(?=[a-z]*\d[a-z0-9]*\s*(?:please|pls|thanks)?\s*$)"
)
# A gift service asked for beside the order ("… size 43. can you gift wrap it?", "a gift receipt would be great, no
# prices"): taken out of the order's words and remembered, so that the order is read and the assistant still says
# what it cannot do (the whole message was "out of scope", and the boots were lost).
GIFT_SERVICE = re.compile(
    r"\s*[,.;:]?\s*(?:(?:and|also|oh|btw|but|so|please|pls)\s+)*"
    r"(?:(?:can|could|will|would|do) you\s+(?:also\s+|please\s+)?|(?:i would like|i'd like|i want|id like)\s+)?"
    r"(?:(?:a|an|the)\s+)?(?:gift ?-?wrap\w*(?:\s+(?:it|them|this|that))?"
    r"|wrap (?:it|them|this|that)(?: up)?(?: as a gift| for me)?|gift (?:receipt|message|note|box)s?"
    r"|no prices?(?: on (?:the |it)?(?:slip|receipt|packing slip|invoice|package|box))?"
    r"|(?:do not|dont) (?:include|show|put) (?:the )?prices?(?: on (?:the |it)?(?:slip|receipt|packing slip))?"
    # "blue yoga mat, add a note saying happy 30th!", "…, and engrave his initials on it": the order, and a service
    # the shop does not offer (the mat was lost once a note was a service said alone)
    r"|(?:add|put|include|pop|slip|write|tuck)\s+(?:in\s+)?(?:a\s+|an\s+|the\s+)?(?:little\s+|short\s+|personal\s+"
    r"|handwritten\s+|birthday\s+)?(?:note|card|message)(?:\s+in)?(?:\s*(?:saying|that says|with|reading)\b[^,.;]*)?"
    r"|(?:engrave|personalise|personalize|monogram)\s+[^,.;]*)"
    r"(?:\s+(?:please|pls|as well|too|would be (?:great|nice|good|lovely|perfect|ideal)|if (?:you can|possible)))*"
    # the end of a clause: a comma, the end, or "and" before more of the order ("the court classic 44 (could you gift
    # wrap it?) and a grey beanie": the gift wrap was out of scope, and the order lost)
    r"\s*(?=[,.;]|$|and\s+(?:a|an|one|two|three|the|some|\d))"
)
# "Green if you have it", "in M if available": the shop's stock decides, and the policy says when it cannot. Left
# in, "if you have it" was a second item ("it") with the colour. Never dropped from a yes ("yes if it is in stock"
# is not a yes).
IF_AVAILABLE = re.compile(
    r"\s*\b(?:if|when) (?:you (?:have|got|have got|carry|stock|still have) (?:it|them|one|any|that|those|some|that "
    r"colou?r|that size|that many|enough)(?: in stock| left| on file| saved| stored)?"
    r"|(?:it is|its|they are|theyre|it s) (?:available|in stock)|available|"
    r"possible|in stock|you can|(?:they|it) (?:come|comes|are made|is made) in (?:a |size )?[a-z0-9]+"
    # "if you do half sizes", "if they've still got my size", "if my size is still there"
    r"|(?:you|u) (?:do|make|sell|stock|carry|have) (?:half sizes|halves|half|that size|wide fit|wide)"
    r"|(?:they|you|u)(?:ve| have)? still (?:got|have|do|stock) (?:my size|it|them|one|any|that|those|some)"
    r"|(?:they|you|u) still (?:have|stock|do) (?:my size|it|them|one|any)|my size is still (?:there|available|in stock)"
    r"|there is still (?:one|some|any) left|(?:it|they) (?:is|are|s|re) still (?:there|available|in stock|around)"
    # "to my work address if you've got it on file", "if you have that address": the saved addresses decide
    r"|(?:you|u)(?:ve| have)?\s*(?:got )?(?:it|that|that address|that one|one|it saved) (?:on file|saved|stored)"
    r"|(?:you|u) have (?:that|this|the) address|(?:it|that) is (?:on file|saved))\b"
)
# A second choice for when the first is not in stock ("trail blazer 43 if you have it, otherwise the blue runner",
# "grey beanie, or red if grey is out"): the first choice is the order, and the shop's stock decides; when it is
# not there the assistant says so and the customer picks again. Both were added (two pairs), and "or if that's
# sold out the blue runner 43" was 43 of an unknown shoe.
_GONE = (
    r"(?:\s+(?:is|are|s|was|were|has|have|has been|have been|ve|ve been))?\s+(?:not available|unavailable|sold out"
    # "or the black if the tan has all gone", "if they've run out"
    r"|out of stock|out|all gone|gone|all sold|run out|not in stock|"
    r"not there|not an option|not possible)"
)
_SUBJECT = (
    r"(?:that|it|they|those|this|thats|its|theyre|(?:the|my|that|this|your) [a-z0-9']+(?: [a-z0-9']+)?|[a-z0-9']+)"
)
# "if there's no 42", "if you're out of 42", "if you don't have the 42s": the first choice gone, said of the shop
_NONE_LEFT = (
    r"(?:there(?:s| s| is| are)\s+(?:no|none)(?:\s+[a-z0-9]+){0,2}"
    # "blue tech tee M or L if no M" (typed short: both sizes were left open, and one was asked for)
    r"|no\s+[a-z0-9]+(?:\s+left)?(?=\s*[.!?,]|\s*$)"
    r"|(?:you|u)(?:re| re| are)?\s+out(?:\s+of(?:\s+[a-z0-9]+){1,2})?"
    r"|(?:you|u)\s+(?:have|got)\s+(?:no|none)(?:\s+[a-z0-9]+){0,2}"
    # "or grey if you dont do purple", "or 44 if you don't have 43"
    r"|(?:you|u)\s+(?:do not|dont|don't|cannot|cant|can't)\s+(?:do|have|make|stock|sell|carry|get)"
    r"(?:\s+(?:it|them|that|those))?(?:\s+in)?(?:\s+[a-z0-9]+){0,2})"
)
FALLBACK_TAIL = re.compile(
    r"\s*[,.;]?\s*(?:and\s+|but\s+)?\b(?:otherwise|if not|if no|or else|failing that|if (?:you )?(?:do not|dont|"
    r"cannot|can not|cant)(?: have(?: (?:it|them|one|that|any))?| do (?:it|that))?|(?:or\s+)?if (?:"
    + _SUBJECT
    + _GONE
    + "|"
    + _NONE_LEFT
    + r"))\b\s*,?\s*(?:then\s+|just\s+|go (?:for|with)\s+|get\s+|i will take\s+|ill take\s+)?(?P<alt>.*)$"
)
# "…, and a blue cap as long as it all stays under 100", "and, if the total's still under 100, …": a limit on the whole
# order that one thing of it depends on
TOTAL_LIMIT = re.compile(
    r"\s*,?\s*\b(?:if|as long as|so long as|provided|only if)\s+(?:the\s+|my\s+)?(?:total|whole thing|whole order"
    r"|order total|order|it all|everything|all of it|all)(?:'s| is| s|s)?\s*"
    r"(?:still\s+|stays?\s+|comes? to\s+|comes? in\s+|is still\s+|stays? at or\s+)?"
    r"(?:under|below|less than|no more than|at most|within)\s*\$?\s*"
    r"(?P<amount>\d+(?:\.\d{1,2})?)\s*(?:dollars?|bucks|usd)?(?:\s+(?:total|in total|all in))?\s*,?"
)
# "2 if you have them, 1 if not": the count to take when the first is more than the shop has
COUNT_IF_NOT = re.compile(
    r"\s*[,;]\s*(?:or\s+|else\s+)?"
    r"(?P<alt>(?:just\s+|only\s+)?(?:\d{1,2}|one|two|three|four|five|a single|a)(?:\s+[a-z]+)?)"
    r"\s+if\s+(?:not|none|no|you (?:do not|dont|don't|cannot|cant|can't)(?: have(?: (?:them|that many|enough))?)?"
    r"|(?:they|there)(?:re| re| are)? not|there (?:are not|arent|aren't)"
    # "2 pairs of grey cloud joggers 43, 1 if you've only got one"
    r"|(?:you|u) (?:have )?only (?:have |got |have got )?(?:one|1|two|2)(?: left| in stock)?)\b.*$"
)
ALTERNATIVE_IF_GONE = re.compile(
    r"\s*,?\s*\bor\s+(?:the\s+|a\s+|an\s+)?(?P<alt>[a-z0-9 ]+?)\s+if\s+(?:" + _SUBJECT + _GONE + "|" + _NONE_LEFT
    + r")\b.*$"
)  # fmt: skip
IF_YOU_HAVE_ADD = re.compile(
    r"\s*,?\s*\b(?:and\s+)?if (?:you|u) (?:have|got|have got|stock|carry|still have) "
    r"(?P<what>(?:the|a|an|any) [a-z0-9 ]+?)"
    r"\s*,?\s*(?:then\s+)?(?:please\s+)?(?:add|get|grab|include|throw in|i will take|ill take|i will have|take|put in)"
    r"\s+(?:that|it|them|one|those)(?:\s+(?:too|as well|also|in))?\b"
)
CONDITIONAL_ANSWER = re.compile(
    r"^(?:(?:ok|okay|fine|sure|alright|then|so)\s*,?\s+)*(?:if|only if|as long as)\s+(?:not|so|it|its|that|thats|"
    r"this|there|the price|the total)\b"
)
# "i want 2 if you have them" is read whole (a count for the line, which the shop's stock decides).
_COUNT_IF_STOCKED = re.compile(r"\b(?:\d{1,2}|two|three|four|five|six)(?:\s+(?:of them|pairs?|packs?))?\s+if\b")
_YES_LEAD = re.compile(r"(?:yes|yeah|yep|yup|ok|okay|sure|confirm|go ahead)\b")
# "Ok no worries, a headlamp then": politeness, never a "no" (it read as removing a headlamp).
NO_WORRIES = re.compile(r"\b(?:no worries|no worry|no probs|no prob|no bother|not a problem|not to worry)\b")
# "Or maybe blue", "nah yellow was better", "go back to the 42": a change of mind about one value, said alone. The
# value is what is left (it was not understood, or "maybe" was looked for as a product).
MIND_CHANGE = re.compile(
    r"(?:(?:no|nah|nope|hmm|um|umm|actually|ok|okay|oh|wait)\s*,?\s+)*(?:or\s+)?(?:maybe|perhaps|possibly|"
    r"(?:let us |lets )?(?:go|switch|change) back to|back to)?\s*(?:the\s+)?(?P<value>[a-z0-9.]+)(?:\s+one)?"
    r"(?:\s+(?:was|is|looked|looks|would be)\s+(?:better|nicer|fine|good|best)|\s+after all|\s+instead|\s+then)?"
)
CHANGE_OF_MIND_WORDS = re.compile(
    r"\b(?:maybe|perhaps|possibly|back to|was better|is better|looked better|looks better|would be better|after all)\b"
)
# "That one needs the code thing, use the 4242 visa": the bank's check of a card (3-D Secure), said about the card
# not wanted; never a promotion code to use (it applied the customer's promotion).
CARD_CHECK = re.compile(
    r"\b(?:that one|that card|the mastercard|the visa|it|this one|mine)\s+(?:needs|wants|asks for|asked for|needed|"
    r"does)\s+(?:a |the |that )?(?:code|pin|verification|otp|password|3ds|3d secure|text|sms|bank)(?:\s+(?:thing|check|"
    r"stuff|code))?\b"
)
# "…in a UK size 9, please? I believe that is a 43 in European sizes": the customer's own conversion of a size said
# just before, never a question about sizes (it answered one and ordered nothing).
OWN_CONVERSION = re.compile(
    r"\s*,?\s*\b(?:i believe|i think|i reckon|which i believe|which i think|i am told|apparently)\s+(?:that is|that s|"
    r"that would be|it is|it s|is|that equals|that makes it)\s+(?:a |an )?(?:size )?(?:eu |uk |us )?\d{1,2}(?:\.5)?"
    r"(?:\s+(?:in\s+)?(?:european|europe|eu|euro|uk|us|british|american)(?:\s+sizes?|\s+sizing)?)?\b"
)
# "Posted to my work address rather than home": the address not wanted goes (it shipped home).
NOT_THIS_ADDRESS = re.compile(
    r"\s*,?\s*\b(?:rather than|instead of)\s+(?:to\s+|at\s+)?(?:my\s+|the\s+)?"
    r"(?:home|work|office|house)(?:\s+(?:address|one))?\b(?=\s*(?:,|$|please|pls|thanks|thank you))"
)
# Sayings that name no product ("long story short" was a pair of shorts).
IDIOMS = re.compile(r"\b(?:(?:to )?(?:cut|make) a long story short|long story short|in short|short story)\b")
# "… no wait white. ugh, red. final answer: red 41": the last word on it, a correction of what came before
FINAL_WORD = re.compile(r"\b(?:(?:my|ok|okay)\s+)?(?:final answer|final decision|for real this time)\b\s*[:,]?")


# Money said about the price ("make it 50 bucks cheaper", "can you do it for $10 less") is no count: it set the
# quantity to 50 and to 10. The shop sets prices; it is read as asking for something cheaper.
MONEY_OFF = re.compile(r"\b(?:for\s+)?" + _MONEY + r"\s+(?:cheaper|less|off|lower|down)\b")
# "I need a few things", "a couple of things: …": how many things the list has is no count of the first of them.
THINGS_COUNT = re.compile(
    r"\b(?:a few|a couple of|a couple|several|a bunch of|a handful of|\d|two|three|four|five)\s+(?:things|items|"
    r"bits and pieces|bits)\b"
    r"(?!\s+(?:(?:that\s+)?(?:i|we)\s+(?:saved|liked|favou?rited|wishlisted|bookmarked|loved)|on my))\s*:?"
)
# "Here's the deal:", "the thing is": a way of starting, not a promotion ("deal") or an item.
LEADS = re.compile(r"\b(?:here is the deal|heres the deal|here's the deal|the deal is|the thing is|thing is)\b\s*:?")
# "…the box was crushed. anyway, I need a rain jacket": what comes after the change of subject is the request
# (the complaint before it was an item to look for, "super late").
TOPIC_CHANGE = re.compile(r"^.*?\b(?:anyway|anyways|anyhow|but anyway|that said|moving on)\b\s*[,.!:]*\s*(?=\S)")
SIGN_OFF = re.compile(
    r"(?:(?:thanks?|thank you|thx|ty|cheers|ta|so much|very much|a lot|again|in advance|have a (?:\w+ )?(?:one|day|"
    r"night|evening|weekend)|bye|x+|love|lots of love|speak soon|take care|mate|hun|and)[\s,.!]*)+"
)


# "I am usually a 41 or perhaps a 42", "she wears a 40", "I wear size M": a size said about the person; two sizes
# said so are undecided (the policy asks, naming them). It was a count of 42 ("a 41 or perhaps a 42").
# a shoe size in another system ("my son wears UK 8": it became an item "wear") is said as the customer said it; the
# reader converts it
_SIZE_WORD = r"(?:(?:uk|us|eu)\s?\d{1,2}(?:\.5)?|\d{2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl|small|medium|large)"
WEARS_SIZE = re.compile(
    r"\b(?:(?:i|she|he|they|we|you)\s+(?:am|is|are)\s+(?:usually\s+|normally\s+|typically\s+|mostly\s+|generally\s+|"
    r"always\s+)?(?:a|an)\s+|(?:i|she|he|they|we|(?:my|our)\s+" + _RELATION + r")\s+"
    r"(?:usually\s+|normally\s+|typically\s+|always\s+)?"
    r"(?:wear|wears|take a|takes a)\s+(?:a\s+|an\s+)?|\band\s+(?:wears|wear)\s+(?:a\s+|an\s+)?)(?:size\s+)?"
    r"(?P<a>" + _SIZE_WORD + r")\b"
    r"(?:\s*,?\s*(?:or|maybe|perhaps)\s+(?:perhaps\s+|maybe\s+|possibly\s+|sometimes\s+)?(?:a\s+|an\s+)?(?:size\s+)?"
    r"(?P<b>" + _SIZE_WORD + r")\b)?"
)
NOT_SURE_OF_SIZE = re.compile(
    r"\s*,?\s*\b(?:but\s+)?(?:i am|i'm|im)\s+not\s+(?:sure|certain)\s+(?:of|about|what)\s+(?:my|her|his|their)\s+size"
    r"(?:\s+is)?\b\s*[.,]?"
)


# A letter: "Dear Sir or Madam, I am writing to order …, as my old pair have finally worn through. … Yours
# faithfully, Robert": the greeting, the sign-off with its name, "I am writing to" and why the old one went are no
# items (each was searched as a product). A list's label ("family order:") neither.
LETTER_OPENING = re.compile(
    r"^\s*(?:dear\s+(?:sir\s+or\s+madam|sir\s*/\s*madam|sirs?|madam|team|shop|all|[a-z]+)|to whom it may concern|"
    r"hello dear)\s*[,:!.]?\s*(?=\S)"
)
LETTER_CLOSING = re.compile(
    r"\s*[,.!]?\s*\b(?:yours\s+(?:faithfully|sincerely|truly)|(?:kind|best|warm|warmest)\s+(?:regards|wishes)|regards|"
    r"sincerely|(?:many\s+)?thanks(?:\s+(?:so|very)\s+much)?\s+in advance"
    r"|thank you(?:\s+(?:so much|very much|ever so much|kindly))?\s+in advance|thank you (?:ever so )?kindly)"
    r"(?:\s*[,.!])*(?:\s+[a-z]+){0,2}(?:\s*[,.!])*\s*$"
)
WRITING_TO = re.compile(r"\b(?:i am|i'm|im)\s+writing\s+(?:to\s+(?:you\s+)?(?:to\s+)?)?(?=order|ask|buy|request)")
WHY_THE_OLD_ONE_WENT = re.compile(
    r"\s*,?\s*\b(?:as|because|since|cos|cause)\s+(?:my|the|our|his|her|their)\s+(?:old\s+)?(?:[a-z]+\s+){0,4}?"
    r"(?:have|has|had|are|is|were|was|got|went|just)?\s*(?:finally\s+|completely\s+|totally\s+)?"
    r"(?:worn (?:through|out)|wore (?:through|out)|broke|broken|died|fell apart|gone missing|got lost|been lost|lost|"
    r"ripped|torn|tore|had it|packed up|given up|cracked)\b"
)
# "birthday stuff + school stuff: blue runners 44, …": what the things are for, no item (the list was one search)
STUFF_LABEL = re.compile(
    r"^\s*(?:(?:(?:some|the|my)\s+)?(?:birthday|bday|school|christmas|xmas|gym|holiday|kids|work|running"
    r"|camping|hiking|"
    r"gift|party|travel|winter|summer)\s+(?:stuff|things|bits|shopping)\s*,?\s*(?:and\s+|,\s*)?)+"
)
# "my card ending 0002 got cancelled so put it on the 4242": the card that is gone is no choice, and "cancelled" no
# cancellation of an order (it cancelled the last order and chose the 0002)
CARD_GONE = re.compile(
    r"\b(?:my\s+|the\s+)?(?:card|visa|mastercard|amex|debit card|credit card)\s+(?:ending(?:\s+in)?\s+"
    r"|that ends in\s+)?"
    r"\d{4}\s+(?:(?:got|was|has been|is|has)\s+)?(?:just\s+)?(?:cancelled|canceled|blocked|stolen|lost|expired|frozen|"
    r"compromised|closed)\b\s*,?\s*(?:so\s+)?"
)
LIST_LABEL = re.compile(
    r"^\s*(?:(?:my|our|the|a)\s+)?(?:family|weekly|school|christmas|xmas|birthday|gym|holiday|kids|team|gift|present|"
    r"secret santa)\s+"
    r"(?:order|list|shopping list|shopping)\s*(?::|,)?\s+(?=\S)"  # the colon is gone once normalized
)
# "the bottle i liked, plus 2 more of the same for the kids": three of it (it ordered two)
MORE_OF_THE_SAME = re.compile(
    r"\s*,?\s*\b(?:plus|and|\+|also)\s+(?P<n>\d|one|two|three|four|five)\s+more\s+"
    r"(?:of\s+(?:the\s+same|those|them|that|it|these)|the same|like (?:that|it))\b"
)
_SMALL_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def _more_of_the_same(text: str) -> str:
    match = MORE_OF_THE_SAME.search(text)
    before = text[: match.start()] if match else ""
    if match is None or rx.search(r"(?:^|\s)(?:\d+|two|three|four|five|a couple of|a pair of)\s+[a-z]", before):
        return text
    said = match.group("n")
    count = int(said) if said.isdigit() else _SMALL_NUMBERS[said]
    return f"{before} x{count + 1} {text[match.end() :]}"


def _one_persons_size(text: str) -> str:
    """WEARS_SIZE, when the message is about one person's size: with two people and their sizes ("for me and my
    wife, I'm a US 9 and she's a 40", "one for me and one for my son, he's a 40") it is left to the people rules."""
    found = WEARS_SIZE.findall(text)
    if len(found) != 1 or len(rx.findall(r"\b(?:i am|i'm|im|she is|he is|they are|she's|he's)\b", text)) > 1:
        return text
    if ONE_FOR_EACH.search(text) or VALUE_FOR_EACH.search(text) or (_people_named(text) or 0) >= 2:
        return text
    return WEARS_SIZE.sub(_size_worn, text)


def _size_worn(match: re.Match[str]) -> str:
    first, second = match.group("a"), match.group("b")
    if second and second != first:
        return f" size {first} or {second} "
    elsewhere = match.string[: match.start()] + " " + match.string[match.end() :]
    # "the blue runner in 40 for her (she wears a 40)": said already, once is enough (the second was 40 pairs)
    return " " if rx.search(rf"\b{re.escape(first)}\b", elsewhere) else f" size {first} "


def _spelled(said: str) -> str:
    """ "forty two" → "42", "ten" → "10"; digits as they are."""
    value, used = parse_number_words(rx.split(r"[\s-]+", said))
    return str(value) if value is not None and used else said


# "me and my 2 nephews are doing a fun run", "the wife and I are starting a class", "we're training for a 10k": who is
# doing what, said before or after an order (the reader drops it: generator.py before, `drop_asides` after)
PEOPLE_DOING = (
    r"(?:(?:me|i)\s+and\s+(?:my|our|the)\s+(?:\w+\s+)?(?:"
    + _RELATION
    + r")|(?:my|our|the)\s+(?:\w+\s+)?(?:"
    + _RELATION
    + r")\s+and\s+(?:me|i)|we)\s+(?:are|is|am|r)\s+"
    r"(?:doing|running|going to|going|training for|training|starting|entering|signed up|joining|taking up)\b"
)


def drop_asides(text: str) -> Asides:
    """The normalized message without what it says beside the order (see the module docstring)."""
    # "hiii sorry was on the train, yes go ahead": why the answer came late, no part of it (not understood)
    text = rx.sub(
        r"^(?:(?:hi|hey|hello|ok|okay)\s*,?\s+)*(?:sorry|soz|apologies)\s*,?\s+(?:i\s+)?(?:was|am|got)\s+"
        r"(?:on|in|at|busy|driving|cooking|stuck|away|out|with|at work|distracted)\b[a-z ]*?\s*[,.!]+\s*"
        r"(?=(?:yes|yeah|yep|ok|okay|sure|go|no|nah|actually|make|change|add|remove)\b)",
        "",
        text,
    )
    # "Hello - two questions and then an order.": how the message is laid out, no thing and no count (it asked for 2 of
    # "question" and the two went to the order's shoes)
    text = rx.sub(
        r"(?:^|(?<=[.!?]\s)|(?<=^hello\s)|(?<=^hi\s))\s*"
        r"(?:(?:hi|hey|hello|ok|okay|so|right|good (?:morning|afternoon|evening)|morning|afternoon)\s*[-,.!:]*\s+)*"
        r"(?:(?:i have|i've got|ive got|i got|got|just)\s+)?(?:a\s+)?"
        r"(?:two|2|three|3|a couple of|couple of|a few|few|some|one|1|quick)\s+(?:quick\s+)?(?:questions?|things?)"
        r"(?:\s+(?:first|quickly))?\s*(?:(?:and|,)\s*(?:then\s+)?(?:an?\s+)?"
        r"(?:order|i(?:'ll| will)? order|i want to order|i'd like to order|an order to place)(?:\s+please)?)?"
        r"(?:\s*[-.:!,;]+\s*|\s*$"
        r"|\s+(?=(?:is|are|does|do|can|could|will|would|what|how|which|where|when|why|first)\b))",
        " ",
        text,
    )
    # "phone on 2% brb": the battery, never a count or a discount
    text = rx.sub(
        r"\b(?:my\s+)?(?:phone|battery|phone battery|phones)\s+(?:is\s+|s\s+)?(?:on|at|nearly|almost|down to)\s+"
        r"\d{1,2}\s*(?:%|percent)(?:\s+battery)?",
        "my phone is dying",
        text,
    )
    # "back, make that one purple one blue" (after "brb"): the customer is back; no part of the order
    text = rx.sub(r"^(?:(?:ok|okay|right|sorry)\s*,?\s+)*(?:i am\s+|im\s+)?back\s*[,.!]+\s*(?=\S)", "", text)
    # "just testing you - a unicorn in size 44 and a blue cap": why the message is odd, no part of the order
    text = rx.sub(
        r"^(?:(?:ok|okay|right|so|hi|hey|hello)\s*,?\s+)*(?:i am\s+|im\s+)?(?:just|only)\s+testing"
        r"(?:\s+(?:you|u|this|it|it out|things out|the bot|the assistant|the chat))?\s*[-,.!:;]*\s*(?=\S)",
        "",
        text,
    )
    # "blue wind shell S and i'm a student so use STUDENT50": who the customer is, said as why a code should apply
    # (the student was searched for with the shell); the code is still read, and the shop decides it
    # "white cotton tee size s, broke student so just the one lol", "skint this month so only one": why so few, no part
    # of the order (the student was searched for)
    text = rx.sub(
        r"(?:\s*,|\s+and)?\s+(?:(?:i am|im|i'm)\s+(?:a\s+)?(?:(?:poor|broke|skint)\s+)?(?:uni\s+)?student"
        r"|(?:(?:i am|im|i'm)\s+)?(?:a\s+)?(?:poor|broke|skint)\s+(?:uni\s+)?student"
        r"|(?:i am|im|i'm)\s+(?:skint|broke|on a (?:tight\s+)?budget)"
        r"|(?:skint|broke|on a (?:tight\s+)?budget|money\s*'?\s*s tight)(?=\s+(?:this month|atm|rn|right now|so)\b))"
        r"(?:\s+(?:this month|atm|rn|right now|lol|haha))*\b(?:\s+so\b)?",
        " ,",
        text,
    )
    text = PLACE_NUMBER.sub(r"my \1", JUST_KIDDING.sub("", text))
    otherwise_said = ""
    text = _one_persons_size(NOT_SURE_OF_SIZE.sub(" ", text))
    # "Kind regards, Alice" sent alone: a sign-off, read as the thanks it is
    closed = LETTER_CLOSING.sub("", LETTER_OPENING.sub("", text))
    text = LIST_LABEL.sub("", closed) if closed.strip(" ,.!") or not text.strip() else "thanks"
    text = WHY_THE_OLD_ONE_WENT.sub(" ", WRITING_TO.sub("", text))
    text = _more_of_the_same(text)
    # "Is it the case that I must pay for postage? I only want one pack of the black socks": the order's preview says
    # what shipping costs ("postage" was searched as a product)
    text = rx.sub(
        r"^(?:(?:hi|hello|ok|so)\s*,?\s+)*(?:is it the case that\s+)?"
        r"(?:(?:must|do|will|would)\s+i|i\s+(?:must|have to))\s+(?:have to\s+|need to\s+)?pay\s+(?:for|extra for)\s+"
        r"(?:the\s+)?(?:postage|shipping|delivery)\s*[?.,]?\s+(?=\S)",
        "",
        text,
    )
    # "green 43 please. do they run small?": how it fits, asked after the order, is left (the order was lost to it)
    text = rx.sub(
        r"(?<=[a-z0-9])\s*[.!,]?\s+(?:and\s+)?(?:do|does|are|is|will)\s+(?:they|it|these|those|the \w+)\s+"
        r"(?:run|fit|come up|size up)?\s*(?:a (?:bit|little)\s+)?(?:small|large|big|true to size|narrow|wide)"
        r"\s*\??\s*$",
        " ",
        text,
    )
    # "no sorry work, i'm at the office all week": why that address, named before it, not an item; said alone ("im at
    # the office all week so deliver there") it is the address, kept
    text = rx.sub(
        r"\s*,?\s*\b(?:i am|im|we are|i will be|ill be)\s+(?:(?:at|in)\s+(?:the|my|our)\s+(?:office|work|house|place)\b"
        # "yes but send it to work, im on shift all night": why work
        r"|on\s+(?:shift|nights|night shift|the night shift|a night shift|call|duty|lates|earlies)\b)"
        r"[^,.]*",
        lambda match: " " if rx.search(r"\b(?:work|home|office)\b", match.string[: match.start()]) else match.group(0),
        text,
    )
    # "my son lost his water bottle AGAIN so a black steel bottle": the loss happened again, no reorder of it
    text = rx.sub(
        r"\b((?:lost|broke|broken|forgot|left|ripped|tore|torn|dropped|ruined|outgrew|wore out|smashed|cracked)\b"
        r"[^,.;]{0,40}?)\s+again\b",
        r"\1",
        text,
    )
    # "the Court Classic in size 44, the same as I bought last month": a remark about the thing named (it was a second
    # pair, the one bought); said alone ("the same as I bought last time") it is the reorder, kept
    text = rx.sub(
        r"(?<=[a-z0-9])\s*,\s*(?:just\s+)?(?:the\s+)?same\s+(?:ones?\s+|pair\s+|kind\s+|size\s+)?as\s+(?:i|we)\s+"
        r"(?:bought|ordered|got|had|purchased)(?:\s+(?:last\s+(?:time|week|month|year)|before|previously|a while ago"
        r"|from you))?\b",
        " ",
        text,
    )
    # "do the cloud joggers run small? anyway ill take them in grey 44": how it fits is asked and left; the thing
    # stays for what follows to point at (it was size S and 44 of them)
    text = rx.sub(
        r"^(?:do|does|are|is)\s+(?P<thing>(?:the|these|those)\s+[a-z ]+?)\s+(?:(?:run|fit|come up|size)\s+)?"
        r"(?:a (?:bit|little)\s+)?(?:small|large|big|true to size|narrow|wide|short|long)"
        r"(?:\s*,\s*(?:anyway|anyways|but|though|ok|okay)?|\s+(?:anyway|anyways|but|though|ok|okay|so)"
        r"|(?=\s+(?:i will|i want|i would|get|add|take|buy|order|give me)\b))\s*,?\s*",
        lambda match: match.group("thing") + " , ",
        text,
    )
    changed = TOPIC_CHANGE.sub("", text)
    if (
        len(rx.findall(r"[a-z0-9]+", changed)) >= 2
        and changed != text
        # "… one pair in M for me while I'm at it. anyway thanks so much, have a lovely weekend x": a goodbye after
        # "anyway" is no new subject (the socks were dropped, and only the thanks was read)
        and not SIGN_OFF.fullmatch(changed.strip())
        and not rx.search(
            r"\b(?:it|them|they|those|these|that one|the same)\b", changed
        )  # what it points back at stays
    ):
        text = changed
    # A hedge before the thing named ("shoes size 43, prob the blue runners", "maybe a cap"): that thing, said;
    # with "not sure" after it, it is not asked for ("and maybe the kettlebell, not sure yet")
    text = rx.sub(
        r"\s*,?\s*\b(?:and\s+)?(?:maybe|perhaps|possibly)\s+(?:the|a|an|some)\s+[a-z ]+?\s*,?\s*"
        r"(?:not sure|idk|i do not know|dunno|we will see|i will see|still thinking|undecided)"
        r"(?:\s+(?:yet|about that|about it))?\s*(?=[,.;]|$)",
        " ",
        text,
    )
    text = rx.sub(
        r"\b(?:prob|probs|probably|prolly|likely|i think|i guess|maybe|perhaps)\s+(?=(?:the|a|an)\s)", "", text
    )
    text = MONEY_OFF.sub(" cheaper ", text)
    text = LEADS.sub(" ", THINGS_COUNT.sub(" ", text))
    text = FINAL_WORD.sub(" actually ", IDIOMS.sub(" ", OWN_CONVERSION.sub(" ", text)))
    # "hmm no, home is better": that address again; "never mind then, just a white running cap": what comes after
    text = rx.sub(
        r"\b(?:the\s+)?(home|work|office)(?:\s+address)?\s+(?:is|was|would be)\s+(?:better|fine|right|best)\b",
        r", to \1",
        text,
    )
    text = rx.sub(
        r"^(?:never ?mind|nevermind|forget it|no worries)(?:\s+then)?\s*,\s*(?=(?:just\s+)?(?:a|an|the|\d)\b)", "", text
    )
    # "hoodie with zip" is the zip hoodie ("with" starts another item); "i already said yes earlier, so …" is a claim,
    # never a yes and never an item (the preview still asks)
    text = rx.sub(r"\b(hoodie|jacket|top)(s?) with (?:a |the )?(?:zip|zipper)\b", r"zip \1\2", text)
    text = rx.sub(
        r"\b(?:i|we)\s+(?:already|just|have already)\s+(?:said|told you|confirmed|agreed|approved)(?:\s+(?:yes|so|it|"
        r"that))?(?:\s+(?:earlier|before|already|previously))?\s*,?\s*(?:so\s+)?",
        " ",
        text,
    )
    # "apologies, that should have been a large": an apology is a "sorry", and what should have been is a change
    text = rx.sub(
        r"^(?:(?:my|many|sincere|so many)\s+)?(?:apologies|apology|(?:i\s+)?apologi[sz]e|(?:i\s+(?:do\s+)?)?beg your "
        r"pardon|pardon(?:\s+me)?|excuse me|forgive me)\b\s*[,.!-]*\s*",
        "sorry ",
        text,
    )
    text = rx.sub(r"\b(?:that|it|this|they|those)\s+should(?:\s+have)?\s+been\b", "should be", text)
    # "ugh no, 43 was right": a sound of annoyance carries nothing (and hid the correction after it)
    text = rx.sub(r"^(?:(?:ugh|argh|meh|erm|um|umm|uh|ffs|pfft|sigh)\s*,?\s+)+(?=\S)", "", text)
    text = rx.sub(r"(?<=\S)\s*,?\s*\b(?:whatever|or whatever|meh)\s*$", "", text)  # "put the cap back, whatever"
    # "…, whatever, just place it": a clause of its own (a value right after it is a repair: repair.py)
    text = rx.sub(r"(?<=\S)\s*,?\s*\bwhatever\b\s*,?\s*(?=just\b)", " , ", text)
    # "shoe for running, number 44": a shoe size said as a number; "it must be more big, L": the size said is meant
    text = rx.sub(r"\bnumber\s+((?:3[5-9]|4[0-9])(?:\.5)?)\b", r"size \1", text)
    text = rx.sub(
        r"\b(?:it|they|this|that)\s+(?:must|should|has to|have to|needs? to)\s+be\s+(?:more big|bigger|larger|more "
        r"small|smaller)\s*,?\s*(?=(?:size\s+)?(?:xs|s|m|l|xl|xxl|\d{2})\b)",
        "actually ",
        text,
    )
    # "ugh no, 43 was right", "the black was better": that value again, as a correction
    text = rx.sub(
        r"\b(?:(?:no|nah|nope)\s*,?\s+)?(?:the\s+)?([a-z0-9.]+)(?:\s+one)?\s+(?:was|is)\s+(?:right|correct|better|"
        r"fine|best)(?:\s+after all)?\b",
        lambda m: f"actually {m.group(1)}" if _value_kind(m.group(1)) else m.group(0),
        text,
    )
    if rx.search(r"\b(?:home|work|office|house)\b.*\b(?:home|work|office|house)\b", text):
        text = NOT_THIS_ADDRESS.sub(" ", text)  # only beside the address meant
    if rx.search(r"\b(?:\d{4}|visa|mastercard|amex|card)\b", text):
        text = CARD_CHECK.sub(" ", text)
    text = NO_WORRIES.sub(" ", text)
    # "if you have the tech tee in orange L add that too": that item, for the shop's stock to decide
    text = IF_YOU_HAVE_ADD.sub(lambda match: " and " + match.group("what") + " ", text)
    text = rx.sub(r"\s*,?\s*\b(?:anyway|anyways)\s*$", "", text)  # "yes anyway", "i'll take it anyway"
    text = rx.sub(r"(?<=\S)\s+(?:tho|though)\s*$", "", text)  # "in navy tho"
    # why a size is wanted ("make both of them large, they run small"): a reason, not a request
    text = rx.sub(
        r"\s*[,.;]?\s*\b(?:since |because |as |cause |cos )?(?:they|it|these|those|this|that one|the \w+)\s+"
        r"(?:run|runs|come up|comes up|fit|fits|are|is)\s+(?:a bit |a little |really |very |quite )?(?:small|large|"
        r"big|tight|loose|narrow|wide|true to size|short|long)\b(?=\s*(?:[,.;]|$))",
        " ",
        text,
    )
    # "and a steel bottle to go with it": what it goes with is no swap ("go with" read as choosing the bottle
    # instead of the day pack, which was dropped)
    # ("and a cap to go with, blue": said with nothing after it, the cap replaced the rain jacket)
    text = rx.sub(
        r"\s*\bto (?:go with|match|wear with|pair with|go along with)(?:\s+(?:it|that|them|this|those|the [a-z]+"
        r"(?: [a-z]+)?)\b|(?=\s*(?:[,.;!]|$)))",
        " ",
        text,
    )
    # "ok only 2 tho": a "though" at the end says nothing more (the 2 was read as the second product shown)
    text = rx.sub(r"\s*,?\s*\b(?:tho|though)\s*$", "", text)
    # "forget the jacket, just the wind shell blue M": a swap (the removal took everything after "forget" as its thing)
    text = rx.sub(
        r"^(?:(?:no|nah|ok|okay|actually|hmm)\s*,?\s+)*(?:forget|skip|scratch|drop|ditch|nix|lose)\s+(?:about\s+)?"
        r"(?:the\s+|my\s+|that\s+)?(?P<old>[a-z0-9 ]+?)\s*,\s*(?:just|only)\s+(?:get\s+|the\s+)*(?P<new>[a-z0-9 ]+)$",
        r"swap the \g<old> for the \g<new>",
        text,
    )
    # "pink is nicer", "nah the blue looks better, back to blue": a preference said as a remark is that value (not
    # understood); "one for my sister too but blue": in blue; "the over ear headphones instead, silver": in silver
    text = rx.sub(
        r"(?:^|(?<=[\s,]))(?:the\s+)?([a-z0-9]+)(?:\s+ones?)?\s+(?:is|looks|was|s)\s+(?:much\s+|way\s+)?"
        r"(?:nicer|better|prettier|cooler|nicer looking)\b",
        lambda match: (
            ("" if rx.search(rf"\b{match.group(1)}\b", match.string[match.end() :]) else match.group(1))
            if _value_kind(match.group(1))
            else match.group(0)
        ),
        text,
    )
    text = rx.sub(r"\b(?:too|as well)\s*,?\s+but\s+(?:in\s+)?(?=[a-z0-9]+\s*$)", "in ", text)
    text = rx.sub(
        r"\binstead\s*,\s*([a-z0-9]+)\s*$",
        lambda match: f"in {match.group(1)} instead" if _value_kind(match.group(1)) else match.group(0),
        text,
    )
    # "and a pink one", "plus one in pink": one more, in that colour or size (it changed the line's colour)
    text = rx.sub(
        r"^((?:(?:oh|ok|okay|hmm|ah)\s*,?\s+)*)(?:and|plus|also)\s+(?:(?:a|an)\s+([a-z0-9]+)\s+one|one\s+"
        r"(?:for\s+" + _PERSON + r"\s*,?\s*)?(?:in|with)\s+([a-z0-9]+))\b",
        lambda match: f"{match.group(1)}another in {match.group(2) or match.group(3)}",
        text,
    )
    # "and one medium for me", "plus one more large": the same, the value said without "in"
    text = rx.sub(
        r"^((?:(?:oh|ok|okay|hmm|ah)\s*,?\s+)*)(?:(?:and|plus|also)\s+one\s+(?:more\s+)?|(?:and\s+)?another(?:\s+one|"
        r"\s+pair|\s+pack)?\s+|(?:and\s+)?one\s+more\s+)(?:for\s+" + _PERSON + r"\s*,?\s*)?(?:size\s+|in\s+)?"
        r"([a-z0-9]+)\b",
        lambda match: f"{match.group(1)}another in {match.group(2)}" if _value_kind(match.group(2)) else match.group(0),
        text,
    )
    # "and one for him too", "another for my sister": one more of the same, for someone else
    text = rx.sub(
        r"^((?:(?:oh|ok|okay|hmm|ah)\s*,?\s+)*)(?:(?:and|plus|also)\s+one|(?:and\s+)?another(?:\s+one)?"
        r"|(?:and\s+)?one\s+"
        r"more)\s+for\s+" + _PERSON + r"(?:\s+(?:too|as well|also|please|pls))*$",
        lambda match: f"{match.group(1)}another one too",
        text,
    )
    # "same as my last order again", "reorder my last order": what was bought last time (it was the order's status)
    text = rx.sub(
        r"\b(?:(?:the\s+)?same(?:\s+(?:thing|stuff|items?|things|order))?\s+(?:as|like)\s+(?:my\s+|the\s+|in my\s+)?"
        r"(?:last|previous|latest)\s+(?:order|purchase)|(?:re-?order|repeat|order)\s+(?:my\s+|the\s+)?(?:last|previous|"
        r"latest)\s+order(?:\s+again)?|(?:my\s+)?(?:last|previous)\s+order\s+again)\b(?:\s+again)?",
        "same as last time",
        text,
    )
    # "actually i only need one jacket, remove the wind shell": the removal says it (the first part was a count and
    # a product change beside it)
    # "i don't need two pairs of white shoes, remove the court classic": likewise (the first part removed a line of
    # its own, asked which, and the removal said after it was lost)
    text = rx.sub(
        r"^(?:(?:actually|ok|okay|hmm|so|oh|haha|wait|honestly|look|listen|well|right)\s*,?\s+)*(?:i\s+)?"
        r"(?:do not|really do not)\s+(?:really\s+)?"
        r"(?:need|want)\s+(?:two|2|three|3|both|all|all of|that many|so many|the two)\b[a-z0-9 ]{0,40}?\s*,\s*"
        r"(?:so\s+)?(?:just\s+)?"
        r"(?=(?:remove|drop|delete|take out|take off|lose|get rid of|cancel|forget|ditch|scrap|bin)\b)",
        "",
        text,
    )
    text = rx.sub(
        r"^(?:(?:actually|ok|okay|hmm|so|oh)\s*,?\s+)*(?:i\s+)?(?:only|just|really only)\s+(?:need|want)\s+"
        r"(?:one|1|the one)(?:\s+[a-z]+)?\s*,\s*(?:so\s+)?"
        r"(?=(?:remove|drop|delete|take out|lose|get rid of|cancel|forget|ditch|scrap|bin)\b)",
        "",
        text,
    )
    # what the customer has now ("my old shoes finally died", "my current jacket is too small"): no order
    text = rx.sub(
        r"\bmy (?:old|current|last|previous|worn[- ]out|broken|existing|present) "
        r"(?!(?:order|orders|purchase|purchases|time|one|ones|card|address|code)\b)(?:pair of )?[a-z]+(?: [a-z]+)?"
        r"(?:\s+(?:finally |just |totally |completely )?(?:have |has |are |is |were |was )?"
        r"(?:died|dead|broke|broken|fell apart|wore out|worn out|ripped|torn|tore|gave up|do not fit|dont fit|"
        r"no longer fit|got [a-z]+)"
        r"[a-z0-9 ]*?(?=\s*(?:[,.;]|\bso\b|\bbut\b|\band\b|$)))?(?=\s*(?:[,.;]|\bso\b|\bbut\b|\band\b|$))",
        " ",
        text,
    )
    # "red 42. no wait white. ugh, red.": a sound of annoyance before a value, in the middle, corrects what came before
    text = rx.sub(
        # ("white racers 41 damn it 42", "in 42 ducking hell, 43": the phone's autocorrect at the slip)
        r"(?<=[a-z0-9])\s*,?\s+\b(?:ugh+|argh|meh|pfft|damn(?:\s+it)?|dammit|ffs|doh|dang|darn|shoot|crap"
        r"|(?:ducking|bloody)\s+hell)\b\s*,?\s+(?=([a-z0-9]+)\b)",
        lambda match: " no " if _value_kind(match.group(1)) else match.group(0),
        text,
    )
    # "oh shoot", "dang", "oh no": what the customer feels, nothing to order
    text = rx.sub(
        r"\b(?:oh\s+)?(?:shoot|dang|darn|damn(?:\s+it)?|dammit|crap|oh no|oh dear|argh|ugh|oopsie|come on|cmon)\b"
        r"(?!\s+(?:pants|bag))",
        " ",
        text,
    )
    # "the office is closed next week", "work is shut till monday": why an address is not wanted, no address chosen
    text = rx.sub(
        r"\b(?:(?:the|my|our)\s+)?(?:office|work|workplace|house|home|place)\s+(?:is|will be|was|s)\s+(?:closed|shut|"
        r"empty|locked|being renovated)\b[^,]*",
        " ",
        text,
    )
    # "take the code off, saving it for later": why, not what
    text = rx.sub(
        r"\s*,?\s*\b(?:i am\s+|i will be\s+)?(?:saving|save|keeping|keep)\s+(?:it|that|them|this)\s+(?:for\s+(?:later|"
        r"next time|another time|another day|the next order|something else))\b",
        " ",
        text,
    )
    # "not sure between M and L", "red or white, cant decide", "maybe red? or black idk": two values and no choice.
    # Both go, so that the policy asks (it took the first, or searched); the item stays.
    said_before = text

    def undecided(match: re.Match[str]) -> str:
        kinds = {_value_kind(match.group("a")), _value_kind(match.group("b"))}
        return " " if len(kinds) == 1 and None not in kinds else match.group(0)

    text = rx.sub(
        r"\b(?:not sure\s+|unsure\s+|torn\s+)?between\s+(?P<a>[a-z0-9]+)\s+(?:and|or)\s+"
        r"(?P<b>[a-z0-9]+)\b",
        undecided,
        text,
    )
    # (two values with "or" are the repair's: "M or L" is no size said, "42, or maybe 44" a change of mind)
    text = rx.sub(
        r"\b(?P<a>[a-z0-9]+)\s*,?\s+or\s+(?P<b>[a-z0-9]+)\s*,?\s*(?:can not decide|cannot decide|not sure|idk|"
        r"i do not know|dunno|no idea|either is fine|whichever)\b",
        undecided,
        text,
    )
    if not rx.sub(r"\b(?:i|am|im|not|sure|idk|hmm|um|well|so|ok|okay|really|honestly)\b|[^a-z0-9]", "", text):
        # said alone, as an answer to "which size?": both values stay (the reader says both, and the policy asks)
        text = said_before
    # "surprise me on the colour", "either colour is fine", "you pick the size": the choice left to the assistant,
    # which asks instead (never picks for an order)
    text = rx.sub(
        r"\b(?:surprise me(?: on the (?:colou?r|size))?|either (?:colou?r|size|one) is (?:fine|ok|okay)|(?:you|u) "
        r"(?:pick|choose|decide)(?: the (?:colou?r|size))?|no idea (?:of|about|on) (?:his|her|their|my|the) size|"
        r"(?:can not|cannot|cant) decide|not sure (?:on|about) the (?:colou?r|size))\b",
        " ",
        text,
    )
    # "probably 2 packs": the count said, without the hedge (it became a search for "probably")
    text = rx.sub(
        r"\b(?:probably|prob|maybe|perhaps)\s+"
        r"(?=(?:\d{1,2}|two|three|four|a couple)\s+(?:packs?|pairs?|of them|units?)\b)",
        "",
        text,
    )
    # "looks good i guess", "that is fine i suppose": a hedge after what was said
    text = rx.sub(r"(?<=[a-z0-9])\s*,?\s+i (?:guess|suppose|reckon)\s*$", " ", text)
    # "can i still change the size to 43?", "could you change it to L": the change asked as a question
    text = rx.sub(
        r"\b(?:can|could|may)\s+(?:i|you|we)\s+(?:still\s+|please\s+|just\s+)*(?=(?:change|switch|swap|make|send|ship|"
        r"deliver|update)\b)",
        " ",
        text,
    )
    # "sorry for the long message": an apology for the message, not about the order
    text = rx.sub(
        r"\b(?:sorry|apologies)\s+(?:for|about)\s+(?:the|my|this)\s+(?:long\s+|rambling\s+)?(?:message|text|essay|rant|"
        r"ramble|novel|wall of text)\b",
        " ",
        text,
    )
    # "hmm too expensive, drop the cap": why the line goes, not a search for cheaper things beside the removal
    text = rx.sub(
        r"^(?:(?:hmm+|ugh|oof|yikes|ok|okay|oh)\s*,?\s+)*(?:(?:that|it|this) ?(?:is|s)?\s+|thats\s+|its\s+)?"
        r"(?:(?:a bit|a little|way|far|much|bit)\s+)?(?:too\s+)?(?:expensive|pricey|much|steep|dear)\s*[,.;!]+\s*"
        r"(?=(?:so\s+)?(?:drop|remove|lose|take|skip|forget|ditch|get rid of|no|delete|bin)\b)",
        "",
        text,
    )
    # "wait, put them back": the "wait" before a change is only a breath (read alone, it was "not understood")
    text = rx.sub(
        r"^(?:(?:oh|hmm|um|erm)\s*,?\s+)*wait\s*[,.!]+\s*(?=(?:put|bring|add|keep|remove|drop|make|change|take"
        r"|swap)\b)",
        "",
        text,
    )
    # "change of plan, one purple one blue", "scrap that, I want the white ones": a change follows
    text = rx.sub(
        r"^(?:(?:ok|okay|so|hmm|oh)\s*,?\s+)*(?:change of plans?|new plan|plan b|on second thoughts?"
        # "on reflection, leave out the grey one"
        r"|on reflection|having thought about it|thinking about it|come to think of it)\s*[,.:;!-]*\s*",
        "actually ",
        text,
    )
    text = rx.sub(
        r"^(?:scrap|scratch|forget)\s+that\s*[,.;]?\s*(?:i\s+(?:want|would like|will take|will have|need)\s+)?"
        r"(?=the\s+[a-z0-9]+\s+(?:ones?|pair)\b)",
        "actually ",
        text,
    )
    # "(actually) one purple one blue" about a line of two: the line split, as "make it one purple and one blue" (it
    # set the count to 1 in purple)
    text = rx.sub(
        r"^(?:actually\s+)?(?:(?:make|change|split)\s+(?:that|it|them|those)(?:\s+(?:to|into))?\s*,?\s+)?(?:one|1)\s+"
        r"([a-z0-9]+)\s*,?\s+(?:and\s+)?(?:one|1)\s+([a-z0-9]+)$",
        lambda match: (
            f"make it one {match.group(1)} and one {match.group(2)}"
            if _value_kind(match.group(1)) and _value_kind(match.group(2))
            else match.group(0)
        ),
        text,
    )
    # "go back to 44", "go back to the blue": that value again, as a change
    # ("nah go back to the blue": the "nah" is part of the change, it was not understood)
    text = rx.sub(
        r"(?:\b(?:nah|nope|naa|no|hmm|erm|um|oh)\s*,?\s+)*\b(?:let us |lets |can we |please )?go back to (?:the |a )?"
        r"(?=[a-z0-9])(?!(?:first|original|previous|old|other|earlier|one before)\b)",
        "actually ",
        text,
    )
    # who or what it is for beyond a person ("for the running club", "for our team"): why, not what
    text = rx.sub(
        r"\s*,?\s*\bfor (?:me and |myself and |us and )?(?:the|my|our) (?:running |cycling |hiking |book |football "
        r"|sports? )?(?:club|team|group|"
        r"office|squad|crew|class|gym buddies|friends|lads|girls)\b(?=\s*(?:[,.;]|$))",
        " ",
        text,
    )
    total_max, total_before = None, ""
    limit = TOTAL_LIMIT.search(text)
    if limit is not None and not rx.match(r"(?:yes|yeah|yep|ok|okay|sure|go ahead|confirm)\b", text):
        # "…, and a blue cap as long as it all stays under 100": the cap depends on the total (the shop's, on the
        # preview); the words go, and the reader marks the thing
        total_max = round(float(limit.group("amount")) * 100)
        after = text[limit.end() :].strip(" ,.")
        total_before = text[: limit.start()].strip(" ,") if after else ""
        text = f"{text[: limit.start()]} {text[limit.end() :]}".strip()
        text = rx.sub(r"\s+,", ",", rx.sub(r"\band\s*,\s*", "and ", text))
    # "6 soft flasks for the run club, or however many you've got": as many as the shop has, up to six (the "or"
    # form of "otherwise however many"; "however" was a second thing to look for)
    # (and "5 soft flasks for the family or whatever you have": whatever is left, up to 5)
    text = rx.sub(
        r",?\s+or\s+(?=(?:just\s+)?(?:however many|as many as|whatever (?:you (?:have|ve|got|have got)|is left|s left"
        r"|there is|theres))\b)",
        ", otherwise ",
        text,
    )
    yes_if = rx.match(r"(?:yes|yeah|yep|yup|ok|okay|sure|confirm|go ahead)\b\W*(?:if|only if|as long as)\b", text)
    if not yes_if and not CONDITIONAL_ANSWER.match(text):  # "yes if not too late" is no yes
        for fallback in (COUNT_IF_NOT, ALTERNATIVE_IF_GONE, FALLBACK_TAIL):
            match = fallback.search(text)
            first = text[: match.start()] if match else text
            if match and len(rx.findall(r"[a-z0-9]+", first)) >= 2:
                text = first
                # what to take instead, for the reader to keep beside the first choice ("or 43 if the 42s are gone")
                otherwise = rx.sub(
                    r"^(?:(?:the|a|an|in|size|actually)\s+)+"
                    r"|\s*(?:please|pls|instead|then|is fine|is ok|is okay|will do|works|would be fine|would do"
                    r"|is good)\s*$",
                    "",
                    match.group("alt").strip(" ,.;"),
                )
                # "if you dont have it in black then white": what comes after "then"
                otherwise = rx.sub(r"^.*\bthen\s+(?=\S)", "", otherwise)
                otherwise_said = otherwise or otherwise_said
    if not _YES_LEAD.match(text) and (otherwise_said or not _COUNT_IF_STOCKED.search(text)):
        text = IF_AVAILABLE.sub("", text)
    text = ANYTHING_BUT.sub("not ", text)
    # "No socks this time, just the cotton tee in black L": what is not wanted this time, before what is.
    text = rx.sub(r"^(?:no|not)\s+(?:the\s+|any\s+)?[a-z]+(?:\s+[a-z]+)?\s+this time\s*,?\s+(?=\S)", "", text)
    # "drop the flask" → "no wait, i meant the headlamp - keep the flask": the thing meant, then the one kept, as
    # "the headlamp not the flask" (the keep was read as one more flask, and the product as "headlamp keep flask")
    text = rx.sub(
        r"\b(?P<meant>(?:i\s+)?meant|i\s+mean|no)\s+(?P<what>the\s+[a-z0-9]+(?:\s+[a-z0-9]+)?)\s*[-,;.!]*\s*"
        r"(?:keep|leave)\s+the\s+(?P<kept>[a-z]+)(?:\s+in)?\b",
        r"\g<meant> \g<what> not the \g<kept>",
        text,
    )
    if rx.match(r"(?:remove|delete|drop|take out|get rid of|lose)\b", text):
        text = NOT_THAT_LINE.sub("", text)
    elif rx.match(r"(?:(?:hmm+|no|nope|sorry|oh|actually|wait|ok|okay)\s*,?\s+)*(?:the|my)\s", text) and not rx.search(
        r"\b(?:saved|wishlist|liked|favou?rites?|everything|all|things|stuff|lot)\b", text
    ):  # "the three things i saved, not the bottle": every one but the bottle (reader)
        text = NOT_THE_OTHER.sub(lambda match: match.group(0) if _value_kind(match.group("what")) else "", text)
    for pattern, word in BUDGET:
        text = pattern.sub(lambda match, word=word: f" {word} {match.group('amount')} ", text)
    text = PRICE_NAMING.sub(lambda match: match.group("article") + " ", text)
    # a price the customer says the thing costs ("the blue runners for 60 bucks", "caps at $15 each"): never a
    # count (it was 60 pairs); the preview shows the shop's own price
    text = PRICE_SAID.sub(lambda match: " " if _not_a_limit(text, match) else match.group(0), text)
    text = AGE_OF_PERSON.sub(r"\1", text)
    text = AGES_OF_PEOPLE.sub(_people_of_ages, text)
    text = rx.sub(r"\bthey\s+(?=(?:each|all|both)\s+(?:need|want))", "", text)
    text = AGE_SAID.sub(" ", text)
    text = FEELING_REMARK.sub(" ", text)
    # "earlier you said i could have 50% off, ...": when the assistant is said to have said it is no item (it added a
    # search for "earlier")
    text = rx.sub(
        r"^(?:earlier|before|yesterday|the other day|last time|previously)\s*,?\s+(?=(?:you|u)\s+(?:said|told|mentioned"
        r"|promised|offered)\b)",
        "",
        text,
    )
    # "lovely thanks, actually make it 2", "omg thx ur the best, 1 more": the thanks or praise before a change is no
    # part of it (not understood; "cheers, another one" searched for "cheer")
    text = rx.sub(
        r"^(?:(?:lovely|great|perfect|nice|cool|brilliant|ok|okay|thanks|thank you|cheers|ta|super|awesome|amazing|"
        r"wonderful|fab|fantastic|you are the best|you rock|you are a star|you are a legend|legend|ty|aw+|oh|wow)"
        r"\s*,?\s+)+"
        r"(?=(?:actually|oh and|and also|also|can you|could you|make it|change|swap|add|remove|another|one more|"
        r"(?:\d+|two|three|a couple)\s+more)\b)",
        "",
        text,
    )
    # "does the rain jacket pack down small?": "down" after a verb is no Down Jacket (it ordered one in yellow)
    text = rx.sub(
        r"\b(pack|packs|packed|packing|fold|folds|folded|roll|rolls|rolled|zip|zips|zipped|break|breaks|wear|wears|"
        r"worn|slow|calm|scroll|trade|narrow|cut|water|wash|washes|tone|toned|turn|turned)\s+down\b",
        r"\1 away",
        text,
    )
    # "43 please, actually make it 2 pairs" (to "which size?"): a count said after a size, where no count was said
    # before, is that count (the repair read it as replacing the 43, and the 2 was lost)
    later_count = rx.search(
        r"\s*,?\s*\b(?:actually|oh and|and)?\s*make (?:it|that)\s+(\d|two|three|four|five)\s+(pairs|packs|of them)\b",
        text,
    )
    if (
        later_count is not None
        and text[: later_count.start()].strip(" ,")
        and not rx.search(
            r"\b(?:[1-9]|1\d|one|two|three|four|five|a couple|pairs?|packs?)\b|\bx\d", text[: later_count.start()]
        )
    ):
        text = (
            text[: later_count.start()]
            + f" , {later_count.group(1)} {later_count.group(2)}"
            + text[later_count.end() :]
        )
    # "nice, order me a pair" after the shoes were shown: one of them ("a pair" of nothing named was not understood)
    text = rx.sub(
        r"\b(?:a|one|1)\s+(?:pair|pack)(?=\s*(?:,|please|pls|then|thanks|of (?:them|those|these))?\s*$)", "one", text
    )
    text = STUFF_LABEL.sub("", text)
    # "cloud jogger grey forty two": a number in words from thirty to fifty is a shoe size, never that many pairs (it
    # ordered 42 of them); a count that large is said with what it counts ("forty two pairs")
    text = rx.sub(
        r"(?<!size )\b(thirty|forty|fifty)[\s-]+(one|two|three|four|five|six|seven|eight|nine)\b"
        r"(?!\s+(?:pairs?|packs?|of|x\b|items?|bottles?|caps?|units?))",
        lambda match: f"size {_spelled(match.group(0))}",
        text,
    )
    # "size ten in US", "a 9 in uk": the size system said after "in" (it was 43 or 44, asked)
    text = rx.sub(
        r"\b(\d{1,2}(?:\.5)?|five|six|seven|eight|nine|ten|eleven|twelve|thirteen)\s+(?:in\s+)?(us|uk|eu)\b",
        lambda match: f"{_spelled(match.group(1))} {match.group(2)}",
        text,
    )
    # "green color, number forty three" (shoes): "number" before a size in words is the size (it was 43 of "number")
    text = rx.sub(r"\bnumber\s+(?:size\s+)?(?=(?:thirty|forty|fifty|3\d|4\d)\b)", "size ", text)
    # "the light u wear on ur head", "the flashing light for my head": a head torch said as what it is (no product)
    text = rx.sub(
        r"\b(?:flashing\s+|little\s+|small\s+|running\s+|night\s+)?lights?\s+(?:(?:that\s+)?(?:you|u"
        r"|one)\s+wears?\s+|to wear\s+)?"
        r"(?:on|for)\s+(?:your|ur|my|the|his|her|a)\s+head\b",
        "headlamp",
        text,
    )
    # "2 black tees M one tech one cotton": one of each product named, in what was said for both (it was 2 of either)
    text = rx.sub(
        r"^(?:(?:ok|okay|so|hi)\s*,?\s+)*(?:2|two)\s+(?P<rest>[a-z0-9 ]+?)\s*,?\s+(?:one"
        r"|1)\s+(?P<a>[a-z]+)\s*,?\s+(?:and\s+)?"
        r"(?:one|1)\s+(?P<b>[a-z]+)$",
        lambda match: (
            f"one {match.group('a')} {match.group('rest')} and one {match.group('b')} {match.group('rest')}"
            if not _value_kind(match.group("a")) and not _value_kind(match.group("b"))
            else match.group(0)
        ),
        text,
    )
    # "on the mastercard. no wait keep the visa": the card kept is the choice (the mastercard was chosen)
    text = rx.sub(
        r"^(?:(?:put it |pay )?(?:on|with|use)\s+)?(?:the|my)\s+(?:visa|mastercard|amex|card ending \d{4})\s*[,.]*\s*"
        r"(?:no wait|no sorry|actually|sorry|wait|no)\s*,?\s*(?:keep|stick with|stay on)\s+(?:the|my)\s+",
        "use the ",
        text,
    )
    # "two actually", "43 actually": the value said first, the correction word after it (not understood)
    text = rx.sub(r"^([a-z0-9]+)\s*,?\s+actually$", r"actually \1", text)
    # "oh expired? ok yes then": a reaction to what was said, then the answer
    text = rx.sub(
        r"^(?:oh|ah|hmm|huh)\s*,?\s+(?:it|that|the code|its|it is|that is)?\s*(?:expired|gone|sold out|out of stock|"
        r"too bad|shame|pity|really)\s*[,.!]*\s+(?=(?:ok|okay|fine|yes|yeah|sure|alright|then|no)\b)",
        "",
        text,
    )
    # "the 10% one", "the 10 percent one": the customer's promotion of that percentage (not understood)
    text = rx.sub(
        r"^(?:use\s+)?the\s+(\d{1,2})\s*(?:%|percent|per cent)\s+(?:one|code|off one)$", r"my \1% promo", text
    )
    # "code save 10", "promo code run 15": a code typed with a space before its digits is one code (it was the code
    # "SAVE" and 10 hoodies)
    # "got a code save ten", "use run 15", "big 20 code pls": the same, its number in words, after "use" or "apply",
    # or said before the word "code" (the code SAVE and 10 kettlebells; a search for "run 15"; not understood)
    text = rx.sub(r"\b(code|coupon|voucher|use|apply|enter|redeem)\s+([a-z]{3,10})\s+(" + _CODE_NUMBER_WORDS + r")\b",
                  _code_number_joined, text)  # fmt: skip
    text = rx.sub(
        r"\b((?:promo |discount |coupon |voucher |promotion )?code|coupon|voucher)\s+([a-z]{3,10})\s+(\d{1,3})\b"
        r"(?!\s*(?:%|percent|off|pairs?|packs?|of|x\b))",
        r"\1 \2\3",
        text,
    )
    text = rx.sub(
        r"\b(use|apply|enter|redeem)\s+(?!(?:" + _NOT_CODE_WORDS + r")\b)([a-z]{3,10})\s+(\d{1,2})\b"
        r"(?!\s*(?:%|percent|off|pairs?|packs?|of|x\b|more|each|items?|times?))",
        r"\1 \2\3",
        text,
    )
    # (only at the start of a clause: "blue runner 43 code run15" is the runner in 43, and the code RUN15)
    text = rx.sub(
        r"(^|,\s*|\band\s+|\bplus\s+|\bwith\s+|\bthe\s+|\ba\s+)(?!(?:" + _NOT_CODE_WORDS + r")\b)([a-z]{3,10})\s+"
        r"(\d{1,2})\s+((?:promo |discount )?code|coupon|voucher)\b",
        r"\1\2\3 \4",
        text,
    )
    # "take the express off", "take off the express": standard shipping (it removed a line and chose express)
    text = rx.sub(
        r"\b(?:take|put)\s+(?:the\s+)?express(?:\s+shipping|\s+delivery)?\s+off\b|\btake\s+off\s+(?:the\s+)?express"
        r"(?:\s+shipping|\s+delivery)?\b",
        "standard shipping",
        text,
    )
    # "gloves in S and M (one of each)": "one of each" after the values is their own part, as after a comma
    text = rx.sub(r"(?<=[a-z0-9])\s+(?=(?:one|1) of each\b)", " , ", text)
    # "put it on the 4242", "charge it to my 0002": a card's last digits, never 4242 of the thing (with no saved card
    # to match, it was a count)
    text = rx.sub(
        r"\b((?:put|pay for|charge)\s+(?:it|them|this|that|the order|everything)\s+(?:on|to|with)|pay\s+(?:on"
        r"|with|by)|use)\s+"
        r"(?:the|my)\s+(\d{4})\b(?!\s*(?:card|visa|mastercard|amex|one))",
        r"\1 card ending \2",
        text,
    )
    text = CARD_GONE.sub(" ", text)
    text = OCCASION.sub("", text)
    text = INTO_SOMETHING.sub("", text)
    text = FROM_PLACE.sub(" ", text)
    text = LINE_IS_FINE.sub("", text)
    text = HAVE_A_CODE.sub("code ", text)
    # "M was right after all - my wife just checked the label": how the customer knows, no part of the change (the
    # whole message was not understood, and a yes to the preview shown again placed the L)
    text = rx.sub(
        r"\s*[,;!-]*\s+(?:(?:cos|cause|because|as|since)\s+)?(?:(?:my|our|the)\s+(?:" + _RELATION + r")|i|we|he|she)"
        r"\s+(?:just\s+|has\s+just\s+|have\s+just\s+)?(?:checked|looked at|measured|tried on|read)\s+"
        r"(?:the\s+|his\s+|her\s+|my\s+|their\s+)?"
        r"(?:label|tag|size|sizes|old ones?|one (?:he|she|i) has|shoes|feet)\s*$",
        "",
        text,
    )
    # "... but in a 45? they were a touch tight", "drop the bottle then, the shoes matter more", "... I'm a US 7 - got a
    # half marathon coming up", "..., one purple and one blue - me and the wife are starting a lunchtime class": why,
    # said after what is asked, no thing of its own (the tights were added, the shoes were dropped too, the message
    # became a search)
    text = rx.sub(
        r"(?:\s*[,.;?!-]+\s*|\s+)(?:(?:they|it|those|these|the old ones?|mine|my old ones?)\s+(?:were|was|are|is"
        r"|felt|feel|fit)\s+"
        r"(?:a\s+)?(?:touch|bit|little|tad|lot|way|really|very|slightly|massively|far)?\s*(?:too\s+)?"
        r"(?:tight|small|big|loose|short|long|snug|narrow|wide|large|baggy)\b[a-z ]*"
        r"|(?:the\s+)?[a-z]+(?:\s+[a-z]+)?\s+(?:matters?|is|are)\s+more\s+important(?:\s+to me)?|(?:the\s+)?[a-z]+"
        r"(?:\s+[a-z]+)?\s+matters?\s+more(?:\s+to me)?"
        r"|(?:i\s*'?ve\s+|i have\s+|ive\s+)?got\s+(?:a|an|my)\s+[a-z0-9 ]{2,30}?\s+coming\s+up(?:\s+soon)?"
        # "2 then, one of them can sort his own" (to how many of the 3 asked for are left)
        r"|(?:one of them|the other one|he|she|they|my\s+\w+)\s+(?:can|will|ll|'ll|could)\s+(?:sort|get|buy|bring|use"
        r"|borrow)\s+(?:his|her|their)\s+own"
        r"|" + PEOPLE_DOING + r"[a-z0-9 ]*)"
        r"\s*[.!]*$",
        "",
        text,
    )
    if rx.search(r"\bcancel", text):
        # "could you cancel the beanie I ordered earlier? I'd rather have the red one": why the order goes, never which
        # one (it looked for a red beanie among the orders and canceled nothing)
        text = rx.sub(
            r"(?:\s*[,.;?!-]+\s*|\s+)(?:(?:as|because|since|cos)\s+)?(?:i\s*'?\s*d|i would|id|i want to)\s+"
            r"(?:much\s+)?(?:rather|prefer)\b[a-z0-9 ]*[.!]*$",
            "",
            text,
        )
    reason = REASON_REMARK.search(text)
    if reason is not None and len(rx.findall(r"[a-z0-9]+", text[: reason.start()])) >= 2:
        said_before = set(text[: reason.start()].split())
        values = [word for word in reason.group("what").split() if _value_kind(word)]
        if all(word in said_before for word in values):
            text = text[: reason.start()]
    without_gift = GIFT_SERVICE.sub(" ", text)
    gift_service = without_gift != text and len(rx.findall(r"[a-z0-9]+", without_gift)) >= 2
    if gift_service:
        text = without_gift
    # "make it 2, one for my brother too": the count said; who the other one is for is no item (it was "one too")
    text = rx.sub(
        r"\b((?:make it|make that|change it to|(?:i|we) (?:need|want))\s+(?:\d{1,2}|two|three|four)"
        r"|(?:\d{1,2}|two|three)\s+of\s+(?:them|those|these))\s*,?\s*(?:and\s+)?(?:one|1|the other(?: one)?)\s+"
        r"(?:each\s+)?(?:is\s+|of them\s+)?for\s+" + _PERSON + r"(?:\s+(?:too|as well|also))?\b",
        r"\1",
        text,
    )
    # "make that three actually, the lads at work want one too": the count said; why (who else wants one) is no item and
    # no change (it was not understood, and a yes to the preview shown again placed one)
    text = rx.sub(
        r"\b((?:make it|make that|change it to|make them|make those)\s+(?:\d{1,2}|two|three|four|five|six)"
        r"(?:\s+(?:actually|then|instead))?)\s*[,;-]+\s*(?:(?:as|since|because|cos|coz)\s+)?"
        r"(?:the|my|our|his|her|a few|some|two|2|three|3)\s+(?:\w+\s+){0,2}?(?:" + _RELATION + r"|guys|team|folks)"
        r"(?:\s+(?:at|from)\s+(?:work|the office|school|the club|the gym))?"
        r"\s+(?:want|wants|need|needs|would like|are after)"
        r"\s+(?:one|some|them|it|a pair|a pack)(?:\s+(?:too|as well|also))?\b",
        r"\1",
        text,
    )
    # "a yoga mat for me and my wife to share": one thing for both, never one each
    text = rx.sub(r"\s*\b(?:for\s+" + _PERSONS + r"\s+)?to share(?:\s+between\s+" + _PERSONS + r")?\b", " ", text)
    text = _parts_by_person(text)
    people = _people_named(text)
    sizes_listed = rx.search(r"(?:^|,)\s*((?:(?:xs|s|m|l|xl|xxl|\d{2})\s*,?\s*(?:and\s+)?){2,6})\s*$", text)
    if (
        people
        and sizes_listed is not None
        and len(rx.findall(r"\b(?:xs|s|m|l|xl|xxl|\d{2})\b", sizes_listed.group(1))) == people
        and not _SAID_COUNT.search(" " + FOR_PEOPLE.sub(" ", text[: sizes_listed.start()], count=1))
    ):
        # "pullover hoodies for me and my 2 sons, black, L L and S": one size each for the three of them (it was one L
        # and one S: the L said twice was one)
        text = f"{people} " + rx.sub(r"\s*\bfor\s+" + _PERSONS + r"\b\s*,?", " ", text, count=1)
        people = None
    text = _per_person_count(text)
    # "where is order 12345", "order #a1234 status": the customer's order, never 12345 of anything ("order 2 caps" is
    # a count: a short number after "order" alone is how many)
    text = ORDER_NUMBER.sub(" my order ", text)
    for pattern in ELSEWHERE_NUMBERS:
        text = pattern.sub(" ", text)
    text = GIFT_TAIL.sub("", GIFT_LEAD.sub("", rx.sub(r"\s+", " ", text).strip()))
    text = _drop_recipients(text)
    mind = MIND_CHANGE.fullmatch(text.strip(" ,"))
    if mind is not None and CHANGE_OF_MIND_WORDS.search(text) and _value_kind(mind.group("value")):
        text = "actually " + mind.group("value")  # read as the correction it is
    words, excluded = _not_values(_size_in_words(text.split()))
    cleaned = rx.sub(r"(?:\s*,)+\s*$", "", " ".join(words)).strip(" ,")
    return Asides(
        text=rx.sub(r"\s+", " ", cleaned),
        excluded=excluded,
        people=people,
        gift_service=gift_service,
        otherwise=otherwise_said,
        total_max=total_max,
        total_before=total_before,
    )
