"""Patterns the reader reads in more than one place: the story's rules (`story`) and the reader itself (`generator`).

A pattern used by one module lives in that module; one both read lives here, so neither imports the other's names.
"""

from __future__ import annotations

import re


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


# "ship to: 500 Howard Street, San Francisco, CA 94105": an address typed out, not one of the saved ones
SHIP_TO_STREET = re.compile(
    r"\s*[,;-]?\s*\b(?:ship|send|deliver|post)(?:\s+it"
    r"|\s+them)?\s+to\s*:?\s*(?P<where>\d{1,5}[a-z]?\s+(?:[a-z]+\s+){1,3}"
    r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|way|boulevard|blvd|place|pl|court|ct|close|crescent)\b\.?"
    r"(?:\s*,\s*[a-z0-9 ]+){0,3})",
    re.IGNORECASE,
)

HUMAN = _rx(
    r"\b(?:human|humans|real person|a person|actual person|live person|live agent|live chat|someone real|"
    r"real human|representative|rep|operator|customer service|customer support|customer care|support team|"
    r"support staff|support agent|an agent|the agent|human agent|real agent|a manager|your manager|the manager"
    r"|supervisor|"
    r"somebody|someone|staff member|member of staff|a real one)\b"
    r"|\bwho (?:can|could|should|do) (?:i|we) (?:speak|talk|chat) (?:to|with)\b"
    # "can i talk to the same person who helped me last time? sarah i think"
    r"|\b(?:speak|talk|chat) (?:to|with) (?:the same|that|the)\s+(?:person|lady|guy|woman|man|agent|girl|bloke|chap)\b"
)

HUMAN_VERB = _rx(
    r"\b(?:talk|speak|chat|connect|transfer|put me through|get|want|need|give|let me|can i|could i|escalate|"
    r"call|contact|reach)\b"
    # "is there a real human? my dad's trying to use this and he's getting nowhere"
    r"|^(?:hello\s+|hi\s+|ok\s+|so\s+)?is there (?:a|an|any)\s+(?:real\s+|actual\s+|live\s+)?(?:human|person|agent)\b"
)

REFUND = _rx(
    r"\b(?:refund|return|exchange|complaint|complain|broken|damaged|faulty|arrived wrong|wrong item|"
    r"never arrived|charged twice|double charged|money back)\b"
    # "my kettlebell arrived cracked", "if they don't fit can i send them back?", "nothing ever shows up, not happy"
    r"|\b(?:arrived|came|turned up|showed up|is|was|are|were)\s+(?:all\s+)?(?:cracked|broken|ripped|torn|dented|"
    r"smashed|defective|leaking|the wrong (?:size|colou?r|one|item))\b"
    r"|\bsend (?:it|them|those|these|the \w+) back\b|\bnothing (?:ever )?(?:shows|turns|showed|turned) up\b"
    r"|\b(?:not|never) (?:happy|satisfied|pleased) (?:at all|with)\b|\bnot happy at all\b|\bstill (?:not|hasn.t) "
    r"(?:arrived|come|here)\b|\bhas not (?:arrived|come|turned up)\b"
)

# "Can I cancel it?", "I want to cancel": a request to cancel, even said as a question about a product.
CANCEL_ASK = _rx(
    r"\b(?:can|could|may|how do|how can|want to|would like to|need to|please|still)\s+(?:i\s+|you\s+|we\s+)?"
    r"(?:still\s+)?cancel\b|\bcancel (?:it|that|this|them|my)\b"
)

YES_BUT = _rx(
    # "yes ok but to my work pls": the yes words may come two together
    # "do it, but with express", "sure thing, but first is it waterproof": a yes that waits for a change or an answer
    r"^(?:(?:yes|yeah|yep|yup|ok|okay|sure|fine|great|do it|sure thing|go ahead|sounds good|cool|alright)\s*,?\s*)"
    r"{1,3}(?:but|except|only|wait|hang on|hold on|oh wait|actually)(?:\s+first)?"
    r"\s*,?\s+(?=\S)"
)

SIZE_LETTERS = ("xs", "s", "m", "l", "xl", "xxl", "2xl", "med", "md", "sm", "lg")

# "express if it's under 10 bucks", "how much is express? if it's under 20 do express": a shipping option taken only
# within a price
SHIPPING_IF_UNDER = re.compile(
    r"(?:how much (?:is|does|would)\s+)?\bexpress(?: shipping| delivery)?\b[^.?!]{0,40}?[.?!,]?\s*"
    r"(?:but\s+)?(?:only\s+)?if\s+(?:it|its|it's|it s|that|thats|that's|the express|express)"
    r"(?:\s+is|\s+s|\s+costs?)?\s+"
    r"(?:under|below|less than|no more than|at most|within)\s*\$?\s*(?P<amount>\d+(?:\.\d{1,2})?)",
    re.IGNORECASE,
)

# How the customer's (or someone's) body is: "i get cold very easily", "he's always got cold feet".
BODY_SAID = _rx(
    r"\b(?:i|he is|she is|he|she|they|we|my \w+)\s+(?:always\s+|really\s+|just\s+|never\s+|often\s+)?"
    # ("she's always cold": normalized "she s always cold")
    r"(?:get|gets|got|have|has|feel|feels|s|is|am|are|m)\s+(?:always\s+|so\s+|very\s+|really\s+)?(?:the\s+)?(?:cold"
    r"|hot|warm|wet|sweaty|sore"
    r"|tired|blisters|flat|wide|narrow|bad|sensitive|heat)\b"
)

# A size or count said in a part of the message: "i'm a 42", "usually an M" (not "a 10k", "in july", "2 years ago").
STORY_VALUE = _rx(
    r"\d{3,}|(?<![\w$./])\d{1,2}(?:\.5)?(?!/)(?!\s*(?:k|km|kms|mi|miles?|years?|yrs?|months?|weeks?|days?|hours?"
    r"|hrs?|mins?|minutes"
    r"|am|pm|th|st|nd|rd|%|kg|kilos?|lbs?|x)\b)(?![\w%])|\b(?:xs|xxl|xl|small|medium|large)\b"
)


def has_content(text: str) -> bool:
    return any(
        word not in ("and", "then", "also", "please", ",", "the", "a", "to", "it", "with") for word in text.split()
    )
