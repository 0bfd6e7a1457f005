"""The customer's story, dropped from a long message before it is read (`drop_story`).

"doing a summer 10k in july and i burn so easily, my forehead was bright red for a week. white running cap please",
"my old ones are falling apart, blue runner 42 please": the sentences and clauses that only tell the customer's story
name no product, no size and ask for nothing. Left in, their words were searched for (a search for "doing half
marathon") or their colour taken ("bright red"), so the reader (`generator._Reader`) drops them first.

What is dropped is an ordered table, `STORY_RULES`, applied one rule after the other by `drop_story`. Most rules are
one substitution (`StoryRule`: a pattern, what replaces it, and when the rule applies at all); the few that take
several steps (a match, then a check of what is left, then a cut) are plain functions of the text and the
`StoryContext`. The comment above each rule is why it exists, with the messages it was written for. The order is the
reading: a rule reads the text the rules before it left, so a new rule goes where its messages are first read right.

The patterns go through `rx` (its compile cache, not `re`'s). What a rule needs of the reader (is a product named, is
a part only story, the dialogue's cart) comes in the `StoryContext`; this module does not import the generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ordering.agent.understand import rx
from ordering.agent.understand.asides import RELATION
from ordering.agent.understand.lexicon import COMMON_WORDS, colour_of
from ordering.agent.understand.patterns import (
    BODY_SAID,
    CANCEL_ASK,
    HUMAN,
    HUMAN_VERB,
    REFUND,
    SHIP_TO_STREET,
    SHIPPING_IF_UNDER,
    SIZE_LETTERS,
    STORY_VALUE,
    YES_BUT,
    has_content,
)
from ordering.agent.understand.sizes import normalize_clothing
from ordering.agent.understand.text import normalize

if TYPE_CHECKING:
    from ordering.agent.commands import DialogueContext
    from ordering.agent.understand.lexicon import CatalogLexicon


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# -- patterns only the rules read (the ones the reader reads too are in `patterns`) -------------------------------


RELATION_STREET = re.compile(
    r"(?P<to>\bto\s+(?:my|our)\s+" + RELATION + r"(?:\s*'?\s*s\b)?(?:\s+(?:house|home|place|flat))?)\s*,?\s*(?:at\s+)?"
    r"(?:\d{1,5}[a-z]?\s+)?(?:[a-z]+\s+){1,3}(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|way|close|court|crescent"
    r"|boulevard|blvd|terrace|grove|gardens)\b\.?(?:\s*,\s*[a-z]+(?:\s+[a-z]+)?(?=\s*(?:$|[,.!])))?",
    re.IGNORECASE,
)


# How a complaint sounds beside the words of REFUND ("a hole in the sleeve", "nobody has answered")
COMPLAINT_WORDS = re.compile(
    r"\b(?:frustrated|annoyed|angry|upset|furious|fed up|disappointed|unacceptable|ridiculous|nobody|no one|no reply"
    r"|no answer|emailed|hole|holes|ripped|torn|stain|stained|missing|lost)\b"
)


# A card's last four said, then corrected by another last four later in the same message
CARD_CORRECTED = re.compile(
    r"\b(?:visa|mastercard|master card|amex|card|debit card|credit card)\s+(?:ending\s+(?:in\s+)?|that ends in\s+)?"
    r"(?P<old>\d{4})\b.*?(?P<fix>\s*(?:\.\.\.|[,.;-])?\s*\b(?:actually|sorry|wait|no|oops)\b[\s,.]*(?:no\b[\s,.]*)?"
    r"(?:the\s+|use\s+the\s+|make it\s+(?:the\s+)?)?(?:one\s+ending\s+(?:in\s+)?)?(?P<new>\d{4})\b(?:\s+(?:one|card))?)"
    r"\s*[.!]*\s*$",
    re.IGNORECASE,
)

# Where a story may end and the request start: a comma, or "and"/"so" before "i need", "i want"…
STORY_CLAUSE = re.compile(
    r"\s*[,;]\s*|\s+-\s+|\s+(?:and|so|and so|which means|meaning)\s+"
    r"(?=(?:now\s+|apparently\s+|then\s+|basically\s+)?(?:i\s+|i'?m\s+|im\s+)?"
    r"(?:need|want|would like|d like|am after|m after|am looking|m looking|looking)\b)",
    re.IGNORECASE,
)

CHANGE_IT = re.compile(
    r"(?:please\s+|better\s+|best\s+)?(?:make|change|switch|swap)\s+(?:it|that|them|this)\b", re.IGNORECASE
)

SIZE_OF_PAST = _rx(
    r"\s*[,;-]?\s*(?:in\s+)?(?:the\s+)?same\s+size\s+(?:as|like)\s+(?:the|my|those|these|that)\s+[a-z0-9 ]{1,40}?\s+"
    r"(?:i|we)\s+(?:got|bought|ordered|had|have|purchased|orderd)\b(?:\s+(?:last time|before|last (?:week|month|year)"
    r"|from you|here|previously|a while ago))*"
)

# "45 then - they'll just be a little roomy", "send it home then and I'll take it over to them": how it will be, or
# what the customer will do with it, said last
AFTERWORD_LAST = _rx(
    r"(?:\s*[,;-]\s*|\s+and\s+)(?:(?:they|it|these|those|that)\s*(?:ll|will|should|would|might|may|s going to|re "
    r"going to)?\s*(?:just\s+|probably\s+|only\s+)?(?:be|fit|feel|run|look)\b"
    r"|i\s*(?:ll|will|can|am going to)\s+(?:just\s+)?(?:take|bring|give|pass|drop|hand)\s+(?:it|them)\b"
    r"|(?:it|this|that|they)\s*(?:s|is|are|re)\s+(?:a\s+)?(?:surprise|gift|present|birthday present|secret)\b"
    # "…, its her 30th": the occasion
    r"|(?:it|its|it s)\s*(?:is|s)?\s+(?:her|his|their|my|our)\s+(?:\d{1,3}(?:st|nd|rd|th)?|birthday|bday|b day"
    r"|anniversary|retirement|graduation|big day|wedding|leaving do|first race|first marathon)\b)"
    r"[^,;.!?]*[.!]*\s*$"
)

FOR_WHOM_LAST = _rx(
    r"\s*[,;-]\s*(?:(?:and|but)\s+)?(?:(?:one|the other(?: one)?|both(?: of them)?)\s+(?:is|s|are)|"
    r"they re|theyre|they are|its|it s|it is|this is|that s|thats|these are|those are)\s+"
    r"(?:for|a gift for|a present for|gifts for|presents for|going to|meant for)\s+[^,;.!?]*[.!]*\s*$"
)

SIZE_THEN_THAT = _rx(
    r"^\s*(?:i\s*a?m|im|i m|i wear|i take|my size is|i'm)\s+(?:a\s+|an\s+)?(?:size\s+)?"
    r"(?P<size>(?:(?:us|uk|eu)\s*)?\d{1,2}(?:\.5)?(?:\s*(?:us|uk|eu))?|xs|xxl|xl|s|m|l|small|medium|large)"
    r"\s*(?:[,.;!-]\s*|\s+(?:so|and)\s+)(?P<rest>.*\b(?:in that|that size|in those|in my size)\b.*)$"
)

# A size said of a person: "a UK 9", "an M", "size 42", "a 44" (never "is 12": an age)
_SIZE_SAID = (
    r"(?:(?:a|an|size)\s+(?:size\s+)?(?:(?:uk|us|eu)\s*)?(?:\d{1,2}(?:\.5)?(?:\s*(?:uk|us|eu))?|xs|s|m|l|xl|xxl|small"
    r"|medium|large)|(?:uk|us|eu)\s*\d{1,2}(?:\.5)?)"
)

PEOPLE_SIZES_FIRST = re.compile(
    r"^\s*(?P<p1>my\s+\w+|he|she)\s+(?:is|'s|s)\s+(?P<s1>" + _SIZE_SAID + r")\s*,?\s+and\s+"
    r"(?P<p2>i'?m|i am|my\s+\w+(?:\s+(?:is|'s))?|he'?s|she'?s|he is|she is)\s+"
    r"(?P<s2>" + _SIZE_SAID + r")\s*[-,:.;]+\s*(?P<rest>\S.*)$",
    re.IGNORECASE,
)

PRICE_REACTION = re.compile(
    r"^\s*(?:(?:hmm+|hm+|oh|ah|wow|yikes|ouch|oof|ok|okay|right|mm+)\s*[,.!]*\s+)*"
    r"(?:that'?s|that is|thats|it'?s|it is|its|that comes to|that'?s come to)\s+"
    r"(?:a lot|a lot more than i (?:expected|thought|planned)|(?:a bit|a little|way|rather|quite)?\s*(?:much|too much)"
    r"|more than i(?:'d| had| would have)? (?:planned|expected|thought|wanted to spend|budgeted)"
    # "that's more than the $50 we agreed for secret santa"
    r"|more than (?:the\s+)?\$?\s?\d+(?:\.\d\d)?\s*(?:dollars?|bucks)?\s*(?:we|i)\s+(?:agreed|said|planned|budgeted"
    r"|wanted to spend|set)(?:\s+(?:on|for)\s+[a-z ]{2,30}?)?"
    r"|(?:a bit |a little |too |quite |very |rather |kinda |pretty |so )?(?:expensive|pricey|pricy|steep|dear))"
    r"(?:\s+for me)?(?:\s+(?:tbh|honestly|actually))?\s*[.!,;:-]+\s*(?P<rest>\S.*)$",
    re.IGNORECASE,
)

# "finance won't sign that off, just 1", "my boss won't approve that - one pack": who would not pay it, then the change
NOT_SIGNED_OFF = re.compile(
    r"^\s*(?:(?:hmm+|oh|ah|ok|okay|ugh|right)\s*[,.!]*\s+)*(?:finance|accounts|accounting|procurement|(?:my|the|our)\s+"
    r"(?:boss|manager|budget|finance team|wife|husband|partner|team lead))\s+(?:won'?t|will not|wont|would not"
    r"|wouldn'?t"
    r"|can'?t|cannot|doesn'?t|does not|will never)\s+(?:sign (?:that|it|this) off|sign off on (?:that|it|this)"
    r"|approve (?:that|it|this)|go for (?:that|it|this)|allow (?:that|it|this)|cover (?:that|it|this)|pay (?:that"
    r"|for that))"
    r"\s*[.!,;:-]+\s*(?P<rest>\S.*)$",
    re.IGNORECASE,
)

# What the one product answered about is for ("ok, just for the gym then. black"): no other thing ("gym" named the Gym
# Duffel); never "the ones for hiking", which tells products apart
ANSWERED_PURPOSE = re.compile(
    r"(?<!ones )(?<!one )\b(?:(?:just|only|mainly|mostly)\s+)?for\s+(?:the\s+|my\s+)?(?:gym|running|runs|work|office"
    r"|commute|commuting|hiking|hikes|yoga|training|travel|travelling|walks|walking)\b(?:\s+then)?",
    re.IGNORECASE,
)

# Sizes said for people before the thing: "M for me and S for my daughter, tech tees in blue", "an M for me and an S
# for my daughter in the blue tech tee" (one tee was ordered, or one in the last size)
_SIZE_FOR = (
    r"(?:(?:an?|size)\s+)?(?:(?:uk|us|eu)\s*)?(?:\d{1,2}|xs|s|m|l|xl|xxl|small|medium|large)\s+for\s+"
    r"(?:me|myself|him|her|my\s+\w+|[a-z]+)"
)

SIZES_FOR_PEOPLE_FIRST = re.compile(
    r"^\s*(?P<sizes>" + _SIZE_FOR + r"(?:\s*(?:,\s*|\s+and\s+|,\s*and\s+)" + _SIZE_FOR + r")+)"
    r"(?:\s*[-,:;]+\s*|\s+(?:in|of)\s+)(?P<rest>\S.*)$",
    re.IGNORECASE,
)

# Where the customer is or what they are doing, said first on a phone ("on my lunch break so quick one, grey beanie
# pls", "on the bus, 2 navy canvas low 43", "omw to work, can u add a grey zip hoodie L"): no part of the order (a
# search for "bus 2 canvas low"; "to work" chose the work address).
SITUATION = _rx(
    r"^(?:(?:hi|hey|hello|ok|okay|so|right)\s*,?\s+)*(?:(?:i\s*a?m|im|i m|just|currently|quickly|still)\s+)*"
    r"(?:(?:on|at|in|from|during)\s+(?:my|the|a|our)?\s*"
    r"(?:lunch(?:\s*break)?|break|coffee break|tea break|bus|train|tube|subway|metro|tram|ferry|commute|phone|desk"
    r"|meeting|school run|way (?:to|home)(?:\s+(?:work|the office|school|the gym))?|(?:the\s+)?gym)"
    r"|(?:at|in)\s+(?:work|the office|office|school|uni|college|home)"
    r"|(?:omw|on my way|otw|heading|walking|driving|commuting)(?:\s+(?:to|home|into|back)(?:\s+(?:work|the office"
    r"|school|the gym|home|town))?)?"
    r"|between meetings|waiting for (?:my|the|a) (?:bus|train|tube|coffee|kids?|flight)|stuck in traffic"
    r"|wfh|working from home|work from home|off work|off sick|on holiday|on vacation|away(?: for work)?"
    r"|(?:at|in) (?:home|the office|work) (?:this|all|next) (?:week|month)"
    r"|(?:quick one|real quick|in a rush|in a hurry))"
    r"(?:\s+(?:so|and|but)\s+(?:a\s+)?(?:quick one|real quick|in a rush|in a hurry|gotta be quick|need to be quick"
    r"|make it quick|quickly))?"
    r"(?:\s+(?:rn|right now|atm|at the moment|now|today|this week|all week|next week|this month|lol|haha))*"
    r"\s*(?:[,:;]|\s-|\.{1,3}|!)\s*"
)


# A present that did not fit: who gave it, the thing (and the size it came in), "too small/tight/big", then what is
# wanted now ("… need the XL", "L please", "can i get a 44").
GIFT_DID_NOT_FIT = re.compile(
    r"^(?:.*?\b)?(?:got|gave|given|brought|bought|sent)\s+(?:me\s+)?(?P<thing>(?:(?!\b(?:but|too)\b).)+?)\s*[,.;-]?\s*"
    r"(?:but\s+|and\s+)?(?:it\s*'?\s*s|its|it\s+is|they\s*'?\s*re|theyre|they\s+are|it\s*'?\s*s\s+just|they\s+were"
    r"|it\s+was)?\s*(?:way\s+|much\s+|a\s+bit\s+|a\s+little\s+|slightly\s+|far\s+|so\s+|just\s+|bit\s+)?"
    r"too\s+(?:small|tight|big|large|short|long|loose|snug|narrow|wide|baggy)\b[\s.,;!]*(?:(?:so"
    r"|and)\s+)?(?P<rest>.*)$",
    re.I,
)

# "my trail shoes have finally died, same again please", "my trail blazers are falling apart after 800 miles, same
# again, green 44": the worn-out thing is what "same again" is.
WORN_OUT_SAME_AGAIN = re.compile(
    r"^\s*(?:my|our)\s+(?P<thing>[a-z][a-z ]{2,30}?)\s+(?:have|has|are|is|'ve|'s)?\s*"
    r"(?:finally\s+|just\s+|completely\s+|totally\s+)?(?:died|dead|split|worn\s+out|worn\s+through|falling\s+apart"
    r"|fallen\s+apart|broken|broke|had\s+it"
    r"|knackered|shot|given\s+up|packed\s+in|packed\s+up)\b[^,.;!]*[,.;!]+\s*(?:so\s+)?(?:the\s+)?same\s+again\b",
    re.I,
)

# "same shoes for my wife, she's a 40", "the same for my son, he takes an M": the size after the person.
SAME_FOR_PERSON_THEN_SIZE = re.compile(
    r"^(?P<head>\s*(?:and\s+|oh\s+|also\s+)?(?:the\s+)?same\b[^,.;]{0,20}?\bfor\s+(?:my|our|his"
    r"|her)\s+[a-z]+)\s*[,;-]?\s*"
    r"(?:(?:he|she|they)\s*'?\s*(?:s|is|are|re)|(?:he|she|they)\s+(?:wears|takes|wear|take))\s+(?:a\s+|an\s+)?"
    r"(?:size\s+)?(?P<value>[a-z0-9.]+)\s*$",
    re.I,
)


_TWO_COLOURS_ONE_THING = re.compile(
    r"\b(?P<q1>a|an|one|the|\d{1,2}|two|three|four)\s+(?:in\s+)?(?P<c1>[a-z]+)\s+and\s+(?P<q2>a|an|one|the|\d{1,2}|two"
    r"|three|four)\s+(?:in\s+)?(?P<c2>[a-z]+)\s+(?P<thing>(?!(?:then|please|pls|thanks|each|too|ones?|instead|for|in|size)\b)[a-z][a-z-]*"
    r"(?:\s+[a-z][a-z-]*){0,2}?)(?=\s*(?:[,.;!?]|$)|\s+(?:please|pls|in|size"
    r"|for|then|thanks)\b)",
    re.I,
)


_TWO_COLOURS_ALONE = re.compile(
    r"^\s*(?:(?:then|ok|okay|so|great|perfect|lovely|nice|fine|right|alright|cool|meh)\s*,?\s+)*"
    r"(?P<q1>a|an|one|\d{1,2}|two|three|four)\s+(?:in\s+)?"
    r"(?P<c1>[a-z]+)\s+and\s+(?P<q2>a|an|one|\d{1,2}|two|three|four)\s+(?:in\s+)?(?P<c2>[a-z]+)(?:\s+(?:then|please|pls"
    r"|ones?))*\s*[.!]*\s*$",
    re.I,
)


def _two_colours_one_thing(text: str, ctx: StoryContext) -> str:
    """ "2 blue and 1 white running caps", "a blue and a purple yoga mat", "the blue and the white cap": each colour is
    a thing of its own (only the last colour was taken: one cap, one mat). Said alone ("then a blue and a purple")
    right after the one product shown or answered about: that product in each colour."""

    def each(match: re.Match[str]) -> str:
        first, second, thing = match.group("c1"), match.group("c2"), match.group("thing")
        if colour_of(first.lower()) is None or colour_of(second.lower()) is None or colour_of(thing.split()[0].lower()):
            return match.group(0)
        return f"{match.group('q1')} {first} {thing} and {match.group('q2')} {second} {thing}"

    alone = _TWO_COLOURS_ALONE.match(text)
    shown = ctx.context.last_shown
    values = rx.match(
        r"^\s*(?:(?:then|ok|okay|so|great)\s*,?\s+)*(?:(?:a|an|one|two|\d)\s+)?(?P<first>[a-z0-9]+)\b.*\band\b",
        text,
        re.I,
    )
    if (
        values is not None
        and alone is None
        and len(shown) == 1
        and not ctx.context.cart
        and ctx.context.pending is None
        and (colour_of(values.group("first").lower()) or normalize_clothing(values.group("first").lower()))
        and not ctx.names_product(text)
    ):
        # "M for me and S for my daughter" right after the gloves were answered about: both are the gloves (only the
        # M was ordered)
        return f"the {shown[0].label}, {text}"
    if alone is not None and len(shown) == 1 and not ctx.context.cart:
        first, second, title = alone.group("c1"), alone.group("c2"), shown[0].label
        if colour_of(first.lower()) is not None and colour_of(second.lower()) is not None:
            return f"{alone.group('q1')} {first} {title} and {alone.group('q2')} {second} {title}"
    if (
        alone is not None
        and ctx.context.pending is not None
        and ctx.context.pending.slot in ("quantity", "colour")
        and rx.search(r"\bin\b", alone.group(0), re.I)
    ):
        # "1 in blue and 2 in white" to "how many?" about the caps: the answer without its "in"s (only the 1 was kept)
        first, second = alone.group("c1"), alone.group("c2")
        if colour_of(first.lower()) is not None and colour_of(second.lower()) is not None:
            return f"{alone.group('q1')} {first} and {alone.group('q2')} {second}"
    return _TWO_COLOURS_ONE_THING.sub(each, text)


def _colour_then_its_look(text: str, ctx: StoryContext) -> str:
    """ "orange, the bright one", "navy - the dark one please": the colour, and how it looks, which names nothing (it
    was searched for "bright")."""

    def colour_only(match: re.Match[str]) -> str:
        said, look = match.group("colour"), match.group("look")
        if colour_of(said.lower()) is None or colour_of(look.lower()) or normalize_clothing(look.lower()):
            return match.group(0)
        return said

    return rx.sub(
        r"\b(?P<colour>[a-z]+)\s*(?:,|-+|;)\s*(?:the\s+|a\s+)?(?P<look>bright|brighter|dark|darker|light|lighter|pale|deep"
        r"|vivid|loud|plain|neon|muted|soft|bold|nice|fun|happy|boring|classic|sensible|safe)\s+(?:one|ones)\b",
        colour_only,
        text,
        flags=re.I,
    )


APOLOGY_FIRST = re.compile(
    r"^\s*(?:(?:sorry|soz|sry|apologies|oops|whoops|my bad|ok back|okay back|back now|back|i'?m back|im back)\b)"
    r"(?P<why>[^.!?]*)[.!?]+\s*(?P<rest>[^\s.!?].*)$",
    re.I,
)


def _apology_first(text: str, ctx: StoryContext) -> str:
    """ "sorry was on the phone. actually L", "sorry lol toddler got the phone. M not S": an apology and why, said
    first, is no part of the change that follows (the whole message was not understood, and the old preview placed)."""
    first = APOLOGY_FIRST.match(text)
    if first is None:
        return text
    why = normalize(first.group("why"))
    words = rx.findall(r"[a-z0-9]+", why)
    if any(word.isdigit() or colour_of(word) or normalize_clothing(word) for word in words):
        return text  # "sorry, L not M. …": the value is said in it
    if ctx.names_product(why, strict=True) or rx.search(
        r"\b(?:not|no|wrong|cancel|instead|change|size|colou?r)\b", why
    ):
        return text
    return first.group("rest")


# "ok the usual one is fine", "the default's fine" at a preview, to what it is paid with or sent to: nothing asked
USUAL_IS_FINE = re.compile(
    r"^\s*(?:(?:ok|okay|yeah|yes|yep|fine|right|oh)\s*,?\s+)*(?:the\s+)?(?:usual|default|normal|same|current)"
    r"(?:\s+(?:one|card|address))?\s*(?:'\s*s|\s+is|\s+will do|\s+works|\s+s)\s*"
    r"(?:fine|good|ok|okay|grand|great|perfect)?"
    r"(?:\s+(?:thanks|thx|ty|then))*[\s.!]*$",
    re.I,
)


def _usual_is_fine(text: str, ctx: StoryContext) -> str:
    if ctx.context.awaiting_confirmation and USUAL_IS_FINE.match(text):
        return "ok thanks"  # (it ordered the customer's last purchase again beside the preview's line)
    return text


THING_THEN_DROP_IT = re.compile(
    r"^\s*(?:(?:oh|ok|okay|actually|hmm|wait|so)\s*,?\s+)*(?:the\s+|my\s+)?(?P<thing>[a-z][a-z -]{1,30}?)\s+"
    r"(?:is|are|was|were|wont|won'?t|will not|doesn'?t|does not|can'?t|cannot|isn'?t|aren'?t|would not|wouldn'?t)\b"
    r"[^,;.!]*[,;.!]+\s*"
    r"(?:so\s+)?(?:just\s+)?(?:please\s+)?(?P<verb>drop|remove|lose|scrap|cancel|ditch|bin|skip|take out|take off)\s+"
    r"(?:it|them|that)\b(?P<rest>.*)$",
    re.I,
)


def _thing_then_drop_it(text: str, ctx: StoryContext) -> str:
    """ "the band is for the 18th and wont make it anyway, drop it": the thing named first is what "it" is, when it is
    in the cart (with two lines, which to remove was asked, and the yes after it placed both)."""
    said = THING_THEN_DROP_IT.match(text)
    if said is None or not ctx.context.cart:
        return text
    thing = said.group("thing").strip()
    found = set(ctx.lexicon.find(normalize(thing)).product_ids)
    lines = [line for line in ctx.context.cart if line.product_id in found]
    if len(lines) != 1:
        return text
    return f"{said.group('verb')} the {thing}{said.group('rest')}"


NOT_X_JUST_Y = re.compile(
    r"^\s*(?:(?:oh|ok|okay|actually|wait|hmm)\s*,?\s+)*(?:no|not the|without the|no more|scrap the|forget the)\s+"
    r"(?P<x>[a-z][a-z -]{1,30}?)\s*[,;-]+\s*(?:just|only)\s+(?:the\s+)?(?P<y>[a-z][a-z -]{1,30}?)"
    r"(?:\s+(?:please|pls|then|thanks))*\s*[.!]*\s*$",
    re.I,
)


def _not_x_just_y(text: str, ctx: StoryContext) -> str:
    """ "no cap, just the sunglasses" with both in the cart: the cap taken out (it was read as a swap of "cap
    sunglasses", and which line to change was asked)."""
    said = NOT_X_JUST_Y.match(text)
    if said is None or len(ctx.context.cart) < 2:
        return text
    in_cart = {line.product_id for line in ctx.context.cart}
    dropped = set(ctx.lexicon.find(normalize(said.group("x"))).product_ids) & in_cart
    kept = set(ctx.lexicon.find(normalize(said.group("y"))).product_ids) & in_cart
    if len(dropped) != 1 or not kept or dropped & kept:
        return text
    return f"remove the {said.group('x').strip()}"


def _the_word_ones(text: str, ctx: StoryContext) -> str:
    """ "make the hiking ones 2 pairs", "2 of the running ones" with the Merino Hiking Socks and the Running Socks in
    the cart: the one line whose title has the word (the count went to the line added last)."""
    cart = ctx.context.cart
    if len(cart) < 2:
        return text

    def line_named(match: re.Match[str]) -> str:
        word = match.group("word").lower()
        if colour_of(word) or normalize_clothing(word) or word in COMMON_WORDS:
            return match.group(0)
        titled = [
            line for line in cart
            if line.product_id in ctx.lexicon.by_id and word in ctx.lexicon.by_id[line.product_id].title_words
        ]  # fmt: skip
        if len({line.product_id for line in titled}) != 1:
            return match.group(0)
        return f"the {ctx.lexicon.by_id[titled[0].product_id].title.lower()}"

    return rx.sub(r"\bthe\s+(?P<word>[a-z]+)\s+ones?\b", line_named, text, flags=re.I)


def _answer_accepted(text: str, ctx: StoryContext) -> str:
    """ "leather's good. tan in 44" after "what are the chelsea boots made of", "12 is fine, i'll take it" after the
    Kettlebell 12kg was answered about: the customer's nod to the answer is no item and no count (a search for
    "leather", a count of 12)."""
    shown = ctx.context.last_shown
    if len(shown) != 1 or ctx.context.cart:
        return text
    nod = rx.match(
        r"^\s*(?:(?:ok|okay|right|so)\s*,?\s+)?(?P<what>[a-z0-9]+)\s*(?:'\s*s|\s+is|\s+are|\s+sounds|\s+should be)\s+"
        r"(?:good|fine|ok|okay|great|perfect|plenty|enough|what i want|what i need)\s*[,.;!-]+\s*(?=\S)",
        text,
        re.I,
    )
    if nod is None:
        return text
    what = nod.group("what").lower()
    if colour_of(what) is not None or normalize_clothing(what):
        return text  # "purple's good, one please": the colour chosen
    if what.isdigit() and not rx.search(r"\b" + what + r"\s*(?:kg|g|mm|cm|l|lumens?)?\b", shown[0].label.lower()):
        return text  # "2 is fine" is a count, unless the thing's own name says the number
    return text[nod.end() :]


# -- the table --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StoryContext:
    """What the rules need of the reader: the dialogue and the lexicon, and the reader's own judgements."""

    context: DialogueContext
    lexicon: CatalogLexicon
    names_something: Callable[[str], bool]
    names_product: Callable[..., bool]  # (text, *, strict=False)
    only_story: Callable[..., bool]  # (part, *, sentence, trailing=False)
    plain_story: Callable[[str, str], bool]
    heading_only: Callable[[str, str], bool]
    shown_one_by_feature: Callable[[str], str]
    decided_after_thinking: Callable[[str], str]
    preferred_by_whom: Callable[[str], str]
    question_moved_last: Callable[[str], str]
    scratched: Callable[[str], str]


@dataclass(frozen=True, kw_only=True)
class StoryRule:
    """One substitution of the table: `pattern` (a string read through `rx`, or a compiled pattern) replaced by
    `replacement` in the whole text, only when `when` (if given) holds of the text the rules before left."""

    pattern: str | re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]
    flags: int = 0
    count: int = 0
    when: Callable[[str, StoryContext], object] | None = None

    def __call__(self, text: str, ctx: StoryContext) -> str:
        if self.when is not None and not self.when(text, ctx):
            return text
        if isinstance(self.pattern, str):
            return rx.sub(self.pattern, self.replacement, text, self.count, self.flags)
        return self.pattern.sub(self.replacement, text, self.count)


Step = Callable[[str, StoryContext], str]


# -- the rules that take more than one substitution -------------------------------------------------------------


def _shipping(text: str, ctx: StoryContext) -> str:
    shipping = SHIPPING_IF_UNDER.search(text)
    if shipping is not None:
        # "the kettlebell. express if it's under 10 bucks, otherwise normal shipping is fine": the shipping's
        # condition is read whole after the reading (`read`); its words are no part of what is ordered
        end = rx.search(r"[.!]|$", text[shipping.end() :])
        text = f"{text[: shipping.start()]} {text[shipping.end() + (end.start() if end else 0) :]}".strip()
    return text


# "got a black pullover hoodie for christmas but it's too small, need the XL", "santa brought me merino socks in
# S but they're way too tight, L please": a present that did not fit is the thing in the size now said, never
# the size it came in (both sizes were ordered; "too tight" was the running tights)
def _gift(text: str, ctx: StoryContext) -> str:
    gift = GIFT_DID_NOT_FIT.match(text)
    if gift is not None and gift.group("rest").strip(" .,!"):
        # the occasion and the size it came in, said after the thing in either order
        thing = rx.sub(
            r"(?:\s+(?:for\s+(?:christmas|xmas|my\s+birthday|my\s+bday)|in\s+(?:a\s+"
            r"|an\s+)?(?:size\s+)?[a-z0-9.]+))+"
            r"\s*$",
            "",
            gift.group("thing").strip(" ,.;-"),
            flags=re.I,
        )
        text = f"{thing}, {gift.group('rest').strip()}"
    return text


# "new years resolution is to actually use the home gym lol, one kettlebell pls": the resolution is the story,
# what follows it the order (a search for "resolution kettlebell")
def _resolution(text: str, ctx: StoryContext) -> str:
    resolution = rx.match(
        r"^\s*(?:(?:so|well|ok|right)\s*,?\s+)?(?:my\s+|our\s+"
        r"|the\s+)?new\s*year\s*'?\s*s?\s+resolutions?\b[^,.;!?]*[,.;!?-]+\s*",
        text,
        flags=re.I,
    )
    if resolution is not None and ctx.names_something(text[resolution.end() :]):
        text = text[resolution.end() :]
    return text


# "yellow so she's easy to spot, size M", "the black one as he spills everything": why, said between the values
# (a search for "spot"); a reason with a value or a thing in it stays ("as he wears a 44")
def _why(text: str, ctx: StoryContext) -> str:
    def why(match: re.Match[str]) -> str:
        said = normalize(match.group(0))
        if STORY_VALUE.search(said) or any(colour_of(word) for word in said.split()) or ctx.names_product(said):
            return match.group(0)
        return ""

    text = rx.sub(
        r"(?<=\w)\s+(?:so|because|cos|coz|cause|as|since)\s+(?:(?:she|he|they|we)(?:\s*'\s*(?:s|re|ll|d))?\s+[a-z]+"
        r"|it(?:\s*'\s*(?:s|ll|d)|\s+(?:is|will|can|could|would|won't|wont|doesn't|doesnt|does|has))"
        # "… so the cars can see me on night runs": what it is for
        r"|(?:that\s+)?(?:i|people|drivers|cars|the\s+[a-z]+|other\s+[a-z]+)\s+(?:can|could|will|would|do not|dont"
        r"|won't|wont|see|spot|notice))\b[^,.;!?]*",
        why,
        text,
        flags=re.I,
    )
    # "S then, he's got small hands", "just the one then, they can share", "uk, we're british": a short answer, then
    # why, said as a clause of its own (the answer was not understood with it); a clause with a thing or a value in
    # it stays ("…, he's a 42")
    answer_then_why = rx.fullmatch(
        r"(?P<head>[^,.;!?]{1,30}?)\s*[,;-]\s*(?P<why>(?:they|he|she|we|it)(?:\s*'\s*(?:s|re|ve|ll|d)|\s+(?:are|is"
        r"|have"
        r"|has|can|will|would|got|need|needs|want|wants|like|likes))\b[^,.;!?]*)[.!]*\s*",
        text,
        flags=re.I,
    )
    if answer_then_why is not None:
        # how someone is built says no size ("small hands", "big feet")
        said = rx.sub(
            r"\b(?:small|big|large|tiny|wide|narrow|long|short)\s+(?:hands|feet|head|arms|legs)\b",
            " ",
            normalize(answer_then_why.group("why")),
        )
        if not (
            STORY_VALUE.search(said)
            or any(colour_of(word) or normalize_clothing(word) or word.isdigit() for word in said.split())
            or ctx.names_product(said)
        ):
            text = answer_then_why.group("head")
    # "…, he's starting too", "…, my old ones have holes in", "…, my first class is tomorrow - blue one": who else
    # is starting, what the old ones are like, when it is needed, said beside the order (each was searched for, and
    # "blue one" went with the search)
    text = rx.sub(
        r"\s*[,;]\s*(?:(?:he|she|they)\s*'?\s*(?:s|is|are|re)\s+(?:starting|doing it|joining|joining in|coming)\b"
        r"|(?:my|our|his|her)\s+old\s+(?:ones?|pairs?|[a-z]+s)\s+(?:have|has|are|is|got|\s*'\s*ve)\b"
        r"|(?:my|our|his|her)\s+(?:first\s+)?[a-z]+\s+(?:is|s|starts)\s+(?:tomorrow|today|tonight|on\s+[a-z]+"
        r"|next\s+[a-z]+|this\s+[a-z]+)\b)[^,.;!?-]*",
        why,
        text,
        flags=re.I,
    )
    # "actually L, layering up for winter runs", "grey zip hoodie M, starting couch to 5k monday": why, said last
    # as what they are doing (it was not understood); a clause naming a thing or a value stays ("…, red socks M")
    text = rx.sub(
        r"(?<=\w)\s*[,;-]\s*(?:(?:i\s*'?\s*m|im|i\s+am|we\s*'?\s*re|just|finally)\s+)?"
        r"(?!(?:some|no|any|every)?thing\b|(?:morn|even|cloth|spr|str|br|s|k|w|r)ing\b|(?:check|ask|wait|think"
        r"|wonder"
        r"|decid|confirm|text|messag|call|hold)ing\b)[a-z]{3,}ing\b[^,.;!?]*[.!]?\s*$",
        why,
        text,
        flags=re.I,
    )
    return text


# "ordered the blue mat from you ages ago and my sister keeps nicking it, so a purple one for her", "bought the
# black cap last year, now i want a red one": the thing they have is what "a purple one" is, never a second
# line (the blue mat was ordered again beside the purple)
def _one_like_theirs(text: str, ctx: StoryContext) -> str:
    one_like_theirs = rx.match(
        r"^(?P<story>.*?\b(?:bought|ordered|got|own|owns|nick(?:s|ed|ing)|borrow(?:s|ed|ing)|stole|stolen|steals"
        r"|stealing|pinch(?:es|ed|ing)|loves?|wore|wearing)\b.*?)\s*[,;.!-]?\s*\b(?:so|and|now|but|then)?\s*,?\s*"
        r"(?:(?:i|we)\s*(?:'\s*d|would)?\s*(?:like|want|need)|get me|can i (?:get|have)|i\s*'\s*ll take|please)?\s*"
        r"(?:a|an|one)\s+(?:(?:new|second|different)\s+)?(?P<value>[a-z]+)\s+one\b(?P<rest>.*)$",
        text,
        re.I,
    )
    if (
        one_like_theirs is not None
        and colour_of(one_like_theirs.group("value").lower())
        # "the kids want 2 white caps, and i got … a blue one": a story with a request in it is no story
        and not rx.search(
            r"\b(?:want|wants|need|needs|would like|get me|i\s*'\s*ll have|i will have|please|pls|\d+)\b",
            one_like_theirs.group("story"),
            re.I,
        )
    ):
        resolution = ctx.lexicon.resolve(ctx.lexicon.words(normalize(one_like_theirs.group("story"))))
        if len(resolution.product_ids) == 1 and resolution.product_ids[0] in ctx.lexicon.by_id:
            title = ctx.lexicon.by_id[resolution.product_ids[0]].title
            text = f"a {one_like_theirs.group('value')} {title}{one_like_theirs.group('rest')}"
    return text


# "two pairs of court classics: my usual 44 and a 42 for my lad": the count is of the parts after the colon,
# each one of them (it ordered two 44s and a 42)
def _header(text: str, ctx: StoryContext) -> str:
    header = rx.match(
        r"^(?P<count>two|2|three|3|four|4)\s+(?:pairs?\s+of\s+|of\s+(?:the\s+)?)?(?P<what>[^:;,.-]+?)\s*(?::"
        r"|\s-\s)\s*"
        r"(?P<parts>.+)$",
        text,
        re.I,
    )
    if header is not None:
        count = {"two": 2, "three": 3, "four": 4}.get(header.group("count").lower()) or int(header.group("count"))
        parts = [p for p in rx.split(r"\s*(?:,|\band\b|&|\bplus\b)\s*", header.group("parts")) if p.strip()]
        if (
            len(parts) == count
            and "?" not in header.group("parts")
            and all(len(part.split()) <= 6 for part in parts)
            and not any(
                rx.search(
                    r"\b(?:\d+\s*x|x\s*\d+|two|three|four|pairs|wait|actually|sorry)\b|^\s*(?:\d+|one)\s",
                    part,
                    re.I,
                )
                for part in parts
            )
        ):
            text = f"{header.group('what')}: {header.group('parts')}"
    return text


# "race on saturday and my shoes just split - blue runners 43", "my old trainers have finally died, court
# classics 44": the kit that wore out is why (its "shoes" were searched for with the thing asked for)
def _worn(text: str, ctx: StoryContext) -> str:
    worn = rx.sub(
        r"\s*(?:\band\s+)?\b(?:my|our|his|her)\s+(?:old\s+|current\s+|only\s+)?[a-z]+(?:\s+[a-z]+)?\s+"
        r"(?:(?:have|has|are|is)\s+)?(?:(?:just|finally|completely|totally|properly|already)\s+)?(?:split|ripped"
        r"|torn|tore|broke|broken|died|dead|fell apart|falling apart|worn out|wore out|gave out|given out|gave up"
        r"|packed in|had it|done for|knackered|shot)\b(?:\s*\([^)]*\))?(?:\s+(?:on me|again|today|yesterday"
        r"|this morning|last week))?(?:\s+after\b[^,.;!?]*)?(?=\s*(?:[,.;!?-]|$|\band\b|\bso\b))",
        "",
        text,
        flags=re.I,
    )
    if worn != text and ctx.names_product(normalize(worn), strict=True):
        text = worn
    return text


# "between meetings so quick pls, foam roller", "on the bus, be quick - grey beanie": where the customer is and
# that they are in a hurry, said before the order (searched for with the roller)
def _busy(text: str, ctx: StoryContext) -> str:
    busy = rx.match(
        r"^\s*(?:(?:i\s*'?\s*m|im|i\s+am)\s+)?(?:in\s+between|between|in|on|at)\s+(?:a\s+|the\s+"
        r"|my\s+)?(?:meetings?"
        r"|calls?|classes|lectures|bus|train|tube|work|break|lunch break|school run)\b(?:\s+(?:so|and)\s+(?:be\s+)?"
        r"(?:quick|fast|brief|in a hurry|quick please|quick pls))?(?:\s+(?:please|pls|plz|thanks))?\s*[,.;!-]+\s*"
        r"(?:(?:so\s+)?(?:be\s+)?(?:quick|fast)(?:\s+(?:please|pls|plz))?\s*[,.;!-]+\s*)?",
        text,
        flags=re.I,
    )
    if busy is not None and ctx.names_product(normalize(text[busy.end() :]), strict=True):
        text = text[busy.end() :]
    return text


# "Grey beanie. Tell him I'll be there in five.": dictation that caught a message for someone else (its "five"
# was the count); a sentence told to someone, or when the customer will be somewhere, is no part of the order
def _told(text: str, ctx: StoryContext) -> str:
    told = rx.sub(
        r"(?:(?<=[.!?])|^)\s*(?i:and\s+|oh\s+|also\s+)?(?i:tell|text|message|ping|call|ring)\s+(?:(?i:him|her|them"
        r"|mum"
        r"|mom|dad)|[A-Z][a-z]+)\b[^.!?]*[.!?]*|(?i:\s*[,;-]?\s*\b(?:i\s*'?\s*ll|i\s+will|we\s*'?\s*ll|we\s+will"
        r"|i\s*'?\s*m"
        r"|i\s+am)\s+(?:be\s+)?(?:there|back|home|down|round|over|ready|out|leaving"
        r"|coming)\s+in\s+(?:a\s+)?(?:five|ten"
        r"|fifteen|twenty|\d{1,2}|few|sec|min|minute|bit|jiffy)(?:\s+(?:mins?|minutes?|secs?|hours?))?\b[.!]*"
        r"|\s*[,;.-]?\s*\bsee\s+(?:you|u|ya)\s+(?:at|in|by)\s+\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm)?(?:\s*x+)?\b[.!]*)",
        " ",
        text,
    )
    if told != text and ctx.names_product(normalize(told), strict=True):
        text = told.strip()
    return text


# "ok just the bottle then, the racers can wait till i've actually stuck at it": a line of the cart that "can
# wait" is left out; beside "just the bottle" it says nothing more (its "racers" made it a search for both)
def _wait(text: str, ctx: StoryContext) -> str:
    wait = rx.search(
        r"\s*(?:[,;-]\s*|\band\s+)(?:the|my|those|these)\s+(?P<thing>[a-z][a-z ]{1,30}?)\s+(?:can|could"
        r"|will have to|ll have to|will|can just)\s+wait\b[^,.;!?]*[.!]?",
        text,
        flags=re.I,
    )
    if wait is not None and set(ctx.lexicon.resolve(ctx.lexicon.words(normalize(wait.group("thing")))).product_ids) & {
        line.product_id for line in ctx.context.cart
    }:
        kept = text[: wait.start()]
        said = "" if rx.search(r"\b(?:just|only)\b", kept, re.I) else f", remove the {wait.group('thing')}"
        text = f"{kept}{said}{text[wait.end() :]}"
    return text


# "is this the cushioned one" at a preview: a question about the thing in the cart ("which one do you mean:
# Cloud Jogger or Running Socks?" was asked back, as if no shoe was in the cart)
def _question_about_the_cart_thing(text: str, ctx: StoryContext) -> str:
    in_cart = {line.product_id for line in ctx.context.cart}
    if len(in_cart) == 1 and next(iter(in_cart)) in ctx.lexicon.by_id:
        title = ctx.lexicon.by_id[next(iter(in_cart))].title
        text = rx.sub(
            r"^\s*(?:(?:so|wait|hang on|and|oh)\s*,?\s+)?(?:is|are)\s+(?:this|that|these|those|they|it)\s+the\s+"
            r"(?P<what>[a-z]+(?:\s+[a-z]+)?)\s+ones?\s*\?*\s*$",
            lambda m: f"is the {title} {m.group('what')}?",
            text,
            flags=re.I,
        )
    return text


# "black trail blazers a pair of elevens", "court classics in a ten": a shoe size said as a word, the way US and
# UK sizes are said (no size was read, and "in an eleven" was eleven pairs); read as "size 11", which asks
# which system when the shop's sizes are another
def _said_size(text: str, ctx: StoryContext) -> str:
    said_size = rx.search(
        r"\b(?:(?:a\s+)?pair\s+of\s+(?P<plural>fives|sixes|sevens|eights|nines|tens|elevens|twelves|thirteens)"
        r"|in\s+an?\s+(?P<one>five|six|seven|eight|nine|ten|eleven|twelve|thirteen)(?:\s+and\s+a\s+half)?)\b",
        text,
        flags=re.I,
    )
    if said_size is not None:
        named = ctx.lexicon.resolve(ctx.lexicon.words(normalize(text[: said_size.start()]))).product_ids
        if named and all(pid in ctx.lexicon.by_id and ctx.lexicon.by_id[pid].size_kind == "shoe" for pid in named):
            word = (said_size.group("plural") or "").lower()
            word = {"sixes": "six"}.get(word, word[:-1]) if word else said_size.group("one").lower()
            half = " and a half" if "half" in said_size.group(0).lower() else ""
            text = f"{text[: said_size.start()]}size {word}{half}{text[said_size.end() :]}"
    return text


# A saved or bought thing, then who else wants it and in what: "the hoodie i liked, but sam wants it in M" (the
# liked one in M; the colour was asked), "the socks i got last time, my husband wants some too in L" (those in
# L; her M was ordered), "the shoes i liked, a pair for me and one in 40 for my daughter" (hers, and the same in
# 40: only the 40 was ordered)
def _saved_thing(text: str, ctx: StoryContext) -> str:
    saved_thing = (
        r"^(?P<thing>\s*(?:the|that|those|my)\s+[a-z ]{2,30}?\s+(?:i|we)\s+(?:liked|saved|hearted|favourited"
        r"|favorited|got|bought|ordered|had)(?:\s+(?:last time|before|last month|last week|the other day"
        r"|earlier))?)"
    )
    text = rx.sub(
        saved_thing + r"\s*[,;-]?\s*(?:but\s+)?(?:(?:my|our|the)\s+[a-z]+|[a-z]+)\s+wants?\s+(?:it|them|one|some"
        r"|a pair|a pack)(?:\s+(?:too|as well))?\s+in\s+(?:an?\s+|size\s+)?(?P<value>xs|s|m|l|xl|xxl|\d{2}|[a-z]+)"
        r"(?:\s+(?:too|as well|please|pls))?\s*[.!]?\s*$",
        r"\g<thing> in \g<value>",
        text,
        flags=re.I,
    )
    text = rx.sub(
        saved_thing + r"\s*[,;-]?\s*(?:a pair|one|a pack)\s+for\s+me\s*,?\s+and\s+(?:one|a pair|another)\s+in\s+"
        r"(?:an?\s+|size\s+)?(?P<value>xs|s|m|l|xl|xxl|\d{2})\s+for\s+(?P<who>(?:my|our|his|her)\s+[a-z]+|[a-z]+)"
        r"\s*[.!]?\s*$",
        r"\g<thing> for me, and the same in \g<value> for \g<who>",
        text,
        flags=re.I,
    )
    return text


# Someone else of the household at the keyboard, saying who they are and who said they may ("hi its sam, dad
# said i can get the orange tech tee in S", "lily's changed her mind, just the one"): no part of the order (a
# search for "sam" beside the tee)
def _intro(text: str, ctx: StoryContext) -> str:
    intro = rx.match(
        r"^\s*(?:(?:hi|hey|hello|hiya|yo)\s*,?\s+)?(?:it\s*'?\s*s|its|this is|i\s*'?\s*m"
        r"|im)\s+(?P<who>[a-z]+(?:\s*'\s*s\s+"
        r"(?:wife|husband|son|daughter|kid|boy|girl|partner|mum|mom|dad))?)\s*[,.;!-]+\s*",
        text,
        flags=re.I,
    )
    if intro is not None and not rx.fullmatch(
        r"(?:a|an|the|my|not|too|just|so|very|really|only|fine|ok|okay|good|great|done|ready|back|here|still|sorry"
        r"|looking|after|in|on|at|for|raining|late|cold|hot|me)",
        intro.group("who").lower(),
    ):
        text = text[intro.end() :]
    return text


# "can i get the blue running cap, mum's in the shower", "grandma's coming for sunday lunch and wants to try
# yoga, purple yoga mat please": where someone of the household is, or who is coming, is why (searched for)
def _where_someone_is(text: str, ctx: StoryContext) -> str:
    person = r"(?:mum|mom|dad|grandma|grandpa|nan|gran|my\s+[a-z]+|the\s+(?:kids|boys|girls|wife|husband)|he|she|they)"
    text = rx.sub(
        r"\s*[,;-]\s*" + person + r"\s*(?:'\s*s|\s+is|\s+are|'\s*re)\s+(?:in the|at|out|asleep|busy|away|upstairs"
        r"|downstairs|in bed|on the phone|at work|not here|still)\b[^,.;!?]*[.!]?\s*$",
        "",
        text,
        flags=re.I,
    )
    visiting = rx.match(
        r"^\s*"
        + person
        + r"\s*(?:'\s*s|\s+is|\s+are|'\s*re)\s+(?:coming|visiting|staying|coming over|over)\b[^,;-]*[,;-]\s*",
        text,
        flags=re.I,
    )
    if visiting is not None and ctx.names_product(normalize(text[visiting.end() :]), strict=True):
        text = text[visiting.end() :]
    return text


# "3 white running caps, one for each of us", "2 soft flasks, one each for the kids' lunchboxes": how a count
# already said is shared out (not understood, or a search for "lunchboxes")
def _shared(text: str, ctx: StoryContext) -> str:
    shared = rx.search(
        r"\s*[,;-]\s*(?:one|1|a pair|a pack)\s+(?:each\s+)?for\s+(?:(?:each|every|all)\s+(?:one\s+)?(?:of\s+)?)?"
        r"(?:us|them|you|(?:the|my|our)\s+[a-z']+(?:\s+[a-z']+)?)\s*[.!]?\s*$",
        text,
        flags=re.I,
    )
    if shared is not None and rx.search(
        r"^\s*(?:[a-z]+\s+){0,3}?(?:[2-9]|two|three|four|five|six)\b", text[: shared.start()], flags=re.I
    ):
        text = text[: shared.start()]
    return text


# "two white running caps, for sam and lily": who they are for, by name, is no part of the order (a search for
# "sam lily")
def _for_names(text: str, ctx: StoryContext) -> str:
    names = rx.search(r"\s*,?\s*\bfor\s+(?P<a>[a-z]+)\s*(?:and|&)\s*(?P<b>[a-z]+)\s*[.!]?\s*$", text, flags=re.I)
    if names is not None and not any(
        colour_of(name.lower())
        or normalize_clothing(name.lower())
        or name.lower() in COMMON_WORDS
        or rx.fullmatch(RELATION, name.lower())
        or ctx.lexicon.resolve(ctx.lexicon.words(name)).product_ids
        for name in (names.group("a"), names.group("b"))
    ):
        text = text[: names.start()]
    return text


# "express this time please, my last order took ages - grey zip hoodie M": how an earlier order went is why
# (it asked for the last order's status)
def _earlier(text: str, ctx: StoryContext) -> str:
    earlier = rx.sub(
        r"\s*[,;.-]?\s*\b(?:my|the|our)\s+(?:last|previous|old|other|first)\s+(?:order|one|delivery|parcel|package"
        r"|pair)\s+(?:took|was|came|arrived|got|never)\b(?:(?!\s-\s)[^,.;!?])*(?:\s+-(?=\s))?"
        # "foam roller please, the one i got at the gym is rubbish"
        r"|\s*[,;.-]?\s*\b(?:the|my)\s+(?:old\s+)?(?:one|ones|pair)\s+(?:i|we)\s+(?:got|bought|have"
        r"|had)\b[^,.;!?]*?"
        r"\b(?:is|was|are|were)\s+(?:rubbish|useless|broken|crap|falling apart|knackered|worn out|shot|dead"
        r"|no good)\b[^,.;!?]*",
        " ,",
        text,
        flags=re.I,
    )
    if (
        earlier != text
        and ctx.names_product(normalize(earlier))
        and not rx.search(r"\b(?:refund|money back|return|exchange|replacement|replace)\b", text, flags=re.I)
    ):
        # (never a complaint: "the shoes from my last order arrived damaged … i want a refund" is a person's job, and
        # dropping it left "the shoes" to be searched)
        text = earlier
    return text


# "got a colleague for secret santa who's always moaning about sore legs, foam roller please", "forgot my dad's
# present - touchscreen gloves L": who the present is for, said first, is why (the thing was only shown)
def _for_whom(text: str, ctx: StoryContext) -> str:
    for_whom = rx.sub(
        r"^\s*(?:i\s*'\s*ve\s+|i\s+)?(?:got|have|drew|pulled)\s+(?:a|my|our|the)\s+[a-z]+\s+for\s+"
        r"(?:secret santa|the secret santa|kris kringle)\b[^,.;!?-]*\s*[,;.!-]\s*"
        r"|\b(?:i\s+)?(?:forgot|almost forgot|nearly forgot)\s+(?:my|our|the)\s+[a-z']+\s+"
        r"(?:present|gift|pressie)\b\s*[,;.!-]?",
        " ",
        text,
        flags=re.I,
    )
    if for_whom != text and ctx.names_product(normalize(for_whom)):
        text = for_whom
    return text


# "does SAVE10 work on the blue wind shell M?", "still got SUMMER5 from last year, does it work on a blue wind
# shell M?": whether a code works on a thing the shop alone decides, on a cart: the thing with the code (only
# the thing was answered about; "oh well, without it then" then had nothing to order). A kind of thing ("does
# it work on hoodies?") stays a question.
def _code_on(text: str, ctx: StoryContext) -> str:
    code_on = rx.search(
        r"(?:(?:\b(?:i\s+)?(?:still\s+)?(?:got|have)\s+)?(?P<code>\b(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{4,20})\b"
        r"(?:\s+(?:from|since)\s+(?:last|this)\s+(?:year|summer|winter|spring|autumn|month|time|christmas|xmas))?"
        r"\s*[,;.-]?\s*(?:does|will|would|can)\s+it"
        r"|\b(?:does|will|would|can)\s+(?:the\s+)?(?P<code2>(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{4,20})(?:\s+code)?)"
        r"\s+(?:still\s+)?(?:work|apply|be used|count)\s+(?:on|for|with)\s+(?P<thing>(?:a|an|the|this|that|these"
        r"|those|\d+|one|two|three|four)\b[^?.;]+)\?",
        text,
        flags=re.I,
    )
    if code_on is not None and ctx.names_product(normalize(code_on.group("thing")), strict=True):
        code, thing = code_on.group("code") or code_on.group("code2"), code_on.group("thing").strip(" ,")
        text = f"{text[: code_on.start()]}code {code}, {thing}{text[code_on.end() :]}"
    return text


# "my son's gone up to a US 7 now, white tempo racer for him": the size said of the person first is the size
# of what follows (the rest was searched for)
def _person_size(text: str, ctx: StoryContext) -> str:
    person_size = rx.match(
        r"^\s*(?:(?:my\s+)?(?:mum|mom|dad|husband|wife|son|daughter|brother|sister|boyfriend|girlfriend|partner"
        r"|grandad|grandpa|grandma|nan|nephew|niece|uncle|aunt|friend|mate|boss|colleague|kid|lad|boy|girl|[a-z]+)"
        r"|he|she|i|we|they)\s*(?:'\s*s|'\s*m|'\s*re|\s+is|\s+am|\s+are|\s+has|\s+have)\s*"
        r"(?:gone up to|grown into|moved up to|gone down to|now|in|wears?|takes?)?\s*(?:a\s+|an\s+)?(?:size\s+)?"
        r"(?P<size>(?:us|uk|eu)\s*\d{1,2}(?:\.5)?|small|medium|large|extra large|x-?large|xl|xxl|s|m|l)\s*"
        r"(?:now)?\s*[,;.-]\s*(?P<rest>.+)$",
        text,
        re.I,
    )
    if person_size is not None and ctx.names_product(normalize(person_size.group("rest"))):
        text = f"{person_size.group('rest')} in {person_size.group('size')}"
    return text


# "court classics UK 10, same as i always get", "send it express like last time": a remark that this is what
# they always do, beside the thing or the choice it is about, is no reorder of their last purchase (each added
# the last purchase: two pairs of the court classics, running socks beside the racer)
def _usual(text: str, ctx: StoryContext) -> str:
    usual = re.compile(
        r"\s*[,;-]?\s*\b(?:(?:the\s+)?same\s+as\s+(?:i|we)\s+(?:always|usually|normally|generally)\s+(?:get|got"
        r"|have"
        r"|buy|order|wear)|(?:the\s+)?same\s+as\s+(?:always|ever|usual)|(?:just\s+)?like\s+(?:always|usual|ever"
        r"|last time|before|normal|i always do)|\bas\s+(?:always|usual|per usual|ever)|as\s+i\s+(?:always|usually)"
        r"\s+do)\b",
        re.I,
    )
    if usual.search(text):
        rest = usual.sub(" ", text)
        if ctx.names_product(normalize(rest)) or rx.search(
            r"\b(?:express|standard|next day|overnight|visa|mastercard|amex|card|address|ship|send|deliver)",
            rest,
            re.I,
        ):
            text = rest
    return text


# "starting at the gym", "going to the gym tomorrow", "first hot yoga session thursday": the gym or yoga as a
# place or an activity, never the Gym Duffel or the Yoga Mat (each was added beside what was asked for)
def _gym_or_yoga_as_a_place(text: str, ctx: StoryContext) -> str:
    text = (
        text
        if rx.search(r"\b(?:bag|duffel|duffle|holdall)s?\b", text, re.I)
        else rx.sub(
            r"\b(?:(?:just\s+)?(?:starting|started|going|heading|off|back)\s+)?(?:at|to|in|from|after|before|hit"
            r"|hitting"
            r"|join(?:ed|ing)?)\s+(?:the\s+)?gym\b"
            r"(?!\s*(?:bag|duffel|duffle|holdall|kit\s*bag|sack))"
            r"|\bgym\s+(?:sessions?|class(?:es)?|membership|routine|buddy|time|tomorrow|today|tonight"
            r"|every\s+\w+)\b"
            # "… to actually use the home gym": a room of the house
            r"|\b(?:(?:use|using|used|set up|setting up|build|building|kit out|my|our|the)\s+)?"
            r"(?:the\s+|my\s+|our\s+)?(?:home|garage|spare room|basement)\s+gym\b"
            r"(?!\s*(?:bag|duffel|duffle|holdall))"
            r"|\b(?:(?:hot|first|beginners?|morning|evening)\s+)?yoga\s+(?:class(?:es)?|sessions?|teacher|studio"
            r"|retreat"
            r"|course|lessons?)\b"
            r"|\b(?:hot|doing|do|at|started|starting|took up|taking up)\s+yoga\b(?!\s*mats?\b)",
            " ",
            text,
            flags=re.I,
        )
    )
    return text


# "Could you help me find something for my brother-in-law? …": asking for help, before what is asked (its
# question mark made the request a question)
def _helped(text: str, ctx: StoryContext) -> str:
    helped = rx.match(
        r"^\s*(?:(?:hi|hey|hello|good (?:morning|afternoon|evening))\s*(?:there)?[!,. ]*)?(?:could|can|would) you"
        r"(?:\s+please)?\s+help me(?:\s+(?:to\s+)?(?:find|choose|pick|get|buy|out"
        r"|with))?[^?.!]*[?.!]+\s+(?P<rest>\S.*)$",
        text,
        flags=re.I,
    )
    if helped is not None and ctx.names_something(helped.group("rest")):
        text = helped.group("rest")
    return text


def _the_word_one(text: str, ctx: StoryContext) -> str:
    text = rx.sub(
        r"^\s*(?P<word>[a-z]+)\s+one\b",
        lambda m: f"the {m.group('word')} one" if m.group("word").lower() in ctx.lexicon.vocabulary else m.group(0),
        text,
        flags=re.I,
    )
    return text


# "grey cloud jogger 41 - hang on, she's a 42 in everything except sandals, so 42": the size settled on last
def _settled(text: str, ctx: StoryContext) -> str:
    settled = rx.match(
        r"^(?P<before>.+?\b(?:3[5-9]|4\d)\b.*?)\s*[-,.;]\s*(?:hang on|wait|actually|hmm|oh|on second thought)\b.*?"
        r"\bso\s+(?:a\s+|size\s+)?(?P<value>3[5-9]|4\d)\s*[.!]*\s*$",
        text,
        flags=re.I,
    )
    if settled is not None:
        before = settled.group("before")
        last = list(rx.finditer(r"\b(?:3[5-9]|4\d)\b", before))[-1]
        text = f"{before[: last.start()]}{settled.group('value')}{before[last.end() :]}"
    return text


# "ok, just for the gym then. black" after the earbuds were answered about: what the one on the table is for,
# never another thing ("gym" named the Gym Duffel, and it was ordered)
def _answered_purpose(text: str, ctx: StoryContext) -> str:
    if len(ctx.context.last_shown) == 1 and not ctx.context.cart:
        rest = ANSWERED_PURPOSE.sub(" ", text)
        if rest != text and not ctx.names_product(normalize(rest), strict=True):
            text = rest
    return text


# "oh dear, I've changed my mind, I don't want it after all" at a preview: a no (it looked for what to remove)
def _changed_mind_at_the_preview(text: str, ctx: StoryContext) -> str:
    if ctx.context.awaiting_confirmation and rx.fullmatch(
        r"\s*(?:(?:oh|oh dear|hmm|sorry|actually|um|erm)\s*[,.!]*\s*)*(?:(?:i'?ve"
        r"|i have)\s+)?(?:changed my mind\s*[,.!;-]*"
        r"\s*)?i\s+(?:don'?t|do not)\s+want\s+(?:it|them|this|that|the order|any of it)\s+(?:after all|anymore"
        r"|any more"
        r"|now)\s*[.!]*\s*",
        text,
        flags=re.I,
    ):
        text = "no"
    return text


# "i need 12 pairs of white running socks M. they come in packs of 3 so 4 packs": the packs worked out last
# are the count (12 packs were read once the size was)
def _packs(text: str, ctx: StoryContext) -> str:
    packs = rx.search(
        r"\s*[.,;]?\s*(?:they|it|which|these|those)\s+comes?\s+in\s+(?:packs?|sets?)\s+of\s+\d+\s*,?\s*so\s+"
        r"(?:that'?s\s+|that\s+is\s+|i\s+need\s+)?(?P<n>\d{1,2})\s+(?:packs?|sets?)\s*[.!]*\s*$",
        text,
        flags=re.I,
    )
    if packs is not None and rx.search(r"\b\d{1,3}\s+pairs?\b", text[: packs.start()], flags=re.I):
        head = rx.sub(r"\b\d{1,3}\s+pairs?\b", f"{packs.group('n')} packs", text[: packs.start()], count=1, flags=re.I)
        text = head
    return text


# "something under $40 for a coworker who cycles to work?", "gift ideas under $40", "what can I get for under
# $40": a look at what the shop has within that price, for whoever it is (not understood, or "to work" chose
# the work address)
def _budget(text: str, ctx: StoryContext) -> str:
    budget = rx.match(
        r"^\s*(?:(?:hi|hey|hello|so|ok|okay)\s*[,!.]*\s+)?(?:(?:any|some|got any)\s+)?(?:something|anything"
        r"|(?:a\s+)?gift"
        r"(?:\s+ideas?)?|ideas?|(?:a\s+)?present(?:\s+ideas?)?|suggestions?|what can (?:i|we) (?:get|buy)"
        r"(?:\s+for)?)\s+(?P<price>(?:under|below|less than|for less than|for under|up to|no more than"
        r"|at most)\s*\$?"
        r"\s*\d+(?:\.\d\d)?\s*(?:dollars?|bucks|usd|\$)?)(?:\s+for\s+(?:a|an|my|our"
        r"|the)\s+[a-z-]+(?:\s+who\s+[^,.?!]*)?)?"
        r"\s*[?.!]*\s*$",
        text,
        flags=re.I,
    )
    if budget is not None:
        text = f"show me something {budget.group('price')}"
    return text


# "a grey beanie for my mum and a beanie for my dad": a thing for each person, even when the second says less
# of it (dad's beanie was taken for the first said again, and one beanie ordered)
def _a_thing_for_each_person(text: str, ctx: StoryContext) -> str:
    if len(rx.findall(r"\bfor\s+(?:my\s+|our\s+|the\s+|his\s+|her\s+)?[a-z]+", text, flags=re.I)) >= 2:

        def one_more(match: re.Match[str]) -> str:
            said_before = set(ctx.lexicon.find(normalize(text[: match.start()])).product_ids)
            this = set(ctx.lexicon.find(normalize(match.group("thing"))).product_ids)
            return f"{match.group(1)}1 " if this and this <= said_before else match.group(0)

        text = rx.sub(
            r"((?:,|\band\b)\s+)(?:a|an|another|one more)\s+(?=(?P<thing>[a-z][a-z -]{1,30}?)\s+for\s+"
            r"(?:(?:my|our|the|his|her)\s+)?[a-z]+)",
            one_more,
            text,
            flags=re.I,
        )
    return text


# "3 yoga mats for the wellness room - 2 purple 1 blue - send to the office": the count said first is the whole
# of the counts after it (3 purple and 1 blue were ordered), as after a colon
def _split(text: str, ctx: StoryContext) -> str:
    split = rx.match(
        r"^\s*(?P<n>\d{1,2})\s+(?P<thing>[^-:,]+?)\s*[-\u2013]\s*(?P<list>\d{1,2}\s+[a-z]+(?:\s*,?\s*(?:and\s+)?\d"
        r"{1,2}"
        r"\s+[a-z]+)+)(?P<rest>\s*(?:[-,.;].*)?)$",
        text,
        flags=re.I,
    )
    if split is not None and sum(int(n) for n in rx.findall(r"\d+", split.group("list"))) == int(split.group("n")):
        text = f"{split.group('n')} {split.group('thing')}, {split.group('list')}{split.group('rest')}"
    return text


# "3 blue tech tees M for the team - no wait, 2 M and 1 L": the same three, told apart (five M were ordered)
def _regrouped(text: str, ctx: StoryContext) -> str:
    regrouped = rx.match(
        r"^\s*(?P<n>\d{1,2})\s+(?P<thing>.+?)\s*[-,.;]*\s*(?:no\s+wait|wait|sorry|actually|no|i mean|make (?:that"
        r"|it))"
        r"\s*[,.!-]*\s*(?P<list>\d{1,2}\s+[a-z0-9]+(?:\s*(?:,|and|,\s*and)?\s*\d{1,2}\s+[a-z0-9]+)+)\s*[.!]*$",
        text,
        flags=re.I,
    )
    if regrouped is not None:
        counts = [int(n) for n in rx.findall(r"(?:^|[\s,])(\d{1,2})\s+[a-z0-9]", regrouped.group("list"), flags=re.I)]
        values = rx.findall(r"\d{1,2}\s+([a-z0-9]+)", regrouped.group("list"), flags=re.I)
        if len(counts) > 1 and sum(counts) == int(regrouped.group("n")):
            thing = regrouped.group("thing")
            if all(normalize_clothing(value) or value.isdigit() for value in values):
                thing = rx.sub(r"\b(?:size\s+)?(?:xs|s|m|l|xl|xxl|3[5-9]|4\d)\b", " ", thing, flags=re.I)
            elif all(colour_of(value.lower()) for value in values):
                thing = " ".join(word for word in thing.split() if not colour_of(word.lower()))
            thing = " ".join(thing.split())
            text = f"{regrouped.group('n')} {thing}, {regrouped.group('list')}"
    return text


# "3 yoga mats for the wellness room: 2 purple 1 blue": what the whole is for is no part of the breakdown
# and "2 blue runners: one in 42 and one in 43" is one of each after a colon too (two 42s and a 43 were ordered)
def _whole(text: str, ctx: StoryContext) -> str:
    whole = rx.match(
        r"^\s*(?P<n>\d{1,2})\s+(?P<thing>[^:]+?)(?:\s+for\s+[^:]{2,40})?:\s*(?P<list>.+)$", text, flags=re.I
    )
    if whole is not None:
        numbers = {"one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
        counts = [
            int(n) if n.isdigit() else numbers[n.lower()]
            for n in rx.findall(
                r"(?:^|[\s,])(\d{1,2}|one|two|three|four|five|six|an?)\s+(?:in\s+)?[a-z0-9]",
                whole.group("list"),
                re.I,
            )
        ]
        if len(counts) > 1 and sum(counts) == int(whole.group("n")):
            text = f"{whole.group('n')} {whole.group('thing')}, {whole.group('list')}"
    return text


# "black trail blazers, same size as the court classics i got last time": the size of a past purchase, which the
# reader cannot see, so the size is asked; never the past purchase ordered again beside the new thing
def _past(text: str, ctx: StoryContext) -> str:
    past = SIZE_OF_PAST.search(text)
    if past is not None and ctx.names_something(text[: past.start()]):
        text = f"{text[: past.start()]} {text[past.end() :]}".strip()
    if not ctx.context.awaiting_confirmation:
        # "will a laptop fit in the day pack" … "ok ill risk it, black one": taking it (a search for "ill risk")
        text = rx.sub(
            r"\b(?:i will|i'll|ill|i ll|let me|let's|lets)\s+(?:risk it|chance it|give it a (?:go|try|shot))\b",
            "i will take it",
            text,
            flags=re.I,
        )
    return text


# "ugh fine the blue runners in 44 then" at the preview of another pair of running shoes (one its limit
# stopped): settling for that one instead (it was added beside the pair it replaces)
def _settled_for(text: str, ctx: StoryContext) -> str:
    settled_for = rx.match(
        r"^\s*(?:(?:ugh|urgh|oh|ok|okay|fine|alright|all right|right|meh|sigh|oh well|i guess|guess|whatever)"
        r"\s*[,.!]*\s*)+(?:just\s+)?(?P<what>(?:the\s+)?[a-z][a-z0-9 ]+?)\s+then\s*[.!]*\s*$",
        text,
        flags=re.I,
    )
    if (
        settled_for is not None
        and len(ctx.context.cart) == 1
        and not rx.search(r"\b(?:and|also|too|as well|another|more|plus|both)\b", settled_for.group("what"), re.I)
    ):
        named = ctx.lexicon.find(normalize(settled_for.group("what"))).product_ids
        line = ctx.context.cart[0]
        if (
            len(named) == 1
            and named[0] != line.product_id
            and line.product_id in ctx.lexicon.by_id
            and ctx.lexicon.by_id[named[0]].category == ctx.lexicon.by_id[line.product_id].category
        ):
            text = f"{settled_for.group('what')} instead"
    return text


# "…, will they come by saturday?", "…, will it get here in time?": when it arrives, asked after the order (the
# order was made a question)
def _arrives(text: str, ctx: StoryContext) -> str:
    arrives = rx.search(
        r"\s*[,;-]?\s*(?:and\s+)?(?:will|would|can|could|do you think)\s+(?:it|they|that|these|those|the \w+)\s+"
        r"(?:come|arrive|get here|be here|make it|reach (?:me|us)|turn up|be delivered)\b[^?]*\?\s*$",
        text,
        flags=re.I,
    )
    if (
        arrives is not None
        and ctx.names_something(text[: arrives.start()])
        # "could it come by the quickest delivery you offer?": the speed asked for, kept (it went standard)
        and not rx.search(
            r"\b(?:quick\w*|fast\w*|express|asap|urgent\w*|overnight|next day|speed\w*)\b", arrives.group(0), re.I
        )
    ):
        text = text[: arrives.start()]
    return text


# "and the navy in 40 for me" after "black canvas 43 for him": one more of the same thing, in what is said (the
# line's size was changed to 40, and the navy lost)
def _another(text: str, ctx: StoryContext) -> str:
    another = rx.match(
        r"^\s*(?:and|plus|also|oh and)\s+(?:the\s+)?(?P<values>[a-z0-9 ]+?)"
        r"(?P<whom>\s+for\s+(?:me|myself|him|her|them|us|my\s+[a-z]+|the\s+[a-z]+))?\s*(?:please|pls"
        r"|too)?\s*[.!]*\s*$",
        text,
        flags=re.I,
    )
    if another is not None and ctx.context.cart:
        values = another.group("values").split()
        said_value = any(colour_of(word.lower()) or rx.fullmatch(r"\d{1,2}(?:\.5)?|xs|s|m|l|xl|xxl", word, re.I)
                         for word in values)  # fmt: skip
        if said_value and all(
            colour_of(word.lower())
            or rx.fullmatch(r"in|size|sz|one|ones|pair|\d{1,2}(?:\.5)?|xs|s|m|l|xl|xxl", word, re.I)
            for word in values
        ):
            colours = " ".join(word for word in values if colour_of(word.lower()))
            sizes = " ".join(
                word
                for word in values
                if not colour_of(word.lower()) and word.lower() not in ("one", "ones", "pair", "in", "size", "sz")
            )
            if colours:
                text = f"and a {colours} one{' in ' + sizes if sizes else ''}{another.group('whom') or ''}"
            elif sizes and another.group("whom"):
                # "and the 40 for me": one more for that person (the line's size was changed)
                text = f"and one in {sizes}{another.group('whom')}"
    return text


# "the water bottle i liked, my daughter wants one too so two": the count worked out last, after why (one
# bottle was ordered)
def _so_many(text: str, ctx: StoryContext) -> str:
    so_many = rx.match(
        r"^(?P<head>[^,;]+?)\s*[,;]\s*(?P<why>[^,;]*?)\s*,?\s+so\s+(?:that\s*'?\s*s\s+|thats\s+|make it\s+"
        r"|i need\s+|we need\s+)?(?P<n>two|three|four|five|six|2|3|4|5|6)(?:\s+(?:of them|then|please|pls|in total"
        r"|total|altogether))?\s*[.!]*\s*$",
        text,
        flags=re.I,
    )
    if (
        so_many is not None
        and ctx.names_something(so_many.group("head"))
        and not STORY_VALUE.search(normalize(so_many.group("head")))
        and not rx.search(r"\b(?:one|a|an|two|three|\d+)\s+(?:more|extra)\b", so_many.group("why"), flags=re.I)
    ):
        text = f"{so_many.group('head')}, {so_many.group('n')} of them"
    return text


# "black day pack, ship to: 500 Howard Street, San Francisco": a street address, never words of the thing (said
# back as no saved address: `read`)
def _street_left(text: str, ctx: StoryContext) -> str:
    street_left = SHIP_TO_STREET.sub(" ", text)
    if street_left != text and ctx.names_something(street_left):
        text = street_left
    return text


# "black sport earbuds pls, for the bus to school": when they are for, said after the order (a search for "bus")
def _commute(text: str, ctx: StoryContext) -> str:
    commute = rx.search(
        r"\s*[,;-]\s*(?:just\s+|mainly\s+|mostly\s+)?for\s+(?:the\s+|my\s+|our\s+|a\s+)?(?:(?:cold|long|early|late"
        r"|dark"
        r"|wet|daily|morning|evening|winter|night|summer|trail)\s+)?(?:bus|train|tube|subway|metro|commute"
        r"|school run|walk|drive|ride|flight|plane|journey|trip|runs|run|training|races|race|half|marathon|10k"
        r"|5k)\b"
        r"(?:\s+(?:to|into|home|from|at)\s+(?:the\s+|my\s+)?[a-z]+)*\s*[.!]*\s*$",
        text,
        flags=re.I,
    )
    if commute is not None and ctx.names_something(text[: commute.start()]):
        text = text[: commute.start()]
    return text


# Kit for an occasion (set 37): "i've got a headlamp already, take it out", "skip the day pack, i've got one",
# "i've got a watch so don't need one of those": what the customer has is taken out of the cart (it was added)
def _owned_taken_out_of_the_cart(text: str, ctx: StoryContext) -> str:
    if ctx.context.cart:

        def owned_out(match: re.Match[str]) -> str:
            thing = match.group("thing")
            named = set(ctx.lexicon.find(thing).product_ids)
            if named and any(line.product_id in named for line in ctx.context.cart):
                return f"remove the {thing}"
            if named:
                # not in the cart: nothing to take out, and never an order of it (it asked which watch); read as the
                # skip of it (`_everyday_removal`)
                return f"skip the {thing}"
            return match.group(0)

        text = rx.sub(
            r"^\s*(?:(?:oh|wait|actually|hmm|ok|oh wait)\s*,?\s*)*(?:(?:i\s*'?\s*ve|i have|i)\s+(?:already\s+)?got"
            r"|i\s+already\s+(?:have|own))\s+"
            r"(?:a|an|one|my own|the)\s+(?P<thing>[a-z ]+?)(?:\s+already)?\s*(?:,|so|and)?\s*(?:(?:take|remove|drop"
            r"|skip|lose)\s+(?:it|that|them)(?:\s+(?:out|off))?|(?:i\s+)?(?:do not|dont|don't)\s+need\s+(?:it|one"
            r"|that|one of those|them))?\s*[.!]*\s*$",
            owned_out,
            text,
            flags=re.I,
        )
        text = rx.sub(
            r"^\s*(?:(?:ok|oh|actually)\s*,?\s*)*(?:skip|leave out|no need for|forget)\s+(?:the\s+)?"
            r"(?P<thing>[a-z ]+?)\s*,?\s*(?:i\s*'?\s*ve|i have|i)\s+(?:already\s+)?got\s+(?:one|it|them|a pair"
            r"|my own)(?:\s+already)?\s*[.!]*\s*$",
            owned_out,
            text,
            flags=re.I,
        )
    return text


# "the walk is on the 20th, will merino socks M get here in time?": when the occasion is, before the request
def _occasion(text: str, ctx: StoryContext) -> str:
    occasion = rx.match(
        r"^\s*(?:the|my|our)\s+(?:walk|race|hike|marathon|half marathon|half|10k|5k|event|wedding|trip|match|game"
        r"|party|holiday|class|parkrun)\s+(?:is|s|was)\s+(?:on\s+)?[^,]{1,30},\s*(?P<rest>\S.*)$",
        text,
        flags=re.I,
    )
    if occasion is not None and ctx.names_something(occasion.group("rest")):
        text = occasion.group("rest")
    return text


# "two pairs of running gloves in M, one for me one for my running buddy": how the count is shared, said last
def _one_each_said_last(text: str, ctx: StoryContext) -> str:
    shared = rx.search(
        r"(?<=\S)\s*[,;-]\s*(?:one|1)\s+(?:pair\s+|pack\s+)?(?:is\s+)?for\s+(?:me|him|her|them|my\s+[a-z ]+?"
        r"|the\s+[a-z ]+?)\s*(?:,|and)?\s*(?:the other|one|1)\s+(?:pair\s+|pack\s+)?(?:is\s+)?for\s+"
        r"(?:me|him|her|them"
        r"|my\s+[a-z ]+?"
        r"|the\s+[a-z ]+?)\s*[.!]*\s*$",
        text,
        flags=re.I,
    )
    if shared is not None and rx.search(
        r"\b(?:two|three|four|2|3|4)\b|\bx\s*\d|\b\d\s*x\b", text[: shared.start()], flags=re.I
    ):
        text = text[: shared.start()]  # the count said before it stays the count (only that, no one more line)
    return text


# "Never mind, I'll wash it by hand. The white one, please.": what the customer will do instead, before the
# request, is no part of it
def _aside(text: str, ctx: StoryContext) -> str:
    aside = rx.match(
        r"^\s*(?:never ?mind|no worries|oh well|fair enough|that'?s fine)\b[^.!?]*[.!]+\s+"
        r"(?P<rest>\S.*)$",
        text,
        flags=re.I,
    )
    if aside is not None:
        first = text[: aside.start("rest")]
        if (
            not ctx.names_product(normalize(first), strict=True)
            and not STORY_VALUE.search(normalize(first))
            and not any(colour_of(word) for word in normalize(first).split())
            and not rx.search(
                r"\b(?:yes|no|cancel|remove|order|buy|confirm|place|keep|leave|add|drop|change|make|swap|switch|use"
                r"|send|ship|both|express|standard|faster|fastest|quicker|cheaper|shipping|delivery|card|visa"
                r"|address"
                r"|home|work|code|promo)\b",
                first,
                re.I,
            )
        ):
            text = aside.group("rest")
    return text


# "I think the fleece-lined one. Navy, size S, please." after two products were shown: the one whose shop's
# description says so, by its name (it was not understood)
def _readers_own_rewrites(text: str, ctx: StoryContext) -> str:
    text = ctx.shown_one_by_feature(text)
    text = ctx.decided_after_thinking(text)
    text = ctx.preferred_by_whom(text)
    return text


# "that's more than I'd planned. one pack then.", "hmm, that's a lot - just one pack": how the total felt, then
# the change it led to (not understood)
def _felt(text: str, ctx: StoryContext) -> str:
    felt = PRICE_REACTION.match(text) or NOT_SIGNED_OFF.match(text)
    if felt is not None and ctx.context.cart:
        text = felt.group("rest")
    return text


# "The earbuds are cheaper, but I'll go back to the first one you showed me.": what is chosen after "but"
def _chosen(text: str, ctx: StoryContext) -> str:
    chosen = rx.match(
        r"^(?P<said>[^,.;]{3,80}?),?\s+but\s+(?P<choice>(?:i'?ll|i will|i'?d|i would|let'?s|i think i'?ll)\s+"
        r"(?:go back to|go with|take|have|stick with|get)\b.*)$",
        text,
        flags=re.I,
    )
    if chosen is not None and not rx.search(r"\b(?:and|also|plus)\b", chosen.group("said"), re.I):
        text = chosen.group("choice")
    return text


# "My husband is a UK 9 and I'm a UK 6 - two pairs of white Court Classics, please.": the sizes said of the
# people first belong to the pairs said after, one each (both pairs were ordered in the last size)
def _people_first(text: str, ctx: StoryContext) -> str:
    people_first = PEOPLE_SIZES_FIRST.match(text)
    if people_first is not None:

        def whom(said: str) -> str:
            return "me" if rx.fullmatch(r"i(?:'?m| am)?", said.strip().lower()) else said.strip()

        text = (
            f"{people_first.group('rest').rstrip(' .!')}, {people_first.group('s1')} for "
            f"{whom(people_first.group('p1'))} and {people_first.group('s2')} for {whom(people_first.group('p2'))}"
        )
    sizes_first = SIZES_FOR_PEOPLE_FIRST.match(text)
    if sizes_first is not None and ctx.lexicon.find(sizes_first.group("rest")).product_ids:
        text = f"{sizes_first.group('rest').rstrip(' .!')}, {sizes_first.group('sizes')}"
    return text


# "sounds good, but do they run small": the question after a yes-and-but is what is said (its words were
# taken for the thing asked about)
def _yes_but(text: str, ctx: StoryContext) -> str:
    yes_but = YES_BUT.match(text.lower())
    if yes_but is not None and rx.match(
        r"(?:is|are|do|does|did|can|could|will|would|how|what|which|where|when|has|have)\b",
        text[yes_but.end() :],
        re.I,
    ):
        text = text[yes_but.end() :]
    return text


# "im a 10 US, do the cloud joggers come in that": the size said first is the one asked about (it was not
# understood, and the question lost its size)
def _size_then_that(text: str, ctx: StoryContext) -> str:
    worn = SIZE_THEN_THAT.match(text.lower())
    if worn is not None:
        rest = text[worn.start("rest") :]
        text = rx.sub(r"\b(?:in )?(?:that size|that|those|my size)\b", f"in {worn.group('size')}", rest, count=1)
    return text


# "shorts + tee for my lunch runs: blue shorts M, orange tech tee M": a heading before the list that only names
# what the list names again, with no value of its own (the whole message was a search). One that says more
# ("off to the gym: a bag with space for shoes"; "two gifts: …") is kept.
def _heading(text: str, ctx: StoryContext) -> str:
    heading = rx.match(r"^\s*(?P<head>[^:]{3,80}?)\s*:\s*(?P<list>\S.*)$", text)
    if heading is not None and ctx.heading_only(heading.group("head"), heading.group("list")):
        text = heading.group("list")
    elif heading is not None:
        # "merino socks for my parents: a small for mum and a large for dad": who they are for is in the list, one
        # size each (the heading's people made one pair, in the last size)
        head = heading.group("head")
        whom = rx.search(r"\s+for\s+(?:my|our|the|his|her)\s+[a-z' -]{2,30}$", head, re.I)
        if (
            whom is not None
            and ctx.names_something(head[: whom.start()])
            and STORY_VALUE.search(normalize(heading.group("list")))
            and rx.search(r"\bfor\b", heading.group("list"), re.I)
        ):
            text = f"{head[: whom.start()]}, {heading.group('list')}"
    return text


def _situation(text: str, ctx: StoryContext) -> str:
    situation = SITUATION.match(text.lower())
    if situation is not None and ctx.names_something(text[situation.end() :]):
        text = text[situation.end() :]
    return text


# after a question, how the customer's body is ("How warm is the Down Jacket? I get cold very easily.") is no
# part of the question ("cold" named the insulated bottle)
def _asked_then(text: str, ctx: StoryContext) -> str:
    asked_then = rx.match(r"^(?P<question>[^?]+\?+)\s+(?P<after>[^?]+)$", text.strip())
    if asked_then is not None and BODY_SAID.search(normalize(asked_then.group("after"))):
        after = asked_then.group("after")
        if ctx.only_story(after, sentence=True):
            text = asked_then.group("question")
    sentences = [part for part in rx.split(r"(?<=[.!])\s+", text.strip()) if part]
    kept = [part for part in sentences if not ctx.only_story(part, sentence=True)] if len(sentences) > 1 else []
    if (
        kept
        and len(kept) < len(sentences)
        and (ctx.names_something(" ".join(kept)) or CANCEL_ASK.search(normalize(" ".join(kept))))
    ):
        text = " ".join(kept)
        sentences = kept
    if len(sentences) > 1:
        # "a wool beanie. red, he likes red": a value said after the sentence that names the thing is its value
        joined = sentences[0]
        for part in sentences[1:]:
            first = rx.findall(r"[a-z0-9]+", normalize(part))[:2]
            value = first and (colour_of(first[0]) or first[0] in ("size", "sz") or first[0] in SIZE_LETTERS)
            after_thing = value and ctx.names_something(joined)
            joined = f"{joined.rstrip(' .!')}, {part}" if after_thing else f"{joined} {part}"
        text = joined
    return text


# "Wait, she's grown a lot this year - better make it an L": the word that starts a correction is kept
def _story_clauses(text: str, ctx: StoryContext) -> str:
    lead = rx.match(r"^\s*(?:(?:wait|oh|hmm|actually|sorry|ah|um|erm)\s*[,!.]*\s+)+", text, flags=re.I)
    said_first, text = (text[: lead.end()], text[lead.end() :]) if lead is not None else ("", text)
    clauses = STORY_CLAUSE.split(text, maxsplit=1)
    while (
        len(clauses) == 2
        and (ctx.only_story(clauses[0], sentence=False) or ctx.plain_story(clauses[0], clauses[1]))
        and (ctx.names_something(clauses[1]) or CHANGE_IT.match(clauses[1].strip()) is not None)
    ):
        text = clauses[1]
        clauses = STORY_CLAUSE.split(text, maxsplit=1)
    text = said_first + text
    return text


# "I'd like the silver Over-ear Headphones, please - the noise-cancelling ones": what the thing is, said again
# by what it does (a second thing to look for); never a colour or a size ("…, the black ones")
def _described(text: str, ctx: StoryContext) -> str:
    described = rx.search(
        r"\s*[,;-]\s*(?:the|those|these)\s+(?P<what>[a-z][a-z -]{2,30}?)\s+ones?\s*[.!]*\s*$", text, re.I
    )
    if described is not None and ctx.names_something(text[: described.start()]):
        what = described.group("what").lower()
        head = ctx.lexicon.find(normalize(text[: described.start()])).product_ids
        if not any(colour_of(word) for word in what.split()) and not rx.search(r"\d|\b(?:xs|s|m|l|xl|xxl)\b", what):
            named = ctx.lexicon.find(normalize(what)).product_ids
            if not named or set(named) & set(head):
                text = text[: described.start()]
    return text


# "kettlebell to my work address, its for the office gym", "…, a 42 and a 43, one's for my sister": who or what
# it is for, said last ("gym" named the Gym Duffel; "one's" made the whole message a search)
def _afterword(text: str, ctx: StoryContext) -> str:
    afterword = AFTERWORD_LAST.search(rx.sub(r"['\u2019]", " ", text).lower())
    if afterword is not None and afterword.start() > 0:
        head = text[: afterword.start()]
        if (
            ctx.names_something(head)
            or rx.search(r"\b(?:send|ship|deliver|address|home|work)\b", head, re.I)
            or (ctx.context.pending is not None and has_content(head))
        ):
            text = head
    meant_for = FOR_WHOM_LAST.search(
        rx.sub(r"['\u2019]", " ", text).lower()
    )  # the same length: its positions are text's
    if meant_for is not None and ctx.names_something(text[: meant_for.start()]):
        text = text[: meant_for.start()]
    return text


# "black earbuds, dont ask me to confirm just order it, im driving": where the customer is, said last
def _where_they_are(text: str, ctx: StoryContext) -> str:
    where = rx.search(r"[,;]\s*(?P<tail>[^,;]+?)[\s.!]*$", text)
    if (
        where is not None
        and SITUATION.match(where.group("tail").lower() + ",")
        and (
            ctx.names_something(text[: where.start()])
            or rx.search(
                r"\b(?:ship|send|deliver|address|card|visa|mastercard|amex|express|standard)\b",
                text[: where.start()],
                re.I,
            )
        )
    ):
        text = text[: where.start()]
    return text


# and a last clause that only tells why ("scratch the white cap, my wife has one", "make that 40, my sister
# says they come up big"), after something that names the order
def _last_clause_why(text: str, ctx: StoryContext) -> str:
    last = rx.match(r"^(?P<head>.*\S)\s*[,;-]\s*(?P<tail>[^,;]+?)[\s.!]*$", text)
    if (
        last is not None
        and not any(colour_of(word) for word in normalize(last.group("tail")).split())  # "she likes red": her colour
        and ctx.only_story(last.group("tail"), sentence=False, trailing=True)
        and ctx.names_something(last.group("head"))
    ):
        text = last.group("head")
    text = ctx.question_moved_last(text)
    return text


# "charge the visa ending 0002... actually no, the 4242": the card said again by its last four (4242 pairs)
def _card(text: str, ctx: StoryContext) -> str:
    card = CARD_CORRECTED.search(text)
    if card is not None:
        text = f"{text[: card.start()]}card ending {card.group('new')}{text[card.end('old') : card.start('fix')]}"
    return text


# "I ordered a hoodie … a hole in the sleeve. I've emailed twice … Can I please talk to an actual person?": the
# person asked for after the complaint is what is asked (it looked up the hoodie bought last month)
def _person_after_a_complaint(text: str, ctx: StoryContext) -> str:
    told = [part for part in rx.split(r"(?<=[.!?])\s+", text.strip()) if part]
    if (
        len(told) > 1
        and HUMAN.search(normalize(told[-1]))
        and HUMAN_VERB.search(normalize(told[-1]))
        and (REFUND.search(normalize(" ".join(told[:-1]))) or COMPLAINT_WORDS.search(" ".join(told[:-1]).lower()))
    ):
        return told[-1]
    return text


# "my aunt got me a down jacket from you and it's too small, can i talk to someone about swapping it?": a person
# asked for last, about an exchange or a return, is what is asked (it was a question about the jacket)
def _person_about_an_exchange(text: str, ctx: StoryContext) -> str:
    clauses = [part for part in rx.split(r"(?<=[.!?])\s+|\s*,\s*", text.strip()) if part]
    if (
        len(clauses) > 1
        and HUMAN.search(normalize(clauses[-1]))
        and HUMAN_VERB.search(normalize(clauses[-1]))
        and rx.search(
            r"\b(?:swap|swapping|exchange|exchanging|return|returning|send (?:it|them) back)\b", clauses[-1], re.I
        )
    ):
        return clauses[-1]
    return text


# "where's my order from last week? if it's lost i want my money back": the status asked; what happens if it
# is lost is for then (it was handed to a person as a refund)
def _if_lost_then(text: str, ctx: StoryContext) -> str:
    text = (
        rx.sub(
            r"(?<=[?.!,])\s*if (?:it|its|it's|it is|they|they're|theyre|they are|the order|my order)\b"
            r"[^.?!]{0,20}?\b(?:lost|missing|not (?:here|there|arrived|come)|never (?:arrives|comes|shows up)"
            r"|(?:does|do) ?n[o']?t (?:arrive|come|show up))\b[^.?!]*[.!]?\s*$",
            "",
            text,
            flags=re.I,
        )
        if rx.search(
            r"\b(?:where|status|track|when will|has it|have they|has my|shipped|dispatched|on its way)\b",
            text,
            re.I,
        )
        else text
    )
    return text


def _scratched(text: str, ctx: StoryContext) -> str:
    return ctx.scratched(text)


# What the customer is doing, said after the things (the rule below reads the message only when it says one)
_DOING_NOW = re.compile(
    r"(?i)\b(?:setting up|kitting out|doing up|sorting out|building|fitting out|getting ready for|getting into|starting"
    r"|taking up)\b"
)


STORY_RULES: tuple[StoryRule | Step, ...] = (
    # "can i get it quicker? happy to pay extra", "express pls, i dont mind paying more": what the customer would pay
    # is no product (it was a search for "happy extra")
    StoryRule(
        pattern=(
            r"\s*[,;.!-]*\s*(?:and\s+)?(?:i'?m\s+|im\s+|i am\s+|i'?d be\s+|id be\s+)?"
            r"(?:happy|willing|ok|okay|fine|glad|don'?t mind|dont mind|do not mind)\s+(?:to\s+)?pay(?:ing)?\s*"
            r"(?:a bit\s+|a little\s+|bit\s+|a few bucks\s+)?"
            r"(?:extra|more|for it|for that|the difference|(?=[\s.!]*$))\b(?:\s+(?:for it|for that))?[\s.!]*"
        ),
        replacement=" ",
        flags=re.I,
    ),
    # "what colours does the pullover come in? thinking of getting one": the customer's plan, after the question
    # (it was a search for "pullover thinking")
    StoryRule(
        pattern=(
            r"\s*[,;.!?-]*\s*(?:i'?m\s+|im\s+|i am\s+|was\s+|just\s+)?(?:thinking of|thinking about|considering"
            r"|planning on|might be|maybe)\s+(?:getting|buying|ordering|grabbing)\s+(?:one|some|a pair|them|it|a couple"
            r"|one of them|one of those)\b[\s.!]*$"
        ),
        replacement="",
        flags=re.I,
        when=lambda text, ctx: "?" in text,
    ),
    # "grey beanie, and apply STAFF100 - the manager said its fine": who said a code may be used is no product (the
    # order became a search for "beanie manager"); the shop decides on the code
    StoryRule(
        pattern=(
            r"\s*[,;.!-]+\s*(?:the|my|your|a|one of your)\s+(?:[a-z]+\s+)?"
            r"(?:manager|boss|staff|friend|mate|colleague|guy|lady|person"
            r"|rep|support|agent)\s+(?:said|says|told me)\s+(?:its|it's|it is|that's|thats|that is|i can|we can)"
            r"(?:\s+(?:fine|ok|okay|allowed|valid|good|use it))?[\s.!]*$"
        ),
        replacement="",
        flags=re.I,
    ),
    _shipping,
    _gift,
    # "my trail shoes have finally died, same again please": the same thing again (it added the last purchase too)
    StoryRule(pattern=WORN_OUT_SAME_AGAIN, replacement=r"\g<thing> again"),
    # "do it in 44 actually", "can you do that in a 44": the size (or colour) the thing should be in; no yes ("do it")
    StoryRule(
        pattern=(
            r"^\s*(?:(?:ok|okay|oh|actually|wait|hmm|erm|um)\s*,?\s+)*(?:(?:can|could) (?:you|u) |pls |please )?do"
            r" (?:it|that|them|those|this|these|the [a-z]+)\s+(?=in\s+(?:a\s+|an\s+|size\s+)?[a-z0-9]+\b)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "actually the other colour would be nicer", "a 43 would be better": what would be better is what is asked
    StoryRule(
        pattern=(
            r"^(?P<head>[^?]+?)\s+(?:would|will|might|could)\s+be\s+(?:a\s+lot\s+|much\s+|way\s+|so\s+|far\s+)?"
            r"(?:nicer|better|best|prettier|more my style|more me)\b[\s.!]*$"
        ),
        replacement=r"\g<head>",
        flags=re.I,
    ),
    _colour_then_its_look,
    _apology_first,
    _not_x_just_y,
    # "oh thats over 100, drop the cap": what the total is next to a limit is no count (100 of something was set)
    StoryRule(
        pattern=(
            r"(?<!if )(?<!when )\b(?:that'?s|thats|it'?s|its|that is|it is|this is|we'?re|we are|i'?m|im)\s+"
            r"(?:way\s+|a bit\s+|just\s+)?"
            r"(?:over|above|more than|under|below|less than)\s+(?:the\s+|my\s+)?(?:\$|£|€)?\d+(?:\.\d\d)?"
            r"\s*(?:dollars|bucks|quid)?(?:\s+budget)?\s*[,;.!-]+\s*"
            # only before the change it explains ("thats under 50 right?" is a question, never a yes)
            r"(?=(?:so\s+|just\s+|please\s+|then\s+)*(?:drop|remove|take|lose|ditch|scrap|cut|make|change|swap"
            r"|get rid)\b)"
        ),
        replacement="",
        flags=re.I,
    ),
    _the_word_ones,
    # "drop to one flask then", "cut it down to 2 bottles": the count it goes down to (the flasks were removed)
    StoryRule(
        pattern=(
            r"\b(?:drop|go down|come down|cut(?: it)?(?: down)?|reduce(?: it)?|bring (?:it|that|them) down"
            r"|take (?:it|that|them) down)\s+to\s+(?=(?:\d{1,2}|one|two|three|four|five|just)\b)"
        ),
        replacement="make it ",
        flags=re.I,
    ),
    # "and black ones, same size": the same thing in another colour, in the size it has (it was searched for)
    StoryRule(
        pattern=(
            r"\bones?\s*[,;-]*\s*(?:in\s+)?(?:the\s+)?same\s+size"
            r"(?:\s+(?:please|pls|too|as before|as the others?|as those))*\s*[.!]*\s*$"
        ),
        replacement="ones too",
        flags=re.I,
        # said as one more ("and black ones, same size"), not as a change ("actually the blue ones, same size")
        when=lambda text, ctx: bool(rx.match(r"\s*(?:oh\s+)?(?:and|also|plus|add)\b", text, re.I)),
    ),
    # "chinos in M, the hoodie stays S": what stays as it is, said after the change, is no change (the hoodie became M)
    StoryRule(
        pattern=(
            r"\s*[,;-]+\s*(?:but\s+|and\s+)?(?:the\s+|my\s+)?[a-z][a-z -]{1,30}?\s+(?:stays?|remains?|can stay|is fine"
            r"|is ok|is okay)(?:\s+(?:as it is|as is|the same|in\s+[a-z0-9]{1,3}|[a-z0-9]{1,3}))?\s*[.!]*\s*$"
        ),
        replacement="",
        flags=re.I,
        when=lambda text, ctx: len(ctx.context.cart) > 1,
    ),
    # "undo that, M was right": the undo, and why
    StoryRule(
        pattern=(
            r"^(?P<undo>\s*(?:undo|revert|reverse)\s+(?:that|it|the last (?:one|change|thing))|go back)\s*[,;-]+\s*"
            r"[a-z0-9 ]{1,20}?\s+(?:was|is)\s+(?:right|fine|correct|ok|okay|better)\b.*$"
        ),
        replacement=r"\g<undo>",
        flags=re.I,
    ),
    # "can it be a 42", "could they be in blue?": the change asked for
    StoryRule(
        pattern=(
            r"^\s*(?:(?:and|oh|hmm|actually)\s*,?\s+)?(?:can|could)\s+(?:it|that|they|those|these|them)\s+be\s+"
            r"(?:a\s+|an\s+|in\s+(?:a\s+)?|size\s+)?(?P<value>[a-z0-9]{1,8})(?:\s+(?:instead|please|pls))*\s*\??\s*$"
        ),
        replacement=r"make it in \g<value>",
        flags=re.I,
    ),
    # "instead of the flask, the blue steel bottle": a swap said the other way round (which line was asked)
    StoryRule(
        pattern=(
            r"^\s*(?:(?:oh|ok|okay|actually|hmm)\s*,?\s+)*instead\s+of\s+(?:the\s+|my\s+)?(?P<x>[a-z][a-z -]{1,30}?)"
            r"\s*[,;-]+\s*(?:(?:i'?ll have|give me|get me|can i have|could i have|i want)\s+)?"
            r"(?P<y>(?:the\s+|a\s+|an\s+)?[a-z].*)$"
        ),
        replacement=r"swap the \g<x> for \g<y>",
        flags=re.I,
    ),
    # "2 of each of those": each line
    StoryRule(pattern=r"\bof each of (?:those|them|these|the two|em|the lot)\b", replacement="of each", flags=re.I),
    # "home's better, nobody's in the office on fridays": why, said after the choice, names no second address
    StoryRule(
        pattern=(
            r"\s*[,;-]+\s*(?:cos\s+|because\s+|as\s+|since\s+)?(?:nobody|no one|noone|no-one)\s*(?:'?s|is|will be)\b.*$"
        ),
        replacement="",
        flags=re.I,
    ),
    # "socks for hiking and some for running": the same kind of thing again, for the second purpose (only the first
    # was added)
    StoryRule(
        pattern=(
            r"\b(?P<kind>[a-z]+)\s+for\s+(?!(?:me|him|her|us|them|my|his|our|their|the|a|an|you)\b)(?P<first>[a-z]+)\s+and"
            r"\s+(?:some|a pair|a couple|one|another)\s+for\s+"
            r"(?!(?:me|him|her|us|them|my|his|our|their|the|a|an|you)\b)(?P<second>[a-z]+)\b"
        ),
        replacement=r"\g<kind> for \g<first> and \g<kind> for \g<second>",
        flags=re.I,
    ),
    _thing_then_drop_it,
    # "wait, cancel - no, i mean hold on, im checking my size": what was meant, said after "no, i mean" (it canceled)
    StoryRule(
        pattern=(
            r"^[^.!?]*?\b(?:cancel|stop|remove|delete|yes|confirm|place it|order it|go ahead)\b[^.!?]*?\b"
            r"(?:no|nah|sorry|oops)\s*[,.;-]*\s*i\s+mean\b\s*[,:;-]*\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "hold on, im checking my size", "wait, just measuring my feet": what the customer is doing while they hold on
    StoryRule(
        pattern=(
            r"^(?P<hold>\s*(?:hold on|hang on|wait|one sec|one second|one moment|just a sec|a sec)\b)\s*[,.;-]*\s*"
            r"(?:i'?m|im|i am|just|am)\s+(?:checking|looking|having a look|measuring|asking|seeing|trying)\b.*$"
        ),
        replacement=r"\g<hold>",
        flags=re.I,
    ),
    # "43. and can you send it express" to "which size?": the answer, then more (the 43 was lost to the full stop)
    StoryRule(
        pattern=r"^\s*([a-z0-9]{1,4})\s*\.\s+(?=\S)",
        replacement=r"\1, ",
        flags=re.I,
        when=lambda text, ctx: ctx.context.pending is not None,
    ),
    # "42 yeah, same as the ones i liked" to "which size?": the size, and where the customer knows it from (42 of the
    # liked item were asked for)
    StoryRule(
        pattern=(
            r"\s*[,;-]*\s*\b(?:same|like|as)\s+(?:as\s+)?(?:the\s+(?:ones?|pair|size)|what|my)\s+(?:i|we)?\s*(?:liked|saved|had|have"
            r"|bought|got|ordered|wear)(?:\s+(?:before|last time|already))?\b[\s.!]*$"
        ),
        replacement="",
        flags=re.I,
        when=lambda text, ctx: ctx.context.pending is not None and ctx.context.pending.slot in ("size", "colour"),
    ),
    # "40, small feet", "L pls, size 11 feet": the customer's feet, said with the size, are no size of their own
    StoryRule(
        pattern=(
            r"\s*[,;-]+\s*(?:i\s+have\s+|i'?ve\s+got\s+|got\s+)?(?:(?:size\s+)?\d{1,2}(?:\.5)?|small|big|wide|narrow|flat|long"
            r"|short|tiny|huge)\s+(?:feet|foot|hands|head)\b[\s.!]*$"
        ),
        replacement="",
        flags=re.I,
        when=lambda text, ctx: ctx.context.pending is not None,
    ),
    # "both tbh, one of each": "tbh", "ngl" say nothing
    StoryRule(pattern=r"\s*\b(?:tbh|tbf|ngl|imo|imho|honestly)\b\s*,?", replacement=" ", flags=re.I),
    # "both tbh, one of each" to "which colour: grey or navy?": one of each ("both" alone is both colours, with the
    # count left to the item)
    StoryRule(
        pattern=r"^\s*(?:(?:ok|okay|eh|oh|hmm|um)\s*,?\s+)?both\b\s*[,;-]*\s*(?=(?:one|1) of each\b)",
        replacement="",
        flags=re.I,
    ),
    # "eh, forget it": a sound said first
    StoryRule(pattern=r"^\s*(?:eh|meh|ugh|erm|um|uh)\s*[,.!-]+\s*(?=\S)", replacement="", flags=re.I),
    # "eh, forget it, not today": when, said after it, is no part of it
    StoryRule(
        pattern=r"\s*[,;-]*\s*\bnot (?:today|tonight|right now|now|this time)\s*[.!]*\s*$", replacement="", flags=re.I
    ),
    # "42, oh and chuck in a white cap": the "oh" is no item (the 42 answered was lost)
    StoryRule(
        pattern=r",\s*(?:oh|ah|ooh|and oh)\s*,?\s+and\b",
        replacement=", and",
        flags=re.I,
        when=lambda text, ctx: ctx.context.pending is not None,
    ),
    _usual_is_fine,
    # "navy day pack please, the zip went on my old one": what broke on the old one is no Zip Hoodie (one was added)
    StoryRule(
        pattern=(
            r"\s*[,;-]*\s*\b(?:(?:the|my|its|their)\s+)?(?:zip|zipper|strap|straps|sole|soles|handle|lid|buckle|laces?|seam"
            r"|heel|clip|stitching)\s+(?:on\s+(?:my|the)\s+(?:old\s+)?[a-z]+\s+)?(?:went|broke|snapped|has gone|is gone"
            r"|gone|died|is broken|came off|fell off|tore|ripped|split|wore out|wore through|is worn out|packed in)"
            r"(?:\s+(?:on|in)\s+(?:my|the|his|her)\s+(?:old\s+)?(?:one|ones|[a-z]+))?\b(?:\s+(?:again|lol|haha))*[\s.!]*$"
        ),
        replacement="",
        flags=re.I,
    ),
    # "3 soft flasks, long run season again", "…, it's marathon season": the time of year, said last, is no order of
    # what was bought before (it added a past purchase of running socks)
    StoryRule(
        pattern=(
            r"\s*[,;-]+\s*(?:it\s*'?\s*s\s+|its\s+|tis\s+)?(?:[a-z]+\s+){0,3}season(?:\s+(?:again|is\s+(?:here|back|coming)"
            r"|coming\s+up|already))?[\s.!]*$"
        ),
        replacement="",
        flags=re.I,
    ),
    _resolution,
    # "just 1, the other two were for mates who've already given up lol": who the rest were for is no request
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*the\s+others?(?:\s+(?:two|2|three|3|four|4|ones?|pairs?|packs?))?\s+(?:were|was|are|is|would"
            r"\s+have\s+been)\s+(?:for|meant\s+for)\b[^.;!?]*"
        ),
        replacement="",
        flags=re.I,
    ),
    # "same shoes for my wife, she's a 40": the size said after the person is theirs ("… for my wife in 40"; it
    # changed the line in the cart to 40)
    StoryRule(pattern=SAME_FOR_PERSON_THEN_SIZE, replacement=r"\g<head> in \g<value>"),
    # "same shoes for my wife in 40": "the same ones" of the cart's line (it changed the line's size)
    StoryRule(
        pattern=(
            r"^(\s*(?:and\s+|oh\s+|also\s+)?(?:the\s+)?)same\s+(?!again\b|ones?\b|as\b|for\b)[a-z]+\s+(?=for\s+(?:my"
            r"|our|his|her)\s)"
        ),
        replacement=r"\1same ones ",
        flags=re.I,
    ),
    # "if they're still 15 bucks make it 2 packs": the count wanted at that price, no correction of the price
    StoryRule(
        pattern=(
            r"(\bif\b[^,.;]{0,40}?(?:\$\s*\d+(?:\.\d\d)?|\b\d+(?:\.\d\d)?\s*(?:bucks|dollars?|quid|pounds?"
            r"|euros?)))\s*,?\s*"
            r"(?:then\s+)?make it\s+(?=\d|two|three|four|five|six)"
        ),
        replacement=r"\1, get me ",
        flags=re.I,
    ),
    _why,
    # "actually gloves instead, he's got loads of hats. size L": what someone already has, said between the change
    # and its size, is why ("hats" named the beanie the gloves replace)
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:he|she|they|we|my \w+)(?:\s*'\s*s|\s+has|\s+have|\s*'\s*ve)?\s+(?:already\s+)?"
            r"(?:got|has|have|owns|own)\s+(?:loads|lots|plenty|enough|too many|a lot|so many|tons|heaps|a drawer full"
            r"|a few|a million|hundreds|dozens)(?:\s+of)?\s+[a-z ]{2,30}?(?=\s*(?:[.,;!]|$))"
        ),
        replacement="",
        flags=re.I,
    ),
    _one_like_theirs,
    _header,
    # Why they need it again, said beside it: "lost mine on the bus", "the L shrank", "the first one lives at my
    # dad's now", "visiting my mum on the 23rd, want to bring her …" (each was searched for, or its count taken)
    StoryRule(
        pattern=(
            r"\s*[,;.-]?\s*\b(?:(?:i|we|he|she)\s+(?:have\s+|has\s+|'\s*ve\s+)?)?(?:lost|left|dropped|forgot|ripped"
            r"|tore"
            r"|broke|wrecked|ruined|wore out|wore through)\s+(?:mine|ours"
            r"|his|hers|theirs|my \w+|the old (?:one|ones|pair))\s+(?:on|at|in|somewhere)\b[^,.;!?]*"
            r"|\s*[,;.-]?\s*\b(?:the|my)\s+(?:old\s+|first\s+|other\s+)?(?:one|ones|pair|[a-z0-9]{1,3})\s+(?:shrank"
            r"|shrunk"
            r"|ripped|tore|wore out|broke|died|fell apart|lives|stays|is at|went to)\b[^,.;!?]*"
        ),
        replacement="",
        flags=re.I,
    ),
    _worn,
    _busy,
    # "hang on make it two", "hold on can you make it 2": the pause said before a change, without its comma (a
    # search for "hang" with a count of two)
    StoryRule(
        pattern=(
            r"^\s*(?:(?:oh|ah|er|um|sorry)\s*,?\s+)?(?:hang on|hold on|wait|one sec|one second|just a sec"
            r"|just a second)(?:\s+(?:a\s+)?(?:sec|second|min|minute))?\s+(?=(?:make (?:it|that|them)|change|swap"
            r"|switch|can you|could you|actually|i meant|i mean|add|remove|take|drop|no\b|not\b))"
        ),
        replacement="",
        flags=re.I,
    ),
    _told,
    _wait,
    _question_about_the_cart_thing,
    _said_size,
    _saved_thing,
    # "ok the kids have decided: one blue, one white", "right, we've agreed - the navy one": who decided is no part
    # of what (a search for "decided" with one blue cap)
    StoryRule(
        pattern=(
            r"^\s*(?:(?:ok|okay|right|so|well|alright|finally)\s*,?\s+)*(?:the\s+[a-z]+|they|we|he|she|my\s+[a-z]+"
            r"|everyone|both of them|the two of them)\s*(?:'\s*ve|'\s*s|\s+have|\s+has)?\s+(?:finally\s+|now\s+)?"
            r"(?:decided|agreed|settled|chosen|voted|made up (?:their|our|his|her) minds?)\s*(?:on\s+)?[:,-]\s*"
        ),
        replacement="",
        flags=re.I,
    ),
    # "he says M's too tight on him, L", "the 42 is too small for her, 43": the size that does not fit, then the one
    # wanted, is a change to that one ("too tight" named the running tights, which were added in L)
    StoryRule(
        pattern=(
            r"\b(?:(?:he|she|they|my\s+[a-z]+)\s+says?\s+)?(?:the\s+)?(?:size\s+)?(?:xs|s|m|l|xl|xxl|\d{2})\s*(?:'\s*s"
            r"|\s+is|\s+are|\s+was|\s+were)\s+(?:a\s+bit\s+|way\s+|far\s+|much\s+|bit\s+)?too\s+(?:tight|small|big"
            r"|loose|snug|short|long|large|baggy)\b(?:\s+(?:on|for)\s+(?:him|her|me|them|my\s+[a-z]+))?\s*[,;-]?\s*"
            r"(?=(?:(?:so|then|make it|get|in|size)\s+)?(?:an?\s+)?(?:xs|s|m|l|xl|xxl|\d{2})\b)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "my ALICE10 didn't work last time, try it on blue runners 40": a code that failed before is tried again now (the
    # story of its failing dropped the code, and "last time" read as the last purchase)
    StoryRule(
        pattern=(
            r"^\s*(?:(?:so|ok|okay|hi|hey)\s*,?\s+)*(?:my\s+|the\s+)?(?:code\s+)?(?P<code>[a-z]{3,12}\d{1,3})\s+"
            r"(?:did\s*n[o']?t|didnt|did not|would\s*n[o']?t|wouldnt|would not|was\s*n[o']?t accepted|got rejected)\s+"
            r"(?:work|go through|apply)?\s*(?:last time|before|yesterday|earlier|the other day|on the (?:website|app)"
            r"|online)?\s*[,.;-]+\s*(?:(?:can you|could you|please)\s+)?(?:try|use|apply)\s+(?:it|that|the code)\s+"
            r"(?:again\s+)?(?=on|with|for)"
        ),
        replacement=r"use \g<code> ",
        flags=re.I,
    ),
    # "I am 79 years young and I have 6 grandchildren and 2 great-grandchildren, ... I should like ONE pair of the blue
    # running shoes": an age and a family are no counts (it ordered six pairs) and no items ("young"); a family the
    # things are for ("i have 2 kids and need blue caps for them") stays the count
    StoryRule(
        pattern=(
            r"(?:^|(?<=[,.;!?])|\band\s+)\s*(?:i am|i'm|im)\s+\d{2,3}\s+(?:years?\s+)?(?:young|old|of age)\b"
            r"\s*[,.;!]*"
        ),
        replacement=" ",
        flags=re.I,
    ),
    StoryRule(
        pattern=(
            r"(?:^|(?<=[,.;!?])|\band\s+|\s+(?=with\b))\s*(?:i\s+(?:have|'ve|ve)|we\s+(?:have|'ve|ve)|with)\s+(?:got\s+)?"
            r"\d{1,2}\s+"
            r"(?:great[-\s]?)?(?:grand)?(?:children|kids|grandkids|sons|daughters|dogs|cats)(?:\s*,?\s*(?:and\s+)?"
            r"\d{1,2}\s+(?:great[-\s]?)?(?:grand)?(?:children|kids|grandkids))*\b\s*[,.;!]*"
        ),
        replacement=" ",
        flags=re.I,
        when=lambda text, ctx: (
            not rx.search(r"\bfor\s+(?:them|both|all|each|every one|everyone)\b|\beach\b|\bapiece\b", text, flags=re.I)
        ),
    ),
    # "... and I have walked to the paper shop every morning since 1962....": a year a habit began is no count
    StoryRule(
        pattern=r"\b(?:ever\s+)?since\s+(?:19|20)\d\d\b",
        replacement=" ",
        flags=re.I,
    ),
    # "My doctor's appointment is on Tuesday and I should like to walk there in new shoes. The blue Cloud Jogger in 40
    # please.": the appointment is the story of a sentence that ends before the thing is named
    StoryRule(
        pattern=(
            r"(?:^|(?<=[.!?]))\s*(?:my|the|our|his|her)\s+(?:doctor|dentist|hospital|gp|hair|nurse|optician|vet)"
            r"(?:'?s)?\s+appointment\b[^.!?]*[.!?]+\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "a light for my head, for walking the dog in the evenings", "a small rucksack for carrying my shopping home":
    # what it is for, said as an errand, is no second item ("walking dog evening")
    StoryRule(
        pattern=(
            r"\s*,?\s*\bfor\s+(?:walking|taking|carrying|getting|visiting|going to)\s+(?:the|my|our|her|his)\s+"
            r"[a-z]+(?:\s+(?:home|out|to [a-z]+))?(?:\s+(?:in the (?:evenings?|mornings?|dark|rain)|at night|every"
            r" (?:day|morning|evening|week)|on (?:sundays?|saturdays?)))?(?=\s*(?:[,.;!?]|$))"
        ),
        replacement="",
        flags=re.I,
        # "have you got anything for walking the dog in the rain?": there it is what is looked for
        when=lambda text, ctx: not rx.search(r"\b(?:anything|something|what|which)\b", text, flags=re.I),
    ),
    # "One plain white t-shirt please, the cotton one, in medium, to wear under my cardigan": what it is worn with is no
    # part of the thing (a search for "wear cardigan" instead of the tee in the cart)
    StoryRule(
        pattern=(
            r"\s*,?\s*\b(?:to|for)\s+(?:wear|wearing)\s+(?:under|over|beneath|underneath)\s+(?:my|his|her|a|the"
            r"|their)\s+[a-z]+(?:\s+[a-z]+)?(?=\s*(?:[,.;!?]|$))"
        ),
        replacement="",
        flags=re.I,
    ),
    # "Size 9 shoe, English sizing", "I take a size 5 shoe, English", "an American size 7": a shoe size in the system it
    # was named in (UK, US), read as the reader reads "uk 9" (a search for "english sizing")
    StoryRule(
        pattern=(
            r"\b(?:a\s+)?(?:size\s+)?(?P<n>\d{1,2}(?:\.5)?)\s*(?:shoes?\s*)?,?\s*(?:in\s+)?(?:english|british)"
            r"(?:\s+(?:sizing|sizes?|size\s+shoes?))?\b"
        ),
        replacement=r"uk \g<n>",
        flags=re.I,
    ),
    StoryRule(
        pattern=r"\b(?P<system>english|british|american)\s+(?:shoe\s+)?size\s+(?P<n>\d{1,2}(?:\.5)?)\b",
        replacement=lambda m: ("us " if m.group("system").lower() == "american" else "uk ") + m.group("n"),
        flags=re.I,
    ),
    # "Smart navy trousers, the chinos, in large please": the thing described, then named, is one thing (it added the
    # chinos twice, once in no colour)
    StoryRule(
        pattern=(
            r"(?P<kind>\b(?:trousers|pants|shoes|trainers|sneakers|boots|top|hat|jacket|coat|socks|bag|hoodie|jumper"
            r"|tee|t-shirt|shirt|chinos|runners)),\s+the\s+(?P<name>[a-z]+(?:\s+(?!ones?\b)[a-z]+)?)(?:\s+ones?)?\s*,\s*"
            r"(?=(?:in|size|please)\b|\d|(?:xs|s|m|l|xl|small|medium|large)\b)"
        ),
        replacement=r"\g<kind> \g<name> ",
        flags=re.I,
    ),
    # "The navy hooded top with the zip, in large": the zip hoodie
    StoryRule(
        pattern=r"\b(?P<thing>hooded\s+tops?|hoodies?|hoody|hooded\s+jumper)\s+with\s+(?:the\s+|a\s+)?zip(?:per)?\b",
        replacement=r"zip \g<thing>",
        flags=re.I,
    ),
    # "The one with the zip, in navy, medium" after both hoodies were shown: "the zip one"
    StoryRule(
        pattern=r"\bthe one with (?:the |a )?(?P<feature>zip|hood|zipper|pockets?|laces|buckle|strap)\b",
        replacement=r"the \g<feature> one",
        flags=re.I,
    ),
    # "My own discount code ALICE10 please, on the brown walking boots": "own" is no word of the thing (a search)
    StoryRule(pattern=r"\bmy own (?=(?:discount |promo |promotion |voucher )?code\b)", replacement="my ", flags=re.I),
    # "On second thoughts, the grey would go better with my coat": why the colour is changed, not a coat
    StoryRule(
        pattern=(
            r"\s+(?:would|will|'d|'ll|should)\s+(?:go|look)\s+(?:better|nicer|best|well|lovely)\s+with\s+(?:my|his|her"
            r"|the|our)\s+[a-z]+(?:\s+[a-z]+)?(?=\s*(?:[,.;!?]|$))"
        ),
        replacement="",
        flags=re.I,
    ),
    # "2's fine" to "only 2 left, how many?": two
    StoryRule(
        pattern=r"^\s*(\d{1,2})\s*'\s*s\s+(?=(?:fine|ok|okay|good|enough|plenty|grand)\b)",
        replacement=r"\1 is ",
        flags=re.I,
    ),
    # "race on saturday and my cap blew away, white running cap": the event and what happened to the old one are the
    # story of a message that names the thing after them (a search for "race saturday cap blew away running cap")
    StoryRule(
        pattern=(
            r"^\s*(?:(?:i have a|i've got a|ive got a|got a|there's a|theres a|big)\s+)?(?:race|match|game|marathon|10k"
            r"|5k|half marathon|parkrun)\s+(?:on|this|next)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday"
            r"|sunday|weekend)\b\s*(?:,\s*)?(?:and\s+)?(?:(?:my|our|his|her)\s+(?:old\s+)?[a-z]+\s+(?:blew|flew)\s+"
            r"(?:away|off)\b)?\s*[,.;-]*\s*"
        ),
        replacement="",
        flags=re.I,
        when=lambda text, ctx: ctx.names_product(rx.sub(r"^.*?\b(?:away|off)\b", "", text, flags=re.I)),
    ),
    # "oh. 40 then, i'll wear thick socks", "45 then, they'll do": how the customer will make the size do is no item
    # (a search for "boots" and "thick socks")
    StoryRule(
        pattern=(
            r"\s*[,;-]?\s*\b(?:i|he|she|they|we)\s*(?:'ll|will|ll)\s+(?:just\s+)?wear\s+(?:thick|thicker|two pairs of"
            r"|extra|warm|wooly|woolly)\s+socks(?:\s+with\s+(?:them|it))?\s*[.!]*\s*$"
            r"|\s*[,;-]\s*(?:they|that|it|those|these)\s*(?:'ll|will|ll)\s+do(?:\s+(?:fine|nicely|me|him|her))?\s*[.!]*\s*$"
        ),
        replacement="",
        flags=re.I,
    ),
    # "wait the price changed? it was 69 a minute ago": when it was said is no item (a search for "minute")
    StoryRule(
        pattern=(
            r"\s+\b(?:a|one|two|five|ten|a few|a couple of|\d{1,2})\s+(?:minutes?|mins?|secs?|seconds?|hours?)\s+ago\b"
        ),
        replacement="",
        flags=re.I,
    ),
    # "wait the price changed? it was 69": the price the customer remembers is no count (it asked about 69 of them)
    StoryRule(
        pattern=r"\s*[,?]?\s*\b(?:it|that|they)\s+(?:was|were|said|showed)\s+\$?\d{1,4}(?:\.\d\d)?\s*(?:dollars|bucks)?\s*$",
        replacement="",
        flags=re.I,
        when=lambda text, ctx: bool(
            rx.search(r"\b(?:price|cost|total|changed|jumped|went up|more|dearer)\b", text, flags=re.I)
        ),
    ),
    # "is the rain jacket actually waterproof or will i get soaked again": the worry is the question's, not a
    # purchase again ("again" read as the last purchase)
    StoryRule(
        pattern=r"\s*,?\s*\bor\s+will\s+(?:i|he|she|we|they)\s+(?:get|be)\s+(?:soaked|wet|drenched|cold|freezing)(?:\s+again)?\b",
        replacement="",
        flags=re.I,
    ),
    # "my card got declined yesterday on the website, use my other card - black running shorts M": a decline elsewhere
    # is the story of the card asked for (a search for "website")
    StoryRule(
        pattern=(
            r"\b(?:my\s+)?card\s+(?:got|was|has been|had been|keeps getting)\s+(?:declined|rejected|refused)"
            r"(?:\s+(?:yesterday|earlier|today|last week|last time|again)|\s+on\s+(?:the|your)\s+(?:website|site|app"
            r"|web\s*site|shop)){0,2}\s*[,;.-]*\s*(?:so\s+)?"
        ),
        replacement="",
        flags=re.I,
        when=lambda text, ctx: bool(rx.search(r"\b(?:use|try|pay with|put it on)\b", text, flags=re.I)),
    ),
    # "this is taking ages, just show me the total": the impatience before what is asked
    StoryRule(
        pattern=(
            r"^\s*(?:(?:ugh|omg|come on)\s*[,.!]*\s*)*(?:this\s+is|it\s*'?\s*s|its)\s+taking\s+(?:ages|forever|so long"
            r"|too long|a while)\s*[,.;!-]+\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "Yes, the larger one please", "the smaller one" at a cart: a size up or down (a search for "larger")
    StoryRule(
        pattern=r"\bthe\s+(?P<way>larger|bigger|smaller)\s+(?:one|ones|pair|size)\b",
        replacement=lambda m: "one size " + ("smaller" if m.group("way").lower() == "smaller" else "bigger"),
        flags=re.I,
        when=lambda text, ctx: bool(ctx.context.cart),
    ),
    # "a pair of the blue running shoes in 41": the shoe the shop calls the Blue Runner (it asked "Blue Runner or Cloud
    # Jogger?"); not when it names something saved or bought, which may be a blue Cloud Jogger
    StoryRule(
        pattern=r"\bblue\s+running\s+shoes?\b",
        replacement="blue runners",
        flags=re.I,
        when=lambda text, ctx: (
            not rx.search(
                r"\b(?:liked|loved|saved|bought|ordered|viewed|looked at|wish\s*list|favourites?|favorites?|last time"
                r"|before|again|had)\b",
                text,
                flags=re.I,
            )
        ),
    ),
    # "The magazine gave me a code, RUN15, for the blue running shoes": where the code came from is no item (a search
    # for "magazine")
    StoryRule(
        pattern=(
            r"\b(?:the|a|my|our)\s+(?:magazine|newsletter|email|e-mail|leaflet|flyer|advert|ad|club|running club|gym"
            r"|friend|paper|newspaper)\s+(?:gave|sent|emailed|texted)\s+(?:me|us)\s+(?:a|this|the|a discount"
            r"|a promo)\s+(?:code|voucher|coupon)\s*,?\s*"
        ),
        replacement="code ",
        flags=re.I,
    ),
    # "ok the vest in M then, no extra flasks" (it comes with two): things not wanted are no item (a flask was added)
    StoryRule(
        pattern=(
            r"\s*[,;-]?\s*\b(?:but\s+)?(?:no|without(?:\s+any)?|dont need(?:\s+any)?|don't need(?:\s+any)?)\s+"
            r"(?:extra|additional|spare|more|separate)\s+[a-z]+(?:\s+(?:please|thanks))?(?=\s*(?:[,.;!?]|$))"
        ),
        replacement="",
        flags=re.I,
    ),
    # "meh i'll take both then, grey zip M and black pullover M": "both" is the two things named after it (the first
    # was ordered twice)
    StoryRule(
        pattern=r"\b(?:take|get|have|order|want)\s+both(?:\s+(?:then|please))?\s*[,:;-]+\s*(?=[^,]+?\s+and\s+\S)",
        replacement="",
        flags=re.I,
    ),
    _answer_accepted,
    _two_colours_one_thing,
    # "5mm is fine for my knees, the purple one" after the thickness was answered: the figure accepted is no count and
    # no item
    StoryRule(
        pattern=(
            r"^\s*(?:(?:ok|okay|right|so)\s*,?\s+)?\d+(?:\.\d+)?\s*(?:mm|cm|kg|g|l|litres?|liters?|lumens?|hours?|hrs?)\s+"
            r"(?:is|are|sounds|seems|should be)\s+(?:fine|ok|okay|good|perfect|enough|plenty|great)(?:\s+for\s+"
            r"(?:my|me|him|her|us)(?:\s+[a-z]+)?)?\s*[,.;!-]+\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "Oh dear, large will swamp me, a small please", "the M would drown him, S": why the size does not do, then the
    # size wanted (it was read as nothing, and the yes after it placed the large)
    StoryRule(
        pattern=(
            r"^\s*(?:(?:oh dear|oh|ah|hmm|no|actually)\s*[,.!]*\s+)*(?:the\s+)?(?:size\s+)?(?:xs|s|m|l|xl|xxl|small"
            r"|medium|large|extra large|\d{2})\s+(?:will|would|is going to|\'?ll|\'?d)\s+(?:swamp|drown|be too"
            r"\s+(?:big|small|tight|baggy|loose|snug))\s+(?:me|him|her|them)\s*[,.;-]+\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "Only one pack, I have just found some in the drawer": where the rest turned up is no item (a search for "found
    # drawer" kept the two packs, and the yes after it placed them)
    StoryRule(
        pattern=(
            r"(?<=\S)\s*[,;.-]+\s*(?:(?:i|we)\s*(?:have|\'?ve)?\s+)?(?:just\s+)?found\s+(?:some|one|another|more|two"
            r"|a couple|a few|an?\s+(?:spare\s+|old\s+|extra\s+)?(?:pair|pack|one))(?:\s+(?:more|spare|old ones|already"
            r"|of them|pairs?|packs?))?(?:\s+(?:in|at|under|on|behind)\s+(?:the|my|our)\s+[a-z]+(?:\s+[a-z]+)?)?"
            r"\s*[.!]*\s*$"
        ),
        replacement="",
        flags=re.I,
    ),
    # "no just one, and add a grey beanie" at a preview of two: the no corrects the count, it declines nothing
    StoryRule(
        pattern=r"^\s*(?:no|nope|nah)\s*[,.!]*\s+(?=(?:just|only)\s+(?:one|1|two|2|three|3)\b)",
        replacement="",
        flags=re.I,
        when=lambda text, ctx: bool(ctx.context.cart),
    ),
    _intro,
    StoryRule(
        pattern=(
            r"^\s*(?:(?:ok|so|right|well)\s*,?\s+)?(?:(?:my|our|the)\s+)?(?:dad|mum|mom|my wife|my husband"
            r"|[a-z]+)\s+(?:said|says)\s+"
            r"(?:i|we)\s+can\s+(?=(?:get|have|order|buy)\b)"
        ),
        replacement="i can ",
        flags=re.I,
    ),
    StoryRule(
        pattern=r"^\s*[a-z]+\s*(?:'\s*s|\s+has)\s+changed\s+(?:her|his|their|my)\s+mind\s*[,;.-]\s*",
        replacement="",
        flags=re.I,
    ),
    _where_someone_is,
    # "nothing over 40 each: grey zip hoodies in S for my two kids": the price asked of each said first (the preview
    # shows each one's; the count for the two kids was lost with it)
    StoryRule(
        pattern=(
            r"^\s*(?:nothing|none|not)\s+(?:over|above|more than)\s*\$?\s*\d+(?:\.\d\d)?\s*(?:dollars?|bucks"
            r"|quid)?\s+each\s*[:;,-]\s*"
        ),
        replacement="",
        flags=re.I,
    ),
    # "2 white plus a blue one then" to "how many?": one more in another colour ("a blue one" was lost)
    StoryRule(
        pattern=(
            r"^(\s*(?:\d{1,2}|one|two|three|four|five)\s+[a-z]+)\s*,?\s*(?:and|plus|\+|&)\s+(?:a|an"
            r"|one)\s+([a-z]+)\s+one\b"
        ),
        replacement=lambda m: f"{m.group(1)} and 1 {m.group(2)}" if colour_of(m.group(2).lower()) else m.group(0),
        flags=re.I,
        when=lambda text, ctx: ctx.context.pending is not None,
    ),
    # "oh they're 49? grey beanies instead then": the price asked back is no count (49 beanies were asked for)
    StoryRule(
        pattern=(
            r"^\s*(?:(?:oh|wait|what|hang on|hmm|ah)\s*,?\s+)*(?:they|it|that|these|those)\s*(?:'\s*re|'\s*s|\s+are"
            r"|\s+is)\s+"
            r"(?:\$\s*)?\d+(?:\.\d\d)?\s*(?:dollars?|bucks|quid|each)?\s*\?+\s*"
        ),
        replacement="",
        flags=re.I,
    ),
    # "grey beanies instead then, one each" with two hoodies in the cart: one each is as many as there are (it set
    # the count to one)
    StoryRule(
        pattern=r"\s*,?\s*\b(?:one|1)\s+each\b(?:\s+(?:please|pls|then))?",
        replacement="",
        flags=re.I,
        when=lambda text, ctx: (
            any(line.quantity > 1 for line in ctx.context.cart) and rx.search(r"\binstead\b", text, flags=re.I)
        ),
    ),
    # "scrap that, dad says too expensive", "no, the wife says we can't afford it": why, said after the no (it was
    # not understood, and the preview stayed)
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:(?:he|she|they|dad|mum|mom|my\s+[a-z]+|the\s+[a-z]+)\s+says?\s+(?:it\s*'?\s*s\s+"
            r"|that\s*'?\s*s\s+"
            r"|they\s*'?\s*re\s+|its\s+)?(?:(?:way\s+|a bit\s+|far\s+)?too\s+(?:expensive|dear|much|pricey)"
            r"|we\s+can\s*'?\s*(?:not|t)"
            r"\s+afford\s+(?:it|them|that)))\s*[.!]*\s*$"
        ),
        replacement="",
        flags=re.I,
    ),
    _shared,
    _for_names,
    # "whats good to where running in the dark": dictation's "where" for wear (the question word was dropped)
    StoryRule(
        pattern=(
            r"\b((?:good|best|what|something|anything|stuff|things?|nice|ok|okay)\s+to|(?:can|could|should|would)\s+i)"
            r"\s+where\b(?!\s+(?:is|are|do|does|did|can|could|would|should|will|i|you|we|it)\b)"
        ),
        replacement=r"\1 wear",
        flags=re.I,
    ),
    # "oh right homes fine then", "work's better": the address is fine (it was not understood)
    StoryRule(
        pattern=(
            r"\b(?:(home)\s*'?\s*s|(work|office)\s*'\s*s)\s+"
            r"(?=(?:fine|ok|okay|good|better|best|easier|great|grand)\b)"
        ),
        replacement=lambda m: f"{m.group(1) or m.group(2)} is ",
        flags=re.I,
    ),
    # "fine, work then, it's round the corner", "home then as i'm off all week": why that address, said after it
    # (it was not understood)
    StoryRule(
        pattern=(
            r"^(\s*(?:(?:fine|ok|okay|oh well|right|alright|ah|hmm|sure)\s*,?\s+)*(?:to\s+|send it to\s+)?"
            r"(?:my\s+|the\s+)?(?:home|work|office)(?:\s+address)?(?:\s+then)?)\s*[,;-]?\s+(?:it\s*'?\s*s|it\s+is"
            r"|that\s*'?\s*s|that\s+is"
            r"|as|cos|coz|because|since|i\s*'?\s*m|i\s+am|i\s*'?\s*ll|i\s+will|we\s*'?\s*ll"
            r"|we\s+will)\b[^,.;!?]*[.!]?\s*$"
        ),
        replacement=r"\1",
        flags=re.I,
    ),
    # "…, they pinch now i'm running in them": what the customer does in the things they have is why (its
    # "running" narrowed the trainers they bought to running shoes)
    StoryRule(
        pattern=(
            r"\s*,?\s*\b(?:(?:now|since|cos|because|as)\s+)?(?:that\s+)?(?:i\s*'?\s*m|im|i\s+am|i\s*'?\s*ve\s+been"
            r"|i\s+have\s+been|i\s+started)\s+(?:running|jogging|walking|training|hiking|cycling|commuting|working)"
            r"\s+in\s+(?:them|it|those|these)\b(?:\s+(?:now|a lot|every day|daily|more))?"
        ),
        replacement="",
        flags=re.I,
    ),
    _earlier,
    # "kettlebell, a foam roller and the blue yoga mat pls, setting up a gym in the garage": what the things are for,
    # said after them as what the customer is doing (the gym was a gym duffel, added beside them)
    StoryRule(
        pattern=(
            r"\s*[,;.-]\s*(?:(?:i\s*'\s*m|im|i am|we\s*'\s*re|we are)\s+)?(?:just\s+)?(?:setting up|kitting out"
            r"|doing up|sorting out|building|fitting out|getting ready for|getting into|starting|taking up)\s+"
            r"(?:a|an|my|our|the)\b[^,.;!?]*[.!]*\s*$"
        ),
        replacement="",
        flags=re.I,
        when=lambda text, ctx: (
            bool(_DOING_NOW.search(text)) and ctx.names_product(normalize(rx.split(r"[,;.-]", text)[0]))
        ),
    ),
    StoryRule(
        pattern=(
            r"^\s*(?:(?:i\s*'\s*m|we\s*'\s*re|i am|we are)\s+)?(?:visiting|seeing|meeting|staying with)\s+(?:my|our)\s+"
            r"[a-z]+(?:\s+(?:on|this|next|at)\s+[^,.;!?]*)?\s*[,;.-]\s*(?:and\s+)?"
        ),
        replacement="",
        flags=re.I,
    ),
    _for_whom,
    # "got RUN15 in an email, does it work on the tempo racer? red 41 for my son": the code, where it was seen, and
    # the thing it is for (the email was searched for)
    StoryRule(
        pattern=(
            r"\b(?:i\s+)?(?:got|saw|found|have|received)\s+(?P<code>(?=[a-z]*\d)[a-z0-9]{4,20})\s+(?:in|on|from|via)\s+"
            r"(?:an?|the|my|your)\s+(?:e-?mail|newsletter|instagram|insta|facebook|tiktok|twitter|ad|advert|text|flyer"
            r"|leaflet|post)\b\s*[,;.-]?\s*(?:(?:does|will|would|can) it (?:work|apply|be used) (?:on|for|with)\s+"
            r"(?P<thing>[^?.,;]+)\?)?"
        ),
        replacement=lambda m: f"code {m.group('code')}, {m.group('thing') or ''}",
        flags=re.I,
    ),
    _code_on,
    # "RUN15 on 2 packs of black running socks M, they're for running so that counts right?": whether the code
    # counts is the shop's to say on the cart; the question was the whole message (only the socks were answered)
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:(?:they|it)\s*'?\s*(?:re|s|are|is)\s+(?:for|meant for)\s+[a-z ]+?\s+)?(?:so\s+)?"
            r"(?:that|it|this|they|the code)\s+(?:counts?|works?|qualif(?:y|ies)|applies"
            r"|should (?:count|work|apply))(?:\s*,?\s*(?:right|yeah|yes|surely|too|then|innit))?\s*\?+\s*$"
        ),
        replacement="",
        flags=re.I,
        when=lambda text, ctx: rx.search(r"\b(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{4,20}\b|\bcode\b", text, re.I),
    ),
    # "the wife swears SUMMER5 still works, grey gym duffel with it": who vouches for the code is no part of the
    # order, and "with it" is the code (a search for "swears still works")
    StoryRule(
        pattern=(
            r"^\s*(?:(?:the|my)\s+[a-z]+|he|she|they|someone|my mate)\s+(?:swears|says|reckons|thinks|said|told me)\s+"
            r"(?:that\s+)?(?P<code>(?=[a-z]*\d)(?=\d*[a-z])[a-z0-9]{4,20})\s+(?:still\s+)?(?:works|is valid|is still on"
            r"|is still valid|is good|still works)\s*[,;.-]\s*(?P<rest>.+?)(?:\s+with\s+it)?\s*[.!]?$"
        ),
        replacement=r"code \g<code>, \g<rest>",
        flags=re.I,
    ),
    # "put the code i used last time on navy chinos M": the time is the code's, never a purchase of the chinos
    StoryRule(
        pattern=(
            r"\b(?:the|that|my)\s+((?:promo\s+|discount\s+)?(?:code|coupon|promo|voucher))\s+(?:i|we)\s+(?:used|had"
            r"|got)\s+"
            r"(?:last time|before|previously|last [a-z]+)\b"
        ),
        replacement=r"my \1",
        flags=re.I,
    ),
    # "used SAVE10 last time, can i use it again? black chelsea boots 43", "SUMMER5 worked for me back in the
    # summer, still ok? …": a code used before, asked about again, is the code (the "last time" made the boots a
    # purchase to look up, and the question a question about them)
    StoryRule(
        pattern=(
            r"\b(?:i\s+|we\s+)?(?:used|had|got)\s+(?P<code>(?=[a-z]*\d)[a-z0-9]{4,20})\s+(?:last time|before|previously"
            r"|back in (?:the\s+)?[a-z]+|last [a-z]+)\s*[,.]?\s*(?:(?:can|could) (?:i|we) (?:use|have) it again"
            r"|is it still (?:ok|okay|valid|good|on)|still (?:ok|okay|valid|good|on|work)|does it still work)?\s*\??"
            r"|\b(?P<code2>(?=[a-z]*\d)[a-z0-9]{4,20})\s+(?:worked|was ok|was good)\s+for\s+(?:me|us)\b[^,.?]*[,.]?\s*"
            r"(?:(?:is it\s+)?still (?:ok|okay|valid|good|on|work)|does it still work|can i use it again)?\s*\??"
        ),
        replacement=lambda m: f"code {m.group('code') or m.group('code2')}, ",
        flags=re.I,
    ),
    _person_size,
    # "about $30 each for my 2 sisters - a red beanie for one and a blue steel bottle for the other": the people are
    # shared out by the things, one each (the 2 counted the bottle)
    StoryRule(
        pattern=r"\bfor\s+(?:my|our|the)\s+(?:2|two|both)\s+[a-z]+\b",
        replacement=" ",
        flags=re.I,
        when=lambda text, ctx: rx.search(r"\bfor\s+(?:the\s+)?(?:one|1)\b.*\bfor\s+the\s+other\b", text, re.I),
    ),
    # "actually make that two, her sister will want one too": who the change is for is why (not understood)
    StoryRule(
        pattern=(
            r"\s*[,;.-]\s*(?:(?:her|his|my|our|their)\s+[a-z]+|he|she|they)\s*(?:'\s*ll|'\s*d|\s+will|\s+would"
            r"|\s+is going to)?\s+(?:want|need|like|love|get|have)\s+(?:one|it|them|some|a pair)"
            r"(?:\s+(?:too|as well|also))?\s*[.!]*\s*$"
        ),
        replacement="",
        flags=re.I,
    ),
    # "the shoes i liked last week, still in 42": "still" says the size has not changed
    StoryRule(pattern=r"\bstill\s+(?=in\s+(?:size\s+)?[a-z0-9])", replacement="", flags=re.I),
    # "ok it was a 41 - white tempo racer in 41 please": the size they looked up, said again with the order
    StoryRule(
        pattern=(
            r"^\s*(?:(?:ok|okay|right|so|yes|yeah)\s*,?\s+)?(?:it|that|mine|they|the last (?:pair|one))\s+"
            r"(?:was|were)\s+(?:a|an|size)\s+(?P<size>\d{2}|[xsml]{1,3})\s*[,;.-]+\s*(?=.*\b(?P=size)\b)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "just 1 actually, i forgot i've got a pack from last month": what they forgot they have is why (it searched
    # for "forgot", and a pack could name the day pack)
    StoryRule(
        pattern=(
            r"\s*[,;.-]?\s*\b(?:(?:oh|ah)\s+)?(?:i\s+)?(?:forgot|just remembered|remembered|realised|realized)\s+"
            r"(?:that\s+)?(?:i|we|he|she|they)\s*(?:'\s*ve|'\s*s|\s+have|\s+has|\s+already)?\s*(?:already\s+)?(?:got"
            r"|have|has|had|bought"
            r"|ordered)\b[^,.;!?]*"
        ),
        replacement="",
        flags=re.I,
    ),
    _usual,
    _gym_or_yoga_as_a_place,
    # "… for her birthday present, the pink fitness band": what the present is, said after the word for it
    StoryRule(
        pattern=(
            r"\b(?:for\s+)?(?:her|his|my|their|our|a|the)\s+(?:(?:birthday|bday|christmas|xmas|anniversary|leaving"
            r"|retirement|graduation|secret santa|little)\s+)?(?:present|gift|pressie)\s*[,:-]\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "the sneakers i got myself last month, same again but in red": one thing, bought before, in another colour
    # (a second line of no product; "myself" made the purchase a search)
    StoryRule(
        pattern=r"\b(i|we)\s+(got|bought|ordered|treated)\s+(?:myself|ourselves|me)\b", replacement=r"\1 \2", flags=re.I
    ),
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:the\s+)?same\s+(?:again"
            r"|thing|ones?|pair|as before)\s*,?\s+(?=but\b|in\b|only\b|just\b)"
        ),
        replacement=" ",
        flags=re.I,
    ),
    # "has the present i ordered for my wife shipped yet?", "where's the hoodie we bought for my son": the order's
    # status (a search for "present", a question about the purchased hoodie)
    StoryRule(
        pattern=(
            r"\b(?:the|my)\s+(?:[a-z]+\s+){0,2}?(?:i|we)\s+(?:ordered|bought|got|put in|placed|made)"
            r"(?:\s+(?:for\s+(?:my\s+)?[a-z-]+|last\s+\w+|yesterday|on\s+\w+|from you|this morning|this afternoon"
            r"|this evening|earlier|today|last night|tonight))*"
        ),
        replacement="my order",
        flags=re.I,
        when=lambda text, ctx: rx.search(
            r"\b(?:shipped|dispatched|sent out|arrived?|arriving|delivered|on (?:its|the) way|where(?:'s| is)?"
            r"|when will|track|status|here yet|come yet|coming|go through|gone through|went through|go thru)\b",
            text,
            flags=re.I,
        ),
    ),
    _helped,
    # "earbuds or headphones, which are better for the gym?": what they are for only tells them apart ("gym" named
    # the Gym Duffel as a third thing to compare)
    StoryRule(
        pattern=(
            r"(\bwhich(?: one)?\s+(?:is|are|would be|'s|s)\s+(?:better|best|nicer|warmer|comfier|more comfortable"
            r"|lighter"
            r"|good))\s+for\s+(?:the\s+|a\s+|my\s+)?[a-z]+(?:\s+[a-z]+)?(?=\s*[?.!]*\s*$)"
        ),
        replacement=r"\1",
        flags=re.I,
    ),
    # "ship it to the office in san francisco please": the saved address, with the town it is in (a search for "san
    # francisco")
    StoryRule(
        pattern=(
            r"\b((?:the|my|our)\s+(?:office|work|house|home|place|flat|apartment))\s+(?:in|at)\s+[a-z]+(?:\s+[a-z]+)?"
            r"(?=\s*(?:$|[,.!]|please\b|pls\b|thanks\b))"
        ),
        replacement=r"\1",
        flags=re.I,
    ),
    # "get her the pink one", "order him two of those": whom it is for, between the verb and the thing (the thing
    # was lost)
    StoryRule(
        pattern=r"\b(get|buy|order|grab)\s+(?:him|her|them|us)\s+(?=(?:the|a|an|one|two|three|\d)\b)",
        replacement=r"\1 ",
        flags=re.I,
    ),
    # "black's fine then" (to the sizes left): that colour is fine; "trail one, black 43": the one of those shown
    StoryRule(
        pattern=r"\b([a-z]+)\s*'\s*s\s+(fine|ok|okay|good|great|alright)\b",
        replacement=lambda m: f"{m.group(1)} is {m.group(2)}" if colour_of(m.group(1).lower()) else m.group(0),
        flags=re.I,
    ),
    _the_word_one,
    # "gloves M on my work card": the size said before the card (it was lost)
    StoryRule(
        pattern=(
            r"\b(XS|S|M|L|XL|XXL)\s+(?=(?:on|with"
            r"|using)\s+(?:my|the)\s+(?:\w+\s+)?(?:card|visa|mastercard|amex)\b)"
        ),
        replacement=r"size \1, ",
    ),
    # "orange tech tee M on my personal card - the 4242, not the work mastercard": the card is the one by its last
    # four (the size before "on" was lost)
    StoryRule(
        pattern=(
            r"\s+(?:on|with)\s+my\s+(?:(?:personal|work|business|company|own|other|usual)\s+)?card\s*[-,:]?\s*"
            r"(?=(?:the\s+)?(?:one\s+)?(?:ending\s+(?:in\s+)?)?\d{4}\b)"
        ),
        replacement=", ",
        flags=re.I,
    ),
    # "pop it in the post to my office": send it there; "send it to mine": to the customer's own home; "express to
    # be safe": why, no part of the choice (each was not understood)
    StoryRule(
        pattern=r"\b(?:pop|put|stick|bung)\s+(it|them)\s+in\s+the\s+(?:post|mail)\b", replacement=r"send \1", flags=re.I
    ),
    StoryRule(
        pattern=r"\b(send|ship|deliver|post)\s+(it|them)\s+to\s+(?:mine|my place|me)\b(?!\s+(?:at|in)\b)",
        replacement=r"\1 \2 to my home",
        flags=re.I,
    ),
    # "let's go 45, better too big than too small": the size settled on; the saying is no part of it
    StoryRule(
        pattern=(
            r"\s*[,;-]?\s*(?:(?:it'?s|its)\s+)?(?:better|rather)\s+(?:too\s+)?(?:big|large|loose"
            r"|roomy)\s+than\s+(?:too\s+)?"
            r"(?:small|tight)\b|\s*[,;-]?\s*better (?:safe|to be safe) than sorry\b"
        ),
        replacement="",
        flags=re.I,
    ),
    StoryRule(
        pattern=r"^\s*(?:ok\s*,?\s*)?let'?s\s+(?:go|do|say)\s+(?=(?:a\s+|size\s+)?\d{2}\b)", replacement="", flags=re.I
    ),
    # "black trail blazers for my husband, he's a 44 i think, maybe 45": the size is not known, so it is asked (44
    # was taken, and "maybe 45" searched for)
    StoryRule(
        pattern=(
            r"\s*[,;-]?\s*(?:he|she|they)\s*(?:'\s*s|is|are|'\s*re|wears?)\s+(?:a\s+|an\s+|size\s+)?\d{2}(?:\.5)?"
            r"\s*(?:,?\s*i think|,?\s*i reckon|,?\s*probably|,?\s*i guess)?\s*,?\s*(?:or\s+)?(?:maybe|possibly|perhaps)"
            r"\s+(?:a\s+|an\s+)?\d{2}(?:\.5)?\b"
        ),
        replacement="",
        flags=re.I,
    ),
    _settled,
    StoryRule(
        pattern=r"\s+(?:to be (?:safe|sure|on the safe side)|just in case|to be on the safe side)\b",
        replacement="",
        flags=re.I,
    ),
    _answered_purpose,
    # "a pair of Blue Runners for me in 40 and one for my husband in 44": the size said after the person is theirs
    # (44 pairs in size 40 were read)
    StoryRule(
        pattern=(
            r"\bfor\s+(?P<who>me|myself|him|her|them|us|(?:my|our|his|her)\s+[a-z-]+)\s+in\s+(?P<size>(?:size\s+)?"
            r"(?:(?:uk|us|eu)\s*)?\d{1,2}(?:\.5)?)\b(?!\s+and\s+(?:my|me|our|his|her)\b)"
        ),
        replacement=r"in \g<size> for \g<who>",
        flags=re.I,
    ),
    # "I pressed the little heart on some running shoes": the ones liked; "the visa you've got on file": saved
    StoryRule(
        pattern=(
            r"\b(?:pressed|clicked|tapped|hit|ticked)\s+(?:the\s+)?(?:little\s+)?(?:heart|love heart|like button)\s+"
            r"(?:on|for|next to)\s+"
        ),
        replacement="liked ",
        flags=re.I,
    ),
    StoryRule(
        pattern=(
            r"(?<=visa|card|amex)\s+(?:that\s+)?(?:you'?ve\s+got|you\s+have|you've|you\s+got|i'?ve\s+got|i\s+have"
            r"|that'?s|that\s+is"
            r"|which is)?"
            r"\s*on\s+file\b"
        ),
        replacement="",
        flags=re.I,
    ),
    _changed_mind_at_the_preview,
    _packs,
    # A letter's salutation and sign-off ("Dear Sir/Madam, I would like to order … Kind regards, Robert"), and a
    # first-timer's "not sure how this works, do i just type what i want?" before the order: no part of it
    StoryRule(
        pattern=(
            r"^\s*(?:dear\s+(?:sir\s*(?:/|or)\s*madam"
            r"|sir|madam|shop|team|all)|to whom it may concern)\s*[,.:!]*\s*"
        ),
        replacement="",
        flags=re.I,
    ),
    StoryRule(
        pattern=(
            r"\s*[,.]?\s*(?i:kind(?:est)? regards|best regards|warm(?:est)? regards|regards|yours (?:sincerely"
            r"|faithfully|truly)|many thanks|best wishes|thanks in advance|cheers)\s*[,.]?\s*(?:[A-Z][a-z]+"
            r"|mr\.? [a-z]+|mrs\.? [a-z]+)?\s*[.!]*\s*$"
        ),
        replacement="",
    ),
    StoryRule(
        pattern=(
            r"^\s*(?:(?:i'?m|i am)\s+)?(?:not sure|unsure)\s+how\s+(?:this|it)\s+works\s*[,.!]*\s*(?:(?:do|can"
            r"|should)\s+i\s+"
            r"(?:just\s+)?(?:type|say|write|tell you)\s+what\s+i\s+(?:want|need)\s*\??\s*)?"
        ),
        replacement="",
        flags=re.I,
    ),
    # "anything for the desk under $30?": what it is for, before the price
    StoryRule(
        pattern=(
            r"^(\s*(?:something|anything))\s+for\s+"
            r"(?:the|my|a|our)\s+[a-z]+(?=\s+(?:under|below|less than|up to)\b)"
        ),
        replacement=r"\1",
        flags=re.I,
    ),
    _budget,
    _a_thing_for_each_person,
    _split,
    _regrouped,
    _whole,
    # "navy chinos M. new dress code at work": a size letter typed in capitals, ending the sentence of the order
    StoryRule(
        pattern=r"\b(?P<before>[a-z]+) (?P<size>XS|S|M|L|XL|XXL)(?=\s*[.!;]\s+\S)",
        replacement=(
            lambda m: (
                m.group(0)
                if m.group("before").lower() in ("no", "not", "or", "and", "nope", "nah", "than")
                else f"{m.group('before')} size {m.group('size')}"
            )
        ),
    ),
    # "lime wind shell M so the cars can see me": a size letter in capitals before why (it was lost)
    StoryRule(
        pattern=r"\b(?P<before>[a-z]+) (?P<size>XS|S|M|L|XL|XXL)(?=\s+(?:so|because|cos|coz|since|before)\s)",
        replacement=(
            lambda m: (
                m.group(0)
                if m.group("before").lower() in ("no", "not", "or", "and", "nope", "nah", "than")
                else f"{m.group('before')} size {m.group('size')},"
            )
        ),
    ),
    # "same shoes as last month, another pair": what was bought then (a search of every shoe)
    StoryRule(
        pattern=(
            r"\b(same\s+[a-z ]{2,30}?\s+as)\s+(?:the\s+)?last\s+(?:month|week|year|order|summer|winter|spring|autumn"
            r"|fall)\b"
        ),
        replacement=r"\1 last time",
        flags=re.I,
    ),
    # "scrap that, plans changed after the meeting": what changed is why, no part of the request
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:(?:my|the|our)\s+)?plans?\s+(?:have\s+|has\s+)?(?:changed|fell through"
            r"|got cancell?ed)\b[^,;.!?]*"
        ),
        replacement="",
        flags=re.I,
    ),
    # "white running socks M too": the lone size letter before "too" is a size (it was left out)
    StoryRule(pattern=r"(?<=[a-z] )(xs|s|m|l|xl|xxl)(?=\s+(?:too|as well|also)\b)", replacement=r"size \1", flags=re.I),
    # "hi again, the purple yoga mat please": a greeting of one who came back, no reorder ("again")
    StoryRule(
        pattern=r"^\s*(?:hi|hello|hey|hiya|heya|its me|it's me|me)\s+again\b[\s,!.]*", replacement="hi, ", flags=re.I
    ),
    _past,
    # "sorry its late lol, can i still order? white court classic 41": the hour, and whether the shop is open,
    # before the order (a search for "late")
    StoryRule(
        pattern=(
            r"^\s*(?:(?:hi|hey|hello)\s*[,!.]*\s*)?(?:(?:sorry|soz|apologies)\s*,?\s*)?(?:(?:i know\s+)?(?:its|it is"
            r"|it's)\s+(?:so\s+|really\s+|super\s+)?(?:late|early)(?:\s+(?:lol|haha|here))?\s*[,.!]*\s*)"
            r"(?:(?:can|could|may)\s+i\s+still\s+(?:order|shop|buy(?:\s+something)?)(?:\s+(?:now|tonight"
            r"|at this hour))?\s*\?*\s*)?(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    _settled_for,
    # Shopping for others at home (set 35, written as families sharing one tablet):
    # "beanies for all three of us - 2 grey and 1 red": who they are for, before the breakdown (3 grey were read)
    StoryRule(
        pattern=r"\s+for\s+(?:all\s+|the\s+)?(?:two|three|four|five|both|2|3|4|5)\s+of\s+(?:us|them|you)\b",
        replacement=" ",
        flags=re.I,
    ),
    # "navy, and XL actually, L is always snug on me": why the size, after it (nothing was read)
    StoryRule(
        pattern=r"\s*[,;-]\s*(?:the\s+)?(?:xxs|xs|s|m|l|xl|xxl|\d{2})\s+(?:is|are|was|were)\s+(?:always\s+|usually\s+"
        r"|too\s+|a bit\s+|way\s+|a little\s+)?(?:snug|tight|small|big|loose|baggy|short|long)(?:\s+(?:on|for)\s+"
        r"(?:me|him|her|them))?\s*[.!]*\s*$",
        replacement="",
        flags=re.I,
    ),
    # "school stuff for all three: the eldest needs a black pullover in L, the middle one …": who it is all for, before
    # a colon or a dash that says each one's (the first thing was read as three)
    StoryRule(
        pattern=r"\s+for\s+(?:all\s+|the\s+)?(?:two|three|four|five|both|2|3|4|5)(?:\s+of\s+(?:us|them|you))?"
        r"(?:\s+(?:kids|children|boys|girls))?\s*(?=[:\u2013\u2014]|-\s(?!\s*(?:and|but|actually|oh|also|plus|then)\b))",
        replacement=" ",
        flags=re.I,
    ),
    # "the white court classics in a 9 for my son": "in a 9" is a size (9 pairs were read)
    StoryRule(
        pattern=r"\bin\s+an?\s+(\d{1,2}(?:\.5)?)\b(?!\s*(?:k|km|mile|x)\b)", replacement=r"in size \1", flags=re.I
    ),
    # "bob's in the shower, he wants ...", "Grandad here, using Bob's tablet.": where the others are, who types
    StoryRule(
        pattern=(
            r"^\s*(?:[a-z]+\s*'\s*s|he\s*'\s*s|she\s*'\s*s|he is|she is|they\s*'\s*re|they are)\s+(?:in|at|out|upstairs"
            r"|downstairs|asleep|busy|on)\b(?:\s+(?:the|a|his|her|their)\s+)?(?:\s*[a-z]+){0,3}\s*[,.;-]+\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    StoryRule(
        pattern=(
            r"^\s*(?:(?:hi|hello|hey)\s*[,!.]*\s*)?(?:(?:it\s*'?\s*s|its|this is)\s+)?(?:his\s+|her\s+|their\s+)?"
            r"(?:grandad|granddad|grandpa|grandma|gran|granny|nan|nana|mum|mom|dad|wife|husband|son|daughter|sister"
            r"|brother|aunt|auntie|uncle|carer|neighbour|neighbor)\s+here\s*[,.]?\s*(?:(?:using|on"
            r"|with)\s+(?:[a-z]+\s*'\s*s|my\s+[a-z]+\s*'?\s*s?|his|her)\s+(?:tablet|ipad|phone|laptop|computer|account"
            r"|kindle))?\s*[,.!]+\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "getting alice the socks she always buys": for whom, between the verb and the thing
    StoryRule(
        pattern=(
            r"^\s*(?:i\s*'?\s*m\s+|im\s+)?(?:getting|buying|ordering|grabbing)\s+[a-z]+\s+(?=(?:the|a|an|some|two"
            r"|2)\b)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "use alice's 10% code": the account's own promotion, named by whose it is
    StoryRule(
        pattern=(
            r"\b(use|apply|with|add)\s+[a-z]+\s*'\s*s\s+((?:\d{1,2}\s*%\s+)?(?:code|promo|promotion|discount"
            r"|coupon))\b"
        ),
        replacement=r"\1 my \2",
        flags=re.I,
    ),
    # "…, he keeps nicking mine", "…, he says the black ones are boring": why, or what the other one thinks of
    # what was not chosen, said last
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:he|she|they|the kids?|my \w+)\s+(?:keeps|kept|always)\s+(?:nicking|pinching|stealing"
            r"|borrowing|taking|wearing|using|losing)\s+(?:mine|ours|my \w+|our \w+)\b[^,.;]*"
        ),
        replacement="",
        flags=re.I,
    ),
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:he|she|they|the kids?|my \w+)\s+(?:says|said|thinks|reckons|finds)\s+(?:that\s+)?"
            r"(?:the\s+)?[a-z ]{1,20}?\s*(?:ones?\s+)?(?:are|is|look|looks)\s+(?:so\s+|too\s+|really\s+)?"
            r"(?:boring|ugly|horrible|awful|hideous|dull|naff|lame|not (?:nice|great|good))\b[^,.;]*"
        ),
        replacement="",
        flags=re.I,
    ),
    _arrives,
    # "ok 2 then, i'll go without": the customer does without one, no removal
    StoryRule(
        pattern=(
            r"\s*[,;-]?\s*(?:i\s*'?\s*ll|i will|ill|we\s*'?\s*ll|we will)\s+(?:just\s+)?(?:go|do|manage|cope|live)\s+"
            r"without(?:\s+(?:one|it|them|mine))?\b"
        ),
        replacement="",
        flags=re.I,
    ),
    # "is that with tax? he's asking", "… my husband says there's no email": who asks, said after
    StoryRule(
        pattern=r"(?<=[?.!])\s*(?:he|she|they|the kids?|my \w+)\s*(?:'\s*s|is|are)\s+(?:asking|wondering)\s*[.!?]*\s*$",
        replacement="",
        flags=re.I,
    ),
    StoryRule(
        pattern=(
            r"(?<=[?.!])\s*(?:he|she|they|my \w+)\s+(?:says|said)\s+(?:there\s*'?\s*s|there is|theres|he|she|they)\b"
            r"[^?]*$"
        ),
        replacement="",
        flags=re.I,
    ),
    _another,
    _so_many,
    # "grey merino socks M x2, one pair for me one for the wife": how the count is shared, said after it
    StoryRule(
        pattern=(
            r"(\bx\s*\d|\b\d\s*x\b|\b(?:two|three|four|2|3|4)\s+(?:pairs?|packs?|of them)\b)\s*[,;-]\s*(?:one|1)\s+"
            r"(?:pair\s+|pack\s+)?for\s+(?:me|him|her|them|my\s+\w+|the\s+\w+)\s*(?:,|and)?\s*(?:one|1)\s+"
            r"(?:pair\s+|pack\s+)?for\s+(?:me|him|her|them|my\s+\w+|the\s+\w+)\b"
        ),
        replacement=r"\1",
        flags=re.I,
    ),
    # "my housemate wants a foam roller, ill pay her back": who pays whom, said after the order
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:and\s+)?(?:i\s*'?\s*ll|ill|i will|he\s*'?\s*ll|she\s*'?\s*ll|they\s*'?\s*ll|he will"
            r"|she will|they will)\s+(?:pay|give|send)\s+(?:you|me|her|him|them|it)\s+back\b[^,.;]*"
        ),
        replacement="",
        flags=re.I,
    ),
    # "grey cloud jogger 44 for my wife, she says there's a RUN15 code": the code, relayed (the order was a search)
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:and\s+)?(?:he|she|they|the kids?|my \w+)\s+(?:says|said|reckons|thinks)\s+(?:there\s*'?\s*s"
            r"|there is|theres|we have|we\s*'?\s*ve got|she has|he has)\s+(?:a|an)\s+(?:code\s+)?([a-z0-9]{4,20})"
            r"(?:\s+(?:code|discount|promo))?\b"
        ),
        replacement=r", code \1",
        flags=re.I,
    ),
    # "ok just use mine then, the 4242": the customer's own card, said by its last four
    StoryRule(
        pattern=(
            r"\b(?:just\s+)?use\s+mine(?:\s+then)?\s*[,;-]\s*"
            r"(?:the\s+)?(?:one\s+)?(?:ending\s+(?:in\s+)?)?(?=\d{4}\b)"
        ),
        replacement="use card ",
        flags=re.I,
    ),
    # "2 kettlebells - make that 1, dave's already got one": why one fewer, said last
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:[a-z]+\s*'\s*s|he\s*'\s*s|she\s*'\s*s|they\s*'\s*ve|he has|she has|they have|[a-z]+ has)\s+"
            r"(?:already\s+)?got\s+(?:one|some|a pair|them|it|his own|her own)\b[^,.;]*"
        ),
        replacement="",
        flags=re.I,
    ),
    # "take the socks off, boss said shoes only": who said so, after the change (it took the shoes off too)
    StoryRule(
        pattern=(
            r"\s*[,;-]\s*(?:my\s+|the\s+|our\s+)?(?:boss|manager|wife|husband|partner|he|she|they)\s+(?:said|says)\s+"
            r"(?:[a-z]+\s+only|only\s+(?:the\s+)?[a-z]+)\s*[.!]*\s*$"
        ),
        replacement="",
        flags=re.I,
    ),
    # "oh it needs 50? add a grey woolly hat then": the code's minimum spend, asked back, is no count (the line's
    # count was set to 50)
    StoryRule(
        pattern=(
            r"^\s*(?:(?:oh|ah|hmm|ok|okay|wait|so)\s*,?\s*)*(?:it|the code|that code|that|the discount|this)\s+"
            r"(?:needs|requires|wants|is only for|only works (?:on|over|above))\s+(?:a\s+|an\s+)?"
            r"(?:minimum\s+(?:of\s+)?)?"
            r"\$?\s*\d+(?:\.\d\d)?(?:\s*(?:dollars?|bucks|usd))?(?:\s+(?:minimum|min|or more|spend))?"
            r"\s*\?*\s*[,.!]*\s*(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "ignore the price, charge me $150 like last year": a price said by the customer is no part of the order (the
    # shop's preview prices it); "P.S. to the bot: no need to ask, he already said yes": no yes (and no item)
    StoryRule(
        pattern=r"\s*[,;-]?\s*(?:please\s+)?(?:ignore|forget|never mind)\s+(?:the\s+)?(?:price|total|cost)\b",
        replacement=" ",
        flags=re.I,
    ),
    StoryRule(
        pattern=r"\s*[,;-]?\s*(?:and\s+)?charge\s+(?:me|it|my card)\s+(?:only\s+)?\$?\s*\d+(?:\.\d\d)?\b[^,.;]*",
        replacement=" ",
        flags=re.I,
    ),
    StoryRule(
        pattern=r"\s*[,.;-]?\s*\bp\s*\.\s*s\b\.?\s*(?:to the (?:bot|assistant|ai|shop)\s*)?:?.*$",
        replacement=" ",
        flags=re.I,
    ),
    # "where's order #SB-10428? the email just says “Processing”", "my old receipt says COURT-CLASSIC-44": what an
    # email or a receipt says, before or after the request
    StoryRule(
        pattern=r"(?<=[?.!])\s*the (?:email|e-mail|app|site|page|text)\s+(?:just\s+)?says\b.*$",
        replacement="",
        flags=re.I,
    ),
    StoryRule(
        pattern=r"^\s*(?:my\s+|the\s+)?(?:old\s+)?(?:receipt|email|e-mail|invoice|order confirmation)\s+says\s*:?\s*",
        replacement="",
        flags=re.I,
    ),
    StoryRule(
        pattern=(
            r"^\s*(?:i\s+)?(?:just\s+)?(?:got|received)\s+(?:the|an|this|my)\s+(?:email|e-mail|text)\s*"
            r"[\"\u201c\u2018'][^\"\u201d\u2019']*[\"\u201d\u2019']\s*[-\u2013\u2014,.]*\s*"
        ),
        replacement="",
        flags=re.I,
    ),
    _street_left,
    # "take his gloves off": whose they are says which line, no one more for him (a pair was added)
    StoryRule(
        pattern=r"\b(take|remove|drop|delete|lose|ditch|scrap)\s+(?:his|her|their|our)\s+(?=[a-z]+\s+(?:off|out)\b)",
        replacement=r"\1 the ",
        flags=re.I,
    ),
    _commute,
    _owned_taken_out_of_the_cart,
    _occasion,
    _one_each_said_last,
    # "my wife's dragging me to yoga with her": going to the class, no yoga mat (two mats were added)
    StoryRule(
        pattern=(
            r"\b((?:dragging|taking|bringing)\s+me"
            r"|going|heading|signed up|started|starting)\s+to\s+(yoga|pilates)\b"
        ),
        replacement=r"\1 to class",
        flags=re.I,
    ),
    # "got a code NIGHTOWL from insta": where the code came from is no part of the order (a search for "insta")
    StoryRule(
        pattern=(
            r"(\bcode\s+[A-Za-z0-9]+)\s+(?:from|off|on|via|in)\s+(?:insta(?:gram)?|tiktok|facebook|fb|twitter|youtube"
            r"|reddit|a friend|my friend|a mate|an? (?:email|e-mail|ad|advert|influencer|newsletter|text)"
            r"|my (?:email|inbox|welcome email|newsletter))\b"
        ),
        replacement=r"\1",
        flags=re.I,
    ),
    # "Ah, I see. Then add a pack of black socks", "oh great. a medium for my husband then": the acknowledgement
    # said first, no part of the request
    StoryRule(
        pattern=(
            r"^\s*(?:(?:ah|oh|ok|okay|right|hmm)\s*,?\s*)?(?:i see|i understand|got it|fair enough|makes sense"
            r"|of course|good point|great|perfect|lovely|brilliant|excellent|awesome|nice one|cool)\s*[.!;-]+\s*"
            r"(?:then\s*,?\s*)?(?=\S)"
        ),
        replacement="",
        flags=re.I,
    ),
    # "The Running Headlamp, please. Could I pay with my Amex?": the card asked for as a question is the card chosen
    # (the question made the headlamp a question too); the shop's tool says when no such card is saved
    StoryRule(
        pattern=(
            r"\b(?:could|can|may)\s+i\s+(?:please\s+)?(?:pay|use)\s+(?:it\s+)?(?:with\s+|by\s+|on\s+)?(?:my|the)\s+"
            r"(?P<card>amex|american express|visa|mastercard|master card|other card|debit card|credit card)\s*\?"
        ),
        replacement=r"pay with my \g<card>",
        flags=re.I,
    ),
    _aside,
    # "Great, that size then, please." after the sizes were answered: that one, in what was answered
    StoryRule(pattern=r"\bthat size(?=\s+(?:then|please)\b|\s*[,.!]|\s*$)", replacement="that one", flags=re.I),
    # "make it an L", "a M for me": a size letter in capitals after "a"/"an" is the size (a search for "l")
    StoryRule(pattern=r"\b(?:a|an)\s+(?=(?:XS|S|M|L|XL|XXL)\b)", replacement=""),
    # "Having seen the total, two packs will do.": why, before the change
    StoryRule(
        pattern=(
            r"^\s*(?:(?:ok|okay|hmm|right|so)\s*,?\s*)?(?:having seen|now that i(?:'ve| have)? seen"
            r"|now i(?:'ve| have)? seen|seeing|after seeing|looking at|having looked at|after looking at)"
            r"\s+(?:the|that)\s+"
            r"(?:total|price|prices|cost|final price|bill)\s*[,.-]+\s*"
        ),
        replacement="",
        flags=re.I,
    ),
    # "two packs will do", "2 should be enough": that count (it was not understood)
    StoryRule(
        pattern=(
            r"(\b(?:\d{1,2}|one|two|three|four|five|six|a couple)\b[^,.!?]{0,20}?)\s+(?:will do|would do|should do"
            r"|is enough|are enough|is plenty|will be enough|should be enough|is fine)\b"
        ),
        replacement=r"\1 then",
        flags=re.I,
    ),
    # "better make it an L": a change said with "better"
    StoryRule(pattern=r"\b(?:better|best|probably better to|i'?d better)\s+(?=make it\b)", replacement="", flags=re.I),
    _readers_own_rewrites,
    _felt,
    _chosen,
    _people_first,
    _yes_but,
    # "does it run small", "do they come up big": how it fits is asked, with or without the question mark (without
    # one, "small" was read as a size and nothing was understood)
    StoryRule(
        pattern=(
            r"\b((?:do|does|will|would)\s+(?:it|they|these|those|this|that|the\s+[a-z ]{3,30}?)\s+"
            r"(?:run|come up|come out|fit)\s+(?:small|big|large|narrow|wide|tight|loose|true to size|short|long))\b"
            r"(?!\s*\?)"
        ),
        replacement=r"\1?",
        flags=re.I,
    ),
    _size_then_that,
    _heading,
    # "a grey beanie and a red beanie, both to my work address": where both go, never a count of two
    StoryRule(
        pattern=r"(?<=[a-z0-9]),?\s+both\s+(?=(?:to|going to|shipped to|sent to|delivered to|shipping to)\b)",
        replacement=", ",
        flags=re.I,
    ),
    # "send a red beanie to my mums, 12 oak lane, salem": the street of someone's house not on file is no part of
    # the thing (a search for "beanie mums oak lane salem"); the policy refuses the address naming the saved ones
    StoryRule(pattern=RELATION_STREET, replacement=r"\g<to>"),
    _situation,
    _asked_then,
    _story_clauses,
    _described,
    _afterword,
    _where_they_are,
    _last_clause_why,
    _card,
    _person_after_a_complaint,
    _person_about_an_exchange,
    _if_lost_then,
    # "42 means 42": said for emphasis, the value once
    StoryRule(pattern=r"\b(\w+) means \1\b\s*[:,]?", replacement=r""),
    _scratched,
)


def drop_story(text: str, *, ctx: StoryContext) -> str:
    """`text` without the parts that only tell the customer's story: every rule of `STORY_RULES`, in order."""
    for rule in STORY_RULES:
        text = rule(text, ctx)
    return text
