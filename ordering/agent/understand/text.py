"""Normalizing a customer's message: lower case, plain apostrophes, contractions spelled out, emoji and
punctuation dropped (commas kept as item separators; dots, commas and hyphens inside numbers kept)."""

from __future__ import annotations

import re
import unicodedata

CONTRACTIONS = {
    "what's": "what is", "whats": "what is", "where's": "where is", "wheres": "where is",
    "how's": "how is", "there's": "there is", "that's": "that is", "thats": "that is", "it's": "it is",
    "i'm": "i am", "im": "i am", "i've": "i have", "ive": "i have", "i'd": "i would", "i'll": "i will",
    "you're": "you are", "we're": "we are", "they're": "they are", "let's": "let us", "lets": "let us",
    "don't": "do not", "dont": "do not", "doesn't": "does not", "doesnt": "does not", "didn't": "did not",
    "didnt": "did not", "isn't": "is not", "isnt": "is not", "aren't": "are not", "can't": "can not",
    "cant": "can not", "cannot": "can not", "won't": "will not", "wouldn't": "would not",
    "shouldn't": "should not", "haven't": "have not", "wasn't": "was not", "who's": "who is",
    "you've": "you have", "youve": "you have", "we've": "we have", "they've": "they have", "you'll": "you will",
    "we'll": "we will", "they'll": "they will", "it'll": "it will", "that'll": "that will", "you'd": "you would",
    "he's": "he is", "she's": "she is", "there'll": "there will",
    "hasn't": "has not", "hasnt": "has not", "havent": "have not", "wasnt": "was not", "weren't": "were not",
    "werent": "were not", "couldn't": "could not", "couldnt": "could not", "wouldnt": "would not",
    "shouldnt": "should not", "hadn't": "had not", "hadnt": "had not",
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks", "ty": "thanks",
    "r": "are", "cn": "can", "hw": "how", "mch": "much", "wat": "what", "wht": "what", "abt": "about",
    "smth": "something", "sth": "something", "w": "with", "w/": "with", "yh": "yeah", "nvm": "never mind",
    "wanna": "want to", "gonna": "going to", "gimme": "give me", "lemme": "let me", "gotta": "got to",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "2moro": "tomorrow", "2morrow": "tomorrow",
    "thnx": "thanks", "thanx": "thanks", "tnx": "thanks", "tysm": "thanks", "thks": "thanks", "b4": "before",
    "bro": "brother", "sis": "sister", "sox": "socks", "cuz": "because", "coz": "because", "plss": "please",
    # "did it go thru?", "number fourty three": everyday spellings (it searched for "thru"; "fourty" was no number)
    "thru": "through", "fourty": "forty", "xtra": "extra", "mediums": "medium", "smalls": "small", "larges": "large",
}  # fmt: skip


def word_list(text: str) -> list[str]:
    """Words written as one string (easier to read and edit than a list of quoted words)."""
    return text.split()


_MEASURE_UNITS = {
    "inch": "-inch", "inches": "-inch", "in": "-inch", "kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg",
    "l": "l", "litre": "l", "liter": "l", "litres": "l", "liters": "l",
}  # fmt: skip


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


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    # "sí", "café": the letter without its accent (the accented letter was dropped as punctuation: "s")
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    # "yesss", "noooo", "pleeease": one letter for a run of three or more (never x: "xxxl" is a size)
    text = re.sub(r"([a-wyz])\1{2,}", r"\1", text)
    text = _text_speak(text)
    # A list, one item a line ("order:\n- 1 day pack blue\n- 1 headlamp"): each line is an item of the list (the
    # lines after the first were lost). A bullet or a list number starting a line goes.
    text = re.sub(r"(?m)^\s*(?:[-*\u2022\u00b7]|\d{1,2}[.)])(?=\s)\s*", "", text)  # "-2 caps" stays a minus
    text = re.sub(r"\s*\n+\s*", " , ", text.strip())
    text = re.sub(r"[\u2018\u2019\u02bc`\u00b4]", "'", text)
    text = text.replace("&", " and ").replace("\u00d7", "x")
    text = re.sub(r"(?<=\d)\+(?=\d)", " plus ", text)
    text = text.replace("+", " and ").replace(";", ",")  # "gps watch black; fitness band pink": a list
    text = re.sub(r"[^a-z0-9$%',.\-# ]+", " ", text)
    text = re.sub(r"(?<!\d)[.,]|[.,](?!\d)", lambda m: " , " if m.group(0) == "," else " ", text)
    text = re.sub(r"(?<![a-z0-9])'|'(?![a-z])", " ", text)
    text = re.sub(r"(?<![a-z0-9])-(?!\d)|(?<=[a-z])-(?![a-z0-9])", " ", text)
    text = re.sub(r"#(?!\d)", " ", text)
    text = re.sub(r"(?<=[a-z]) n (?=[a-z])", " and ", text)  # "headlamp n kettlebell" (the headlamp was lost)
    # "u have the down jacket in xl black?": a question, as "do you have …" (it was an order)
    text = re.sub(r"^(?:u|you)\s+(?:have|got)\b", "do you have", text)
    # "ill come back another day", "ill take the black one": "I'll", typed without its apostrophe
    text = re.sub(r"\bill\s+(?=(?:come|take|have|get|go|pass|do|buy|order|think|check|leave|be|just|need|try)\b)",
                  "i will ", text)  # fmt: skip
    # A measure is no count: "5 inch running shorts" (5 pairs), "20 litre day pack" (20 packs). The shop's titles
    # write them as one word ("5-inch", "20L", "12kg"), and so does this; a measure of no title stays one word too.
    text = re.sub(
        r"\b(\d{1,3}(?:\.\d)?)\s*-?\s*(inch|inches|in(?=\s+(?:running\s+)?shorts?\b)|kg|kgs|kilo|kilos|litre|liter|"
        r"litres|liters|lb|lbs|cm|mm|ml|oz|l(?=\s+(?:day\s*pack|pack|bag|backpack|rucksack|duffel|bottle|flask)\b))\b",
        lambda match: match.group(1) + _MEASURE_UNITS.get(match.group(2), "-" + match.group(2)),
        text,
    )
    text = re.sub(r"\b(a|one)\s+(\d)\s+pack\b", r"\1 \2-pack", text)  # "a 3 pack of socks": one 3-pack
    # "a couple pairs of gloves", "gloves M, a couple of pairs": two
    text = re.sub(r"\ba couple (?:of )?(?=(?:pairs?|packs?|sets?|boxes|bottles)\b)", "2 ", text)
    text = re.sub(r"\bhalf (?:a )?dozen\b", "6", text)  # "half a dozen" (it was a thing called "half", 6 of it)
    text = re.sub(r"\b(\d{1,2}) and a half\b", r"\1.5", text)  # "a 42 and a half": a half size, never 42
    # "blue runner 42 x 2": a shoe size, then how many (it was 42 pairs of no size)
    text = re.sub(r"\b((?:3[0-9]|4[0-9]|50)(?:\.5)?)\s+x\s+([1-9]|1[0-9]|20)\b(?!\.)", r"\1 x\2", text)
    words = []
    for word in text.split():
        words.append(CONTRACTIONS.get(word, word))
    return " ".join(words)


def has_question_mark(text: str) -> bool:
    return "?" in text
