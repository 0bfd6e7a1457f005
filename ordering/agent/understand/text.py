"""Normalizing a customer's message: lower case, plain apostrophes, contractions spelled out, emoji and
punctuation dropped (commas kept as item separators; dots, commas and hyphens inside numbers kept)."""

from __future__ import annotations

import functools
import re
import unicodedata

from ordering.agent.understand import rx
from ordering.agent.understand.foreign import english_words
from ordering.agent.understand.numbers import UNITS, parse_number_words

CONTRACTIONS = {
    "what's": "what is", "whats": "what is", "where's": "where is", "wheres": "where is",
    "how's": "how is", "there's": "there is", "that's": "that is", "thats": "that is", "it's": "it is",
    "i'm": "i am", "im": "i am", "i've": "i have", "ive": "i have", "i'd": "i would", "i'll": "i will",
    "you're": "you are", "we're": "we are", "they're": "they are", "let's": "let us", "lets": "let us",
    # "perfect shes going to love it, order it" (not understood: "she's" was, "shes" was not)
    "shes": "she is", "hes": "he is", "theyre": "they are",
    "don't": "do not", "dont": "do not", "doesn't": "does not", "doesnt": "does not", "didn't": "did not",
    "didnt": "did not", "isn't": "is not", "isnt": "is not", "aren't": "are not", "can't": "can not",
    "cant": "can not", "cannot": "can not", "won't": "will not", "wouldn't": "would not",
    "shouldn't": "should not", "haven't": "have not", "wasn't": "was not", "who's": "who is",
    "you've": "you have", "youve": "you have", "we've": "we have", "they've": "they have", "you'll": "you will",
    "we'll": "we will", "they'll": "they will", "it'll": "it will", "that'll": "that will", "you'd": "you would",
    "he's": "he is", "she's": "she is", "there'll": "there will", "everything's": "everything is",
    "everythings": "everything is", "all's": "all is",
    "hasn't": "has not", "hasnt": "has not", "havent": "have not", "wasnt": "was not", "weren't": "were not",
    "werent": "were not", "couldn't": "could not", "couldnt": "could not", "wouldnt": "would not",
    "shouldnt": "should not", "hadn't": "had not", "hadnt": "had not",
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks", "ty": "thanks",
    "r": "are", "cn": "can", "hw": "how", "mch": "much", "wat": "what", "abt": "about",
    "smth": "something", "sth": "something", "w": "with", "w/": "with", "yh": "yeah", "nvm": "never mind",
    "wanna": "want to", "gonna": "going to", "gimme": "give me", "lemme": "let me", "gotta": "got to",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "2moro": "tomorrow", "2morrow": "tomorrow",
    "thnx": "thanks", "thanx": "thanks", "tnx": "thanks", "tysm": "thanks", "thks": "thanks", "b4": "before",
    "bro": "brother", "sis": "sister", "sox": "socks", "cuz": "because", "coz": "because", "plss": "please",
    "em": "them",  # "get em ordered", "send 'em over" (it searched for "em")
    # "did it go thru?", "number fourty three": everyday spellings (it searched for "thru"; "fourty" was no number)
    "thru": "through", "fourty": "forty", "xtra": "extra", "mediums": "medium", "smalls": "small", "larges": "large",
    # "oh the tees shld be L sry" on a bus (read as a product named "tees l sry": a wrong order followed)
    "shld": "should", "shd": "should", "shud": "should", "shuld": "should", "shoud": "should", "wud": "would",
    "cld": "could", "sry": "sorry", "srry": "sorry", "soz": "sorry",
}  # fmt: skip


def word_list(text: str) -> list[str]:
    """Words written as one string (easier to read and edit than a list of quoted words)."""
    return text.split()


_MEASURE_UNITS = {
    "inch": "-inch", "inches": "-inch", "in": "-inch", "kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg",
    "l": "l", "litre": "l", "liter": "l", "litres": "l", "liters": "l", "kilogram": "kg", "kilograms": "kg",
    "ml": "ml", "millilitre": "ml", "millilitres": "ml", "milliliter": "ml", "milliliters": "ml",
}  # fmt: skip


_NUMBER_WORD = (
    r"(?:(?:one|two|three|four|five|six|seven|eight|nine)\s+hundred(?:\s+and)?(?:\s+(?:twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety))?(?:\s+(?:one|two|three|four|five|six|seven|eight|nine))?|(?:twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety)(?:[\s-]+(?:one|two|three|four|five|six|seven|eight|nine))?|one|two|three|"
    r"four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
    r"nineteen)"
)
_MEASURE_IN_WORDS = re.compile(
    r"\b(?P<number>" + _NUMBER_WORD + r")\s*-?\s*(?P<unit>inch|inches|kg|kgs|kilo|kilos|kilogram|kilograms|litre|"
    r"liter|litres|liters|millilitres?|milliliters?|ml)\b"
)


# "running socks three pack", "socks 3 pack white": a pack's size said right after the thing's name (a singular
# pack, not "3 packs", "3 pack of"), three or more (a pack holds several); "one pack black L", "socks 2 pack" and
# "and 2 pack socks" stay counts.
_PACK_SIZE = re.compile(
    r"\b(?P<before>(?!(?:and|a|an|the|of|with|plus|also|want|need|get|add|order|buy|take|me|i|one|just|only|another|"
    r"more|then|or)\b)[a-z]{3,})\s+(?P<number>[3-9]|1[0-2]|three|four|five|six|seven|eight|nine|ten|twelve)\s*-?\s*"
    r"pack\b(?!s)(?!\s+of\b)(?!-)"
)


def _words_number(said: str) -> str:
    value, _ = parse_number_words(rx.split(r"[\s-]+", said.replace(" and ", " ")))
    return str(value) if value is not None else said


# Digits typed for words ("need stuff 4 my runs", "send 2 work", "go 4 it"): "4" is "for" and "2" is "to" only where
# no count can stand (before a person, an activity said alone, an address); "4 running socks" stays four.
_DIGIT_WORDS = (
    (re.compile(r"\b4\s+(?=(?:my|me|him|her|u|you|us|them|ur|your|his|their|it)\b)"), "for "),
    (re.compile(r"\b(swap|switch|change|trade|exchange|go|going|looking|look|shopping|shop)\s+4\s+"), r"\1 for "),
    (re.compile(r"\b(it|that|them|this)\s+4\s+(?=(?:the|a)\b)"), r"\1 for "),
    (
        re.compile(
            r"\b4\s+(?=(?:running|runs|hiking|training|the gym|gym|yoga|winter|summer|christmas|xmas|work|school|"
            r"travel|camping|cycling)\s*(?:$|[,?.!;:]|\b(?:and|pls|please|plz|too|thx|thanks|m|s|l|xl|size)\b))"
        ),
        "for ",
    ),
    (
        re.compile(
            r"\b(send|ship|deliver|post|mail|it|them|this|that|go|goes|going|back|over)\s+2\s+"
            r"(?=(?:work|home|the office|office|my|me|him|her|the same|mum|mom|dad|our)\b)"
        ),
        r"\1 to ",
    ),
)
# Said the way a learner of English may say it ("i like buy 3 pair socks": no liked item; "I take two": an order).
_LEARNER = (
    (re.compile(r"\bi (?:would )?like (?:to )?(?=(?:buy|order|get|have|purchase)\b)"), "i want to "),
    (re.compile(r"\bi take (?=(?:it|them|this|that|one|two|three|the|a|an|\d)\b)"), "i will take "),
    (re.compile(r"\bi (?:take|buy)\s*(?=$|[,.!?])"), "i will take it"),
)


def _text_speak(text: str) -> str:
    for pattern, replacement in (*_DIGIT_WORDS, *_LEARNER):
        text = pattern.sub(replacement, text)
    return text


_UNIT_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TENS_WORD = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_SMALL_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen)"
)
_UNIT_VALUES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_PLURAL_UNITS = {"ones": 1, "twos": 2, "threes": 3, "fours": 4, "fives": 5, "sixes": 6, "sevens": 7, "eights": 8,
                 "nines": 9}  # fmt: skip
# A digit as a dictation engine may write it: "ending for two for two" is 4242.
_SPOKEN_DIGITS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "won": "1", "two": "2", "to": "2", "too": "2", "three": "3",
    "four": "4", "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "ate": "8", "nine": "9",
}  # fmt: skip
_CARD_DIGITS = re.compile(
    r"\b(?P<lead>ending(?:\s+(?:in|with))?|ends\s+(?:in|with)|last\s+(?:four|4)(?:\s+digits)?(?:\s+(?:is|are))?)\s+"
    r"(?P<digits>(?:(?:" + "|".join(_SPOKEN_DIGITS) + r"|\d)\s*,?\s+){3}(?:" + "|".join(_SPOKEN_DIGITS) + r"|\d))\b"
)


def _spoken_numbers(text: str) -> str:
    """Numbers a dictation engine writes as words, where the reader needs them as digits (a count said in words
    stays a word: "two in black" to a shoe's colour question is a count, "9 in black" may be a US size).

    - "forty two" → "42", "forty threes" → "43s" (a pair of size 43), "seventy two" → "72": a two-word number is
      never a count of things here, and as words it was read as 40 (or 70) of them;
    - "uk eight", "size twelve" → "uk 8", "size 12"; "is twelve", "aged seven" → an age, in digits (read as such);
    - "seventy two dollar", "five bucks" → digits before a currency word;
    - "ending four two four two", "ending for two for two" → "ending 4242".
    """
    text = _CARD_DIGITS.sub(
        lambda m: (
            m.group("lead")
            + " "
            + "".join(_SPOKEN_DIGITS.get(w, w) for w in rx.findall(r"[a-z]+|\d", m.group("digits")))
        ),
        text,
    )
    text = rx.sub(
        r"\b("
        + _TENS_WORD
        + r")(?:[\s-]+("
        + _UNIT_WORD
        + r"|ones|twos|threes|fours|fives|sixes|sevens|eights|nines))?\b",
        lambda m: (
            str(
                {
                    "twenty": 20,
                    "thirty": 30,
                    "forty": 40,
                    "fifty": 50,
                    "sixty": 60,
                    "seventy": 70,
                    "eighty": 80,
                    "ninety": 90,
                }[m.group(1)]
                + (_UNIT_VALUES.get(m.group(2) or "", 0) or _PLURAL_UNITS.get(m.group(2) or "", 0))
            )
            + ("s" if (m.group(2) or "") in _PLURAL_UNITS else "")
        ),
        text,
    )
    text = rx.sub(
        r"\b(uk|us|eu|size|sz|sizes|is|am|aged|age|turning|turned)\s+(?!one\b)("
        + _SMALL_WORD
        + r")\b(?!\s+(?:of|in|more|pairs?|packs?)\b)",
        lambda m: f"{m.group(1)} {UNITS[m.group(2)]}",
        text,
    )
    # "a pair of 43s", "two pairs of 44's": the size, as a size (it was no size, and the size was asked)
    text = rx.sub(r"\b((?:3[5-9]|4[0-9])(?:\.5)?)'?s\b", r"\1", text)
    return rx.sub(
        r"\b(" + _SMALL_WORD + r")(?=\s+(?:dollars?|bucks|usd|quid|pounds?|euros?|rupees|rs)\b)",
        lambda m: str(UNITS[m.group(1)]),
        text,
    )


# A postcode said beside an address the shop already has ("send it to work, the postcode's 94105", "office pincode
# 560001", "zip 94105", "postcode SW1A 1AA"): nothing to read (it was no product found).
_POSTCODE = re.compile(
    r",?\s*(?:the\s+|my\s+)?(?:post\s?code|pin\s?code|zip\s?code|zip)(?:'s|\s+is|\s+no\.?|\s+number)?\s*[:\-]?\s*"
    r"(?=[a-z0-9]*\d)[a-z0-9]{3,8}(?:\s+\d[a-z]{2})?\b"
)


def _other_englishes(text: str) -> str:
    """British, Australian and Indian English, and a dictation's fillers, as the reader's words."""
    text = rx.sub(r"\b(\d{1,3})\s*(?:nos\.?|no\.)(?=\s|$)", r"\1", text)  # "2 nos. black tech tee": two
    text = _POSTCODE.sub(" ", text)
    # fillers a voice leaves: "um", "uh", "erm"; "do one thing," (Indian English: here is what to do)
    text = rx.sub(r"\b(?:um+|uh+|umm+|er+m|erm+|uhm+)\b\s*,?", " ", text)
    text = rx.sub(r"^(?:and\s+then|okay\s+so|ok\s+so|so)\s+(?=\w)", "", text.strip())
    text = rx.sub(r"^(?:please\s+|kindly\s+)?do one thing\s*,?\s*", "", text)
    # "running headlamp urgently required": needed, not a question
    text = rx.sub(r"\s*\b(?:is\s+|are\s+)?(?:very\s+)?(?:urgently|urgent)\s+(?:required|needed)\b", "", text)
    text = rx.sub(r"\bpay (?:from|through|thru|via) (?=(?:my|the|this|that)\b)", "pay with ", text)
    # "which all cards i am having": which cards do i have
    text = rx.sub(r"\bwhich all\b", "which", text)
    text = rx.sub(r"\b(which|what)\s+((?:[a-z]+\s+){1,2})i am having\b", r"\1 \2do i have", text)
    text = rx.sub(r"\bi am having\b(?!\s+(?:a|an|the|some|trouble|problems?|issues?)\b)", "i have", text)
    # "send to my home only, not office": the other address is only named to be left out
    text = rx.sub(
        r"\s*,?\s*(?:and\s+|but\s+)?not\s+(?:to\s+)?(?:the\s+|my\s+)?(?:office|work|home)(?:\s+address)?\s*$", "", text
    )
    text = rx.sub(r"\b(home|work|office)(?:\s+address)?\s+only\b", r"\1", text)
    # British "a waterproof" (a rain jacket); "ordinary post", "normal post", "by post": standard delivery
    text = rx.sub(
        r"\b(a|the|my|lightweight|light|new|packable)\s+waterproof\b(?!\s+(?:boots?|shoes?|trainers?|jacket|coat|"
        r"hiking|trail|running|bag|pack|case|cover)\b)",
        r"\1 rain jacket",
        text,
    )
    post = r"\b(?:ordinary|normal|regular|standard|second class|2nd class)\s+(?:post|postage)\b"
    text = rx.sub(post, "standard shipping", text)
    text = rx.sub(r"\b(?:fastest|quickest|express)\s+(?:courier|post|postage)\b", "express shipping", text)
    # "i'm a 44, add the chelsea boot in black": the customer's size, for the thing named after it
    said = rx.match(
        r"^i(?: am|'m|m) an? ((?:3[5-9]|4[0-9])(?:\.5)?|xs|s|m|l|xl|xxl)\b\s*,?\s*(?:so\s+|and\s+)?(.+)$", text
    )
    if said is not None:
        text = f"{said.group(2)} size {said.group(1)}"
    return text


# Chat style: emoji and emoticons that carry a word, and reactions that carry none (red team 23: "haha <3 the purple
# yoga mat" ordered 3 mats, "🔟 soft flasks" one, "lmao yes" searched for "lmao", "👎" at a preview was thanks).
_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3")
# Skin tones, gender signs, the emoji variation selector and the joiner of emoji sequences: no meaning of their own
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\ufe0e\u200d\u2640\u2642]")
# A colour's circle or square is the colour whatever surrounds it ("the 🔴 one", "🔵 running cap")
_COLOUR_SHAPES = {
    "red": "\U0001f534\U0001f7e5", "blue": "\U0001f535\U0001f7e6", "green": "\U0001f7e2\U0001f7e9",
    "yellow": "\U0001f7e1\U0001f7e8", "purple": "\U0001f7e3\U0001f7ea", "orange": "\U0001f7e0\U0001f7e7",
    "brown": "\U0001f7e4\U0001f7eb", "black": "\u26ab\u2b1b\u25fc\u25fe", "white": "\u26aa\u2b1c\u25fb\u25fd",
}  # fmt: skip
# A coloured heart is a colour only before a word ("💜 yoga mat", "rain jacket 💛 size m"); alone or at the end
# ("thanks 🖤") it is affection. The red heart is affection everywhere ("love it ❤️"), never a colour.
_COLOUR_HEARTS = {
    "blue": "\U0001f499", "green": "\U0001f49a", "yellow": "\U0001f49b", "purple": "\U0001f49c", "black": "\U0001f5a4",
    "white": "\U0001f90d", "orange": "\U0001f9e1", "brown": "\U0001f90e", "grey": "\U0001fa76", "pink": "\U0001fa77",
}  # fmt: skip
_COLOUR_EMOJI = [(re.compile(f"[{shapes}]"), colour) for colour, shapes in _COLOUR_SHAPES.items()] + [
    (re.compile(f"{heart}(?=\\s*[a-z0-9])"), colour) for colour, heart in _COLOUR_HEARTS.items()
]
# A thumbs-down, a cross or a no-entry sign sent alone is a no; a thumbs-up alone stays politeness (generator.py)
_NO_EMOJI = re.compile("^[\\s\U0001f44e\u274c\u2716\u274e\U0001f6ab\u26d4\U0001f645.!]+$")
# Emoticons ("<3", ":)", ":-(", ";p", ":3", "xd", "^^"): dropped before the punctuation around their digits and
# letters is ("<3" was a count of 3)
_EMOTICON = re.compile(r"(?<![\w<])(?:<+/?3+|[:;=]'?-?[)(\]\[dpo/\\|*3$@]+|\^_*\^|t_t|x-?d+|:'\()(?![\w])")
# Reactions and fillers of chat that name nothing: "lol", "lmao", "hahaha", "omg", "ngl", "tbh", "smh", "ikr", "bruh",
# "ffs", "fr fr" ("ngl the hoodie looks sick" searched for "ngl"; "omg lol" was a product to add)
_REACTIONS = re.compile(
    r"\b(?:lo+l+z?|lmf?a+o+|rofl|roflmao|(?:b?w?a?ha){2,}h?|(?:he){2,}h?|(?:hi){3,}|omf?g+|o+m+g+|ngl|tbh|smh+|ikr|"
    r"bruh+|ffs|oof|yikes|sheesh|dang|damn+(?:\s+it)?|dammit|goddamn(?:\s+it)?|fr\s+fr|frfr|fr(?=\s*(?:$|[,.!?]))|istg"
    r"|tho)\b"
    # "for the 4th time", "this is the third time": how often it was asked, never a count
    r"|\b(?:(?:this is|that is|thats|its|it is)\s+)?(?:for\s+)?the\s+(?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth|"
    r"umpteenth|hundredth|millionth|last)\s+time\b"
)
_CURSE_BETWEEN_VALUES = re.compile(
    r"(\b(?:\d{1,2}|xs|s|m|l|xl|xxl))\s*[,.!]?\s+(?:ffs|dang|damn+(?:\s+it)?|dammit|goddamn(?:\s+it)?)\s*[,.!]?\s+"
    r"(?=(?:\d{1,2}|xs|s|m|l|xl|xxl)\b)"
)
# A complaint about the assistant said before what to do ("you keep getting it wrong, remove the cap", "why is this so
# hard, just the black one"): it names nothing to order, and the rest was not understood with it
_COMPLAINT = re.compile(
    r"\b(?:you (?:keep|kept) (?:messing|mixing|screwing|getting|doing|making)"
    r"(?: (?:it|this|that|things|everything|my order|the order|me))?(?: up| wrong| a mess)?(?: again)?"
    r"|you(?: have)? (?:got|get|did|done) (?:it|this|that|my order|the order|everything) wrong(?: again)?"
    r"|why (?:is|does) (?:this|it|that|everything) (?:so|this) (?:hard|difficult|complicated|confusing)"
    r"|this is (?:so |really |getting )?(?:annoying|frustrating|ridiculous|painful|confusing|exhausting)"
    r"|are you (?:kidding|serious|joking)(?: me)?|come on|seriously)\b\s*[,.!?]*"
)
# A made-up number ("like a zillion lol", "a gazillion of them"): no count at all (it was a product to look for). A
# real one stays a count, however large ("a million soft flasks"): the shop's limit per line answers it.
_JOKE_COUNT = re.compile(
    r"\b(?:like\s+|about\s+|literally\s+|maybe\s+)?(?:a|one|like)?\s*"
    r"(?:zillion|gazillion|bazillion|kajillion|squillion|jillion|bajillion)s?\b(?:\s+of\s+(?:them|those|these|it|each))?"
)
# "hell yeah", "hell no", "what the hell", "wtf is a tempo racer": the emphasis goes, the yes, no or question stays
_EMPHASIS = re.compile(
    r"\bhell\s+(?=(?:yes|yeah|yea|yep|ya|no|nope|nah|naw)\b)|\b(?:what|why|how)\s+the\s+(?:hell|heck)\b"
)


def _chat_style(text: str) -> str:
    text = _EMOJI_MODIFIERS.sub("", _KEYCAP.sub(r"\1", text)).replace("\U0001f51f", " 10 ")
    if _NO_EMOJI.match(text) and not rx.fullmatch(r"[\s.!]*", text):
        return "no"
    for emoji, colour in _COLOUR_EMOJI:
        text = emoji.sub(f" {colour} ", text)
    text = _EMOTICON.sub(" ", text)
    text = _EMPHASIS.sub(
        lambda match: match.group(0).split()[0] if match.group(0).startswith(("what", "why", "how")) else "", text
    )
    text = rx.sub(r"\bwtf\b(?=\s+(?:is|are|does|do|did)\b)", "what", text)
    text = rx.sub(r"\bwtf\b", " ", text)
    # "yeah no" is a no; "ur the best" is "you are the best" (it became "your the best", not understood)
    text = rx.sub(r"^\s*(?:yeah|yea|ya)\s+no\b", "no", text)
    # "hang on, make the white ones 2": a wait ("hang" was searched for)
    text = rx.sub(r"^\s*(?:hang|hold)\s+on\s*,(?=\s*[a-z0-9])", "wait,", text)
    text = rx.sub(r"\bur\s+(?=(?:the best|a star|a legend|a lifesaver|a life saver|amazing|awesome|great|so|too|"
                  r"welcome)\b)", "you are ", text)  # fmt: skip
    # "white racers 41 damn it 42", "M ffs L": a curse between two values is the slip corrected (read as "no")
    text = _CURSE_BETWEEN_VALUES.sub(r"\1 no ", text)
    return _JOKE_COUNT.sub(" ", _COMPLAINT.sub(" ", _REACTIONS.sub(" ", text)))


# "I said express like 3 times", "told you twice already", "ugh I've asked 2 times already, just place it": how
# often it was said, never a count of the item (3 headlamps were ordered); what was said stays, the rest goes
_TIMES_SAID = re.compile(
    r"(?:\b(?:i have|i[\'\u2019]?ve|i|we have|we[\'\u2019]?ve|we)\s+)?(?:already\s+)?"
    r"\b(?P<said>said|asked|told you|typed|wrote|written|mentioned|repeated|asked for)\b(?P<between>[^,.;!?]{0,30}?)"
    r"\s*\b(?:like\s+|about\s+|literally\s+|at least\s+|already\s+)?"
    r"(?:(?:\d+|a few|a couple of|a couple|several|many|so many|multiple|two|three|four|five|six|seven|eight|nine|ten|"
    r"a hundred|a million)\s+times|twice|thrice)\b"
    r"(?:\s+(?:already|now|today|before|in a row))*"
)


def _times_said(match: re.Match[str]) -> str:
    between = match.group("between").strip()
    if between in ("", "it", "that", "this", "so", "you", "you that", "you this", "it already"):
        return " "
    return f" {between} "  # "i said express like 3 times": express


# Numbers that are no count (red team 24: "send it to 500 Howard Street" set 500 pairs, "ship to the 94105 address"
# 94105 beanies, "the 72 ones" 72 pairs of the $72 shoes, "44s, two pairs" 44 pairs of no size)
_STREET_NUMBER = re.compile(
    r"(?:(?<=\bto\s)|(?<=\bat\s)|(?<=\bon\s)|(?<=\bis\s)|(?<=\baddress\s))"
    r"\d{1,5}[a-z]?\s+(?=(?:(?!and\b|the\b|in\b|size\b)[a-z]+\s+){1,3}"
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|parkway|pkwy|highway|hwy)\b)"
)
# "ship to the 94105 address": which address, by its postcode
_POSTCODE_ADDRESS = re.compile(r"\b\d{4,6}\s+(?=address\b)")
# "the 72 ones", "the $49 thing", "the 24 dollar one": the product that costs that, never that many of it (a shoe size
# stays: "the 42 ones"; four digits are a card's: "use the 4242 one")
PRICED_ONE = re.compile(
    r"\bthe\s+\$?\s?(?P<amount>\d{1,3}(?:\.\d\d)?)\s*(?:dollars?|bucks?|usd|\$)?\s*(?:-|\s)?(?:one|ones|thing|things)\b"
)


def priced_one(text: str) -> re.Match[str] | None:
    """The first "the 72 ones" / "the $49 thing" of `text` (lower case) that names a price, not a shoe size."""
    for match in PRICED_ONE.finditer(text):
        said, amount = match.group(0), match.group("amount")
        size_like = "$" not in said and "." not in amount and 35 <= int(amount) <= 47
        if not size_like or rx.search(r"dollar|buck|usd", said):
            return match
    return None


_SIZE_PLURAL = re.compile(r"\b(3[5-9]|4[0-7])s\b")


# "hmm 72 is a lot", "$98 seems steep": the price said back, then what it made them feel (72 pairs were asked for)
_PRICE_FELT = re.compile(
    r"\$?\s?\d+(?:\.\d\d)?\s*(?:dollars?|bucks?|usd)?\s+(?:is|seems|sounds|feels|is kind of|is kinda)\s+"
    r"(?:(?:a bit|a little|way|kinda|pretty|so|really|too)\s+)?"
    r"(?:a lot|too much|much|steep|expensive|pricey|crazy|insane)\b"
)


# When, said beside the order (red team 25: "trip on 12/20" ordered 12 of a "trip", "home after 5:30" 5 fitness bands,
# "since 2019" 2019 beanies, "3 day shipping on a duffel" 3 duffels): a date with a slash, a time, a year, goes before
# the punctuation does (it turned "12/20" into two numbers); a shipping time in days is a shipping speed.
_DATE_SLASHED = re.compile(
    r"(?:\b(?:on|by|for|before|until|till|after|from|due|around)\s+)?(?:the\s+)?\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"
)
_CLOCK_TIME = re.compile(
    r"(?:\b(?:at|by|after|before|around|until|till|from|about|like)\s+)?\b(?:\d{1,2}:\d{2}\s*(?:am|pm|a\.m\.|p\.m\.)?"
    r"|(?:1[0-2]|0?[1-9])\s*(?:am|pm|a\.m\.|p\.m\.)(?![a-z]))"
    # "i run at 6 every morning", "club meets at 6": an hour said with when
    r"|\b(?:at|after|before|around|until|till)\s+(?:1[0-2]|[1-9])(?=\s+(?:every|each|daily|most|sharp|tomorrow|today|"
    r"tonight|on|in the|o'?clock|when|while|and|so|ish)\b|\s*(?:[,.!?]|$))"
    # "it's pitch dark at 5 when i run home": the hour of something dark, light, home or done (five headlamps)
    r"|\b(?:dark|light|home|back|done|finished|off|out|up|open|closed)\s+(?:by|at|around|after|before)\s+(?:1[0-2]|[1-9])\b(?![:.]\d)"
)
# "by friday", "before next tue", "by tomorrow": a deadline (the shop promises no date; "friday" was a day to look back
# to for something liked)
_DEADLINE = re.compile(
    # "both by the 20th": when both are wanted, never two more of them
    r"(?:\b(?:both|all|all of them|both of them|them both|them all)\s+)?"
    r"(?:\b(?:(?:i|we)\s+)?(?:need|want|gotta have|must have|would like|d like)\s+(?:it|them|em|these|those|this)\s+)?"
    r"\b(?:by|before|until|till|for)\s+(?:next\s+|this\s+|this coming\s+)?"
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|the\s+\d{1,2}(?:st|nd|rd|th)|\d{1,2}(?:st|nd|rd|th)|"
    r"mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|tomorrow|tonight|the weekend|the week end|next week|xmas|christmas|"
    r"new year'?s?|eow|end of (?:the )?(?:week|month))\b"
)
_YEAR_SAID = re.compile(r"\b(?:since|in|from|back in|around|circa|bought in|got in)\s+(?:19|20)\d\d\b")
_SHIPPING_DAYS = re.compile(
    r"\b(?P<days>next|one|1|two|2|three|3|four|4|five|5|seven|7|3\s*-\s*5|2\s*-\s*3|5\s*-\s*7)[\s-]*(?:business\s+)?days?"
    r"\s+(?P<what>shipping|delivery|shipment)\b"
)
# "the 3 day race", "a 30 day challenge", "3 day weekend away": a length of time that names the occasion, never a count
_DAYS_LONG = re.compile(
    r"(?:\bfor\s+(?:a|the|my|our)\s+(?=\d))?"
    r"\b\d{1,3}[\s-]*(?:days?|weeks?|months?|hours?|hrs?|nights?)[\s-]+(?:stage\s+)?"
    r"(?P<what>race|trip|hike|event|challenge|weekend|holiday|vacation|tour|camp|ultra|trek|journey|festival|course|"
    r"cruise|getaway|break|retreat)\b"
)


def _shipping_days(match: re.Match[str]) -> str:
    days = match.group("days")
    fast = days in ("next", "one", "1", "two", "2") or days.replace(" ", "") == "2-3"
    return "express shipping" if fast else "standard shipping"


def _when_dropped(text: str) -> str:
    text = _SHIPPING_DAYS.sub(_shipping_days, text)
    text = _DATE_SLASHED.sub(" ", text)
    text = _CLOCK_TIME.sub(" ", text)
    text = _YEAR_SAID.sub(" ", text)
    text = _DEADLINE.sub(" ", text)
    # "for the 3 day race" goes whole; "a 3 day weekend away" keeps "weekend" (the occasion, read as such by the reader)
    return _DAYS_LONG.sub(lambda match: " " if match.group(0).startswith("for ") else f" {match.group('what')} ", text)


# Children's sizes and ages, which the shop does not make (red team 31: "he's a kids size 2" ordered two pairs, "age
# 5-6 size" minus six): no count, and no size of the shop's; the size is asked, with the shop's own sizes
_KIDS_SIZE = re.compile(
    r"\b(?:kids?|kid s|kids s|childrens?|children s|youth|junior|juniors|toddler|infant|little kids?|big kids?)\s+"
    r"(?:size\s+|sz\s+|us\s+|uk\s+|eu\s+)?\d{1,2}(?:\.5)?\b"
    r"|\bsize\s+\d{1,2}(?:\.5)?\s+(?:kids|youth|junior|toddler|infant)\b"
    r"|\b(?:age[sd]?|aged|for ages?)\s+\d{1,2}\s*(?:-|to|\u2013)\s*\d{1,2}\b"
    r"|\b\d{1,2}\s*(?:-|to|\u2013)\s*\d{1,2}\s*(?:years?|yrs?|yo|y o|year olds?)\b"
)


# "I'm 68 and my doctor wants me walking": an age said of oneself, no count (68 of a "doctor walking" were asked for)
_OWN_AGE = re.compile(r"\b(?:i\s*'?\s*m|i am|im)\s+\d{2}\s+(?:years? old\s+)?(?=and\b|so\b|now\b|,)")


def _numbers_not_counts(text: str) -> str:
    text = _OWN_AGE.sub(" ", text)
    text = _KIDS_SIZE.sub(" kids size ", text)
    text = _when_dropped(text)
    text = _PRICE_FELT.sub(" that is too expensive ", text)
    text = _POSTCODE_ADDRESS.sub("", _STREET_NUMBER.sub("", text))
    while (priced := priced_one(text)) is not None:
        text = text[: priced.start()] + " " + text[priced.end() :]
    return _SIZE_PLURAL.sub(r"size \1", text)


# Red team 26, said as people chat: "do you guys have" is you (it was read as an order of the thing); "which do u
# think" asks for a recommendation (both were added); "can it come faster?" asks for express (a question about
# "faster"); "oh it didnt go through? try my other visa" is what happened, then what to do (it asked about "oh
# through").
_YOU_GUYS = re.compile(r"\b(?:you|u)\s+(?:guys|all|lot|folks)\b(?=\s+(?:have|got|sell|carry|stock|do)\b)")
_WHICH_DO_YOU_THINK = re.compile(r"\b(?:which|what)\s+(?:one\s+)?(?:do|would)\s+you\s+(?:think|reckon|suggest)\b")
_COME_FASTER = re.compile(
    r"^(?:can|could)\s+(?:it|they|you ship it|you send it|it be sent|it ship)\s+(?:come\s+)?(?:any\s+)?"
    r"(?:faster|quicker|sooner)\b"
    r"|^(?:is|its|is it|it is)\s+possible\s+(?:more fast|faster|quicker|sooner)\b"
)
_DID_NOT_GO_THROUGH = re.compile(
    r"^(?:oh\s+|so\s+)?(?:it|that|the payment|my card)\s+(?:did not|didnt|didn't)\s+(?:go through|work)\s*,?\s*"
)


@functools.lru_cache(maxsize=1024)
def normalize(text: str) -> str:
    """The message as the reader reads it: lower case, without accents, the words of other languages and of
    dictation in plain English, numbers in digits, punctuation that carries nothing dropped.

    A pure function of `text` (no catalog, no conversation), and a turn asks it about the same message and its
    parts several times (~6 calls a turn): answered from a small cache after the first."""
    text = unicodedata.normalize("NFKC", text).lower()
    # "sí", "café": the letter without its accent (the accented letter was dropped as punctuation: "s")
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    # "necesito dos packs de black running socks talla M", "do grey beanie bhej do": the words of another language
    # that carry the order, in English (foreign.py)
    text = english_words(text)
    # "no, I beg your pardon, one white and one black": a correction said politely (a search for "beg pardon")
    text = rx.sub(
        r"\b(?:i\s+)?(?:do\s+)?beg\s+your\s+pardon\b\s*,?|\bpardon\s+me\b\s*,?|\bmy\s+(?:mistake|bad)\b\s*,?",
        "sorry ",
        text,
    )
    text = _numbers_not_counts(_chat_style(text))
    # "yesss", "noooo", "pleeease": one letter for a run of three or more (never x: "xxxl" is a size)
    text = rx.sub(r"([a-wyz])\1{2,}", r"\1", text)
    # Punctuation said aloud to a dictation engine: "white running cap new line grey gym duffel", "go ahead period"
    text = rx.sub(r"\s*\b(?:new line|next line|new paragraph|comma)\b\s*", " , ", text)
    text = rx.sub(r"\s*\b(?:full stop|period|exclamation (?:mark|point))\s*(?=$|\s)", " . ", text)
    text = rx.sub(r"\s*\bquestion mark\s*(?=$|\s)", " ? ", text)
    text = _text_speak(text)
    text = _spoken_numbers(text)
    text = _TIMES_SAID.sub(_times_said, text)
    text = _other_englishes(text)
    # A list, one item a line ("order:\n- 1 day pack blue\n- 1 headlamp"): each line is an item of the list (the
    # lines after the first were lost). A bullet or a list number starting a line goes.
    text = rx.sub(r"(?m)^\s*(?:[-*\u2022\u00b7]|\d{1,2}[.)])(?=\s)\s*", "", text)  # "-2 caps" stays a minus
    text = rx.sub(r"\s*\n+\s*", " , ", text.strip())
    text = rx.sub(r"[\u2018\u2019\u02bc`\u00b4]", "'", text)
    text = text.replace("&", " and ").replace("\u00d7", "x")
    text = rx.sub(r"(?<=\d)\+(?=\d)", " plus ", text)
    text = text.replace("+", " and ").replace(";", ",")  # "gps watch black; fitness band pink": a list
    text = rx.sub(r"[^a-z0-9$%',.\-# ]+", " ", text)
    text = rx.sub(r"(?<!\d)[.,]|[.,](?!\d)", lambda m: " , " if m.group(0) == "," else " ", text)
    text = rx.sub(r"(?<![a-z0-9])'|'(?![a-z])", " ", text)
    text = rx.sub(r"(?<![a-z0-9])-(?!\d)|(?<=[a-z])-(?![a-z0-9])", " ", text)
    text = rx.sub(r"#(?!\d)", " ", text)
    # "nah standard's fine then", "that's fine", "express's better": the "'s" of "is" (it was searched for)
    text = rx.sub(
        r"\b(?!(?:either|whichever|whatever|anything|anyone)')(?P<what>[a-z]+)'s\s+"
        r"(?=(?:fine|good|ok|okay|great|alright|perfect|better|best|grand|cool)\b)",
        r"\g<what> is ",
        text,
    )
    text = rx.sub(r"(?<=[a-z]) n (?=[a-z])", " and ", text)  # "headlamp n kettlebell" (the headlamp was lost)
    # "u have the down jacket in xl black?": a question, as "do you have …" (it was an order)
    text = rx.sub(r"^(?:u|you)\s+(?:have|got)\b", "do you have", text)
    # "ill come back another day", "ill take the black one": "I'll", typed without its apostrophe
    text = rx.sub(r"\bill\s+(?=(?:come|take|have|get|go|pass|do|buy|order|think|check|leave|be|just|need|try)\b)",
                  "i will ", text)  # fmt: skip
    # "what is the rate of the headlamp", "rate?", "best rate for 2": the price, as Indian English says it (it was
    # read as the fitness band's heart rate). A heart rate stays one.
    text = rx.sub(
        r"(?<!heart )\b(?:rates?)\b(?=\s*(?:$|\?|of\b|for\b|pls\b|please\b|kindly\b|,))|"
        r"(?<=\bthe )rate\b(?! monitor)|(?<=\bwhat )rate\b|(?<=\bbest )rate\b",
        "price",
        text,
    )
    # Indian English: "kindly confirm the availability" asks whether it is in stock (a "confirm" that confirms
    # nothing); "please do the needful" at a preview is "please go ahead"
    text = rx.sub(
        r"\b(?:please |kindly |pls )?confirm (?:the |its |their )?(?:availability|stock)\b"
        r"|\b(?:please |kindly |pls )?confirm (?:if|whether) (?:it is|its|they are|it|they) (?:available|in stock)\b",
        "is it available",
        text,
    )
    text = rx.sub(r"\b(?:please |kindly |pls )?do the needful\b", "please go ahead", text)
    # Dictated homophones of a count before a pack or a pair ("add to packs of black socks", "i need too pairs of"):
    # "to packs of" can only be two of them (one pack was ordered). "for" is four only after a verb of wanting.
    text = rx.sub(r"\b(?:to|too)\s+(?=(?:pairs|packs|sets|boxes|bottles)\s+of\b)", "2 ", text)
    text = rx.sub(r"^for\s+(?=(?:pairs|packs|sets|boxes|bottles)\s+of\b)", "4 ", text)
    text = rx.sub(
        r"\b(add|get|want|need|order|buy|take|send)\s+for\s+(?=(?:pairs|packs|sets|boxes|bottles)\s+of\b)",
        r"\1 4 ",
        text,
    )
    # "ok keep the 4242", "keep it on my visa": the card chosen ("keep" was searched for); "is possible also the cap,
    # white colour?" (a learner's "is it possible"): asked for, as "can i also have the cap"
    text = rx.sub(
        r"^((?:(?:ok|okay|fine|yes|yeah|sure|alright)\s*,?\s*)*)keep(?:\s+it)?(?:\s+on)?\s+"
        r"(?=(?:the|my)\s+(?:\d{4}\b|visa|mastercard|master card|amex|card))",
        r"\1use ",
        text,
    )
    text = rx.sub(r"^(?:(?:is|its|it is|is it)\s+possible\s+(?:to\s+)?|can i\s+)(?:have|get)\s+"
                  r"(?=(?:express|standard)\b)", "", text)  # fmt: skip
    text = rx.sub(r"^(?:is|its|it is|is it)\s+possible\s+(?:to\s+)?(?:have\s+|get\s+|add\s+)?"
                  r"(?=(?:also|the|a|an)\b)", "can i have ", text)  # fmt: skip
    # "ok thx. while im here, a white cap": why now, no part of what is wanted (it searched for "while")
    text = rx.sub(r"\bwhile (?:i am|im|i'm) (?:here|at it|on)\b\s*,?", " ", text)
    text = _YOU_GUYS.sub("you", text)
    text = _WHICH_DO_YOU_THINK.sub("which would you recommend", text)
    text = _COME_FASTER.sub("express shipping please", text)
    text = _DID_NOT_GO_THROUGH.sub("", text)
    # "same to same" (Indian English: exactly the same): "the same"
    text = rx.sub(r"\bsame to same\b", "the same", text)
    # Dictated homophones of colours: "the blew cloud jogger", "a read beanie", "the read one", "in read" (a verb
    # "read" is never before a thing or "one", nor after "in")
    text = rx.sub(r"(^|\b(?:a|an|the|in|and|or|my|same)\s+)blew\b", r"\1blue", text)
    text = rx.sub(r"\bblew(?=\s+ones?\b)", "blue", text)
    text = rx.sub(
        r"\b(a|the|in|and|or)\s+read\b(?!\s+(?:the|it|that|this|my|your|about|through|reviews?)\b)", r"\1 red", text
    )
    # A measure said in words is one in digits ("five inch running shorts", "twenty litre day pack", "five hundred
    # ml"): dictation writes numbers as words, and each was read as a count (5 pairs of shorts, 20 packs).
    text = _MEASURE_IN_WORDS.sub(lambda match: f"{_words_number(match.group('number'))} {match.group('unit')}", text)
    # "running socks three pack", "3 pack socks" (a singular pack, not "3 packs" or "3 pack of"): the pack's size,
    # written as the shop's titles write it ("3-pack"); it ordered three packs.
    text = _PACK_SIZE.sub(lambda m: f"{m.group('before')} {_words_number(m.group('number'))}-pack", text)
    # A measure is no count: "5 inch running shorts" (5 pairs), "20 litre day pack" (20 packs). The shop's titles
    # write them as one word ("5-inch", "20L", "12kg"), and so does this; a measure of no title stays one word too.
    text = rx.sub(
        r"\b(\d{1,3}(?:\.\d)?)\s*-?\s*(inch|inches|in(?=\s+(?:running\s+)?shorts?\b)|kg|kgs|kilo|kilos|kilograms?|"
        r"litre|liter|litres|liters|millilitres?|milliliters?|lb|lbs|cm|mm|ml|oz|l(?=\s+(?:day\s*pack|pack|bag|backpack|rucksack|duffel|bottle|flask)\b))\b",
        lambda match: match.group(1) + _MEASURE_UNITS.get(match.group(2), "-" + match.group(2)),
        text,
    )
    text = rx.sub(r"\b(a|one)\s+(\d)\s+pack\b", r"\1 \2-pack", text)  # "a 3 pack of socks": one 3-pack
    # "a couple pairs of gloves", "gloves M, a couple of pairs": two
    text = rx.sub(r"\ba couple (?:of )?(?=(?:pairs?|packs?|sets?|boxes|bottles)\b)", "2 ", text)
    text = rx.sub(r"\bhalf (?:a )?dozen\b", "6", text)  # "half a dozen" (it was a thing called "half", 6 of it)
    # "6 socks, so 2 packs", "12 pairs thats 4 packs": the packs the customer worked out are the count (6 packs
    # were ordered)
    text = rx.sub(
        r"\b\d{1,3}\s+(?:single\s+|individual\s+)?(?:socks?|pairs?(?:\s+of\s+socks)?)\s*,?\s*"
        r"(?:so|that is|thats|that s|which is|meaning|ie|i e|aka|or)\s+(\d{1,2})\s+(packs?)\b",
        r"\1 \2",
        text,
    )
    # "two dozen caps", "a dozen socks": twelve each (it was 2)
    text = rx.sub(
        r"\b(\d{1,2}|a|one|two|three|four|five)\s+dozen\b",
        lambda m: str(12 * (int(m.group(1)) if m.group(1).isdigit() else UNITS.get(m.group(1), 1))),
        text,
    )
    text = rx.sub(r"\b(\d{1,2}) and a half\b", r"\1.5", text)  # "a 42 and a half": a half size, never 42
    # "blue runner 42 x 2": a shoe size, then how many (it was 42 pairs of no size)
    text = rx.sub(r"\b((?:3[0-9]|4[0-9]|50)(?:\.5)?)\s+x\s+([1-9]|1[0-9]|20)\b(?!\.)", r"\1 x\2", text)
    # "wht" is "what" before what a question asks ("wht size", "wht is the price") and the colour white before the
    # thing ("wht steel bottle for my desk" lost its colour)
    text = rx.sub(
        r"\bwht\b(?=\s+(?:is|s|are|r|do|does|did|was|about|abt|size|sizes|colou?rs?|kind|sort|type|time|u|you|ya|if"
        r"|happened|the|a|an|would|should|can|cn)\b|\s*\?)|^wht$",
        "what",
        text,
    )
    words = []
    for word in text.split():
        words.append(CONTRACTIONS.get(word, word))
    return " ".join(words)


def has_question_mark(text: str) -> bool:
    return "?" in text
