"""Corrections said as blame: what was wrong, then the fix ("that's the wrong colour, navy", "thats 3, i need 2").

At a preview people put right what they see, and they say the mistake as much as the fix, often as if the shop had
made it: "ugh thats the wrong colour, navy", "45?? no, 41 pls", "no. XL is wrong, L", "thats 3, i need 2", "i did say
two - one's for my sister", "nope, white bottle is what i asked for", "wrong hoodie, i wanted the pullover - black M",
"not the cotton one, the tech tee". The words about the mistake made the whole message unread (or a search, or a
second bottle beside the wrong one), and the next yes placed the preview unchanged.

`blame_read` finds such a frame and gives the fix alone (`core`) with what the frame said was wrong: the kind of thing
(`slot`: colour, size, quantity or product) and the values or words named as wrong (`wrong`). The generator reads the
fix as a change of the cart and keeps it only when it is one (a frame around something else reads as before).
Nothing is guessed here: a frame with nothing after it ("wrong shoes", "that's not what I asked for") gives no core,
and the assistant asks what to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from ordering.agent.understand import rx
from ordering.agent.understand.numbers import parse_quantity

# Interjections before the frame ("ugh", "oh no", "nope,", "argh no,"): dropped.
_LEAD = (
    r"(?:(?:ugh+|argh+|oh+|oops|whoops|eh|erm|um+|hmm+|no+|nope|nah|sorry|wait|hang on|hold on|hm+|er|huh|what)\b"
    r"[\s,.!?-]*)*"
)
_WHAT = r"(?P<what>colou?rs?|sizes?|one|ones|pair|thing|item|number|amount|quantity|count|[a-z]+)"
_PERSONAL = r"(?:i|we|my \w+|he|she)"
_WANTED = rf"{_PERSONAL}\s+(?:wanted|want|asked for|said|meant|ordered|chose|picked|typed|put|need(?:ed)?)"
_IS = r"(?:that'?s|thats|that is|this is|it'?s|its|those are|these are|they'?re|theyre)"

# "that's the wrong colour", "thats the wrong size", "wrong hoodie", "you've got the wrong socks"
_WRONG_NOUN = rx.compile(
    rf"^{_LEAD}(?:(?:{_IS}|you'?ve got|you got|you put|you added|you picked"
    r"|one\s+of\s+(?:those|them|these|the\s+\w+)\s+(?:is|has|was))\s+)?"
    rf"(?:the\s+|a\s+)?wrong\s+{_WHAT}"
    r"\b[\s,.!:;-]*"
)
# "that's not the colour i wanted", "thats not the size i asked for", "not the one i meant"
_NOT_WHAT_WANTED = rx.compile(rf"^{_LEAD}(?:{_IS}\s+)?not\s+(?:the\s+|a\s+)?{_WHAT}\s+{_WANTED}\b[\s,.!:;-]*")
# "oh that's too big, i meant S", "way too small"
_TOO = rx.compile(
    rf"^{_LEAD}(?:{_IS}\s+)?(?:way\s+|much\s+|a bit\s+|a little\s+|far\s+)?too\s+"
    r"(?P<too>big|small|large|tight|loose|baggy|snug)\b[\s,.!:;-]*(?:(?:i\s+)?(?:meant|mean|need|want|asked for)\s+)?"
)
# "45?? no, 41 pls": the wrong value said back with a question mark
_ECHO = rx.compile(
    rf"^{_LEAD}(?!(?:eh|what|huh|hm+|um+|er|sorry|really)\b)(?P<wrong>\d{{1,2}}|xxs|xs|s|m|l|xl|xxl|[a-z]+)\s*\?+[\s,.!-]*{_LEAD}"
)
# "XL is wrong, L", "socks are wrong, i need white", "the 45 is wrong"
_IS_WRONG = rx.compile(
    r"^" + _LEAD + r"(?:the\s+)?(?P<wrong>[a-z0-9]+)\s+(?:is|are|was|were|'s)\s+(?:all\s+)?wrong\b[\s,.!:;-]*"
    r"(?:(?:i\s+)?(?:meant|mean|need|want|wanted|asked for|said)\s+)?"
)
# "not the cotton one, the tech tee", "oops not white, i wanted the blue cap"
_NOT_THE = rx.compile(
    rf"^{_LEAD}not\s+(?:the\s+)?(?P<wrong>[a-z0-9]+)(?:\s+(?:one|ones|pair))?\s*(?:[,;:-]+|\.\.+)\s*"
    rf"(?:(?:{_WANTED}|it'?s|its|it should be|should be)\s+)?"
)
# "i picked white tho?", "i asked for L??", "i said 39!": what was said before, said again as the fix
_SAID_BEFORE = rx.compile(
    rf"^{_LEAD}(?:but\s+)?(?:i|we)\s+(?:did\s+)?(?:picked|asked for|said|chose|selected|ordered|wanted|typed)\s+"
    r"(?P<core>(?:the\s+)?[a-z0-9]+(?:\s+[a-z0-9]+)?)\s*(?:\b(?:tho|though|not\s+that|actually)\b|[?!.\s])*$"
)
# "yellow. its the yellow i wanted", "its the navy i asked for"
_ITS_THE_WANTED = rx.compile(
    rf"(?:^(?:(?:ok|okay|oh|ah|no|nope|nah|sorry)\W+)*|[.,;!]\s*){_IS}\s+(?:the\s+)?(?P<core>[a-z0-9]+)(?:\s+(?:one|ones|pair))?\s+{_WANTED}\b[\s.!]*$"
)
# "navy it is", "43 it is then"
_IT_IS = rx.compile(rf"^{_LEAD}(?P<core>[a-z0-9]+(?:\s+[a-z0-9]+)?)\s+it\s+is(?:\s+then)?[\s.!]*$")
# "thats not my size anymore, 43 now", "not my colour, the navy"
_NOT_MY = rx.compile(
    rf"^{_LEAD}(?:{{_IS}}\s+)?not\s+my\s+(?P<what>size|colou?r)(?:\s+any\s?more)?\b[\s,.!:;-]*".replace("{_IS}", _IS)
)
# "it says 1?? i need 4 for the team": what the preview says, then the fix
_IT_SAYS = rx.compile(rf"^{_LEAD}(?:it|that|this|the preview)\s+says\s+(?P<wrong>[a-z0-9]+)\s*\?+[\s,.!-]*{_LEAD}")
# "... is what i asked for", "... is what i wanted"
_IS_WHAT_WANTED = rx.compile(rf"\s+(?:is|are|was|were)\s+what\s+{_WANTED}\b.*$")
# "nah revert that, black", "undo that - navy"
_REVERT = rx.compile(
    rf"^{_LEAD}(?:(?:revert|reverse)\s+(?:that|it)|undo(?:\s+(?:that|it))?)(?:\s+back)?\s*[,.;:!-]+\s*(?:to\s+)?"
)
# "its meant to be 3 of them, and black", "they're supposed to be white": what the line should be
_MEANT_TO_BE = rx.compile(
    rf"^{_LEAD}(?:{_IS}|it|they|that|those)\s+(?:(?:is|are|was|were)\s+)?(?:meant|supposed)\s+to\s+(?:be|have)\s+"
)
# "i meant the beanie should change, not the cap - ...": which line was meant, then the values
_MEANT_OTHER = rx.compile(
    rf"^{_LEAD}(?:i\s+)?meant\s+(?:the\s+|my\s+)?[a-z]+\s+(?:should|to)\s+(?:change|be changed|be the one)"
    r"[^-:;]*[-:;]+\s*"
)
# "i need 3 of those, not 1", "i want 2 not 3"
_COUNT_NOT = rx.compile(
    r"^" + _LEAD + r"(?:i\s+)?(?:need|want|wanted|asked for|said|ordered)\s+(?P<new>\d{1,2}|[a-z]+)"
    r"(?:\s+of\s+(?:those|these|them|the\w*))?\s*,?\s+not\s+(?P<old>\d{1,2}|[a-z]+)\b[\s.!]*$"
)
# "thats 3, i need 2", "you put 1, i need 3", "that's two, i only want one"
_COUNT_BACK = rx.compile(
    r"^" + _LEAD + r"(?:that'?s|thats|that is|there'?s|theres|you put|you'?ve put|you added|you have)\s+"
    r"(?P<old>\d{1,2}|[a-z]+)\s*[,;.!-]+\s*(?:but\s+)?i\s+(?:only\s+)?(?:need|want|wanted|asked for|said)\s+"
    r"(?:only\s+)?(?P<new>\d{1,2}|[a-z]+)\b[\s.!]*$"
)
# "i did say two - one's for my sister", "i said 2": the count said before
_SAID_COUNT = rx.compile(
    r"^" + _LEAD + r"i\s+(?:did\s+)?(?:say|said|asked for|wanted|ordered)\s+(?P<new>\d|two|three|four|five|six)"
    r"\b(?:\s+(?:of\s+(?:them|those)|pairs?|packs?))?\s*(?:[,;.!-]+\s*(?P<why>.*))?$"
)
# "3 was right" (after a change): the count back
_WAS_RIGHT = rx.compile(
    r"^" + _LEAD + r"(?:undo(?:\s+that)?[\s,.!-]*)?(?P<new>\d{1,2}|one|two|three|four|five|six)\s+"
    r"(?:was|is)\s+(?:right|correct|fine|what i (?:said|wanted))\b[\s.!]*$"
)
# a reason after a dash or a comma that is about a person, not the thing: "- one's for my sister", "- my hands are
# huge", ", i'm off next week"
_WHY_TAIL = rx.compile(
    r"\s*(?:[,;-]+|\.)\s*(?:(?:one'?s|it'?s|its|they'?re|theyre)\s+for\s+(?:my|me|him|her|the)\b|"
    r"my\s+\w+\s+(?:is|are|was|were)\s+\w+|i'?m\s+(?:off|away|out|on holiday|working|at home|home)\b|"
    r"(?:he|she)'?s\s+(?:off|away|growing)\b|"
    r"(?:xxs|xs|s|m|l|xl|xxl|\d{2})\s+(?:is|are)\s+(?:always\s+|usually\s+|too\s+|a bit\s+|way\s+)?"
    r"(?:snug|tight|small|big|loose|baggy|short|long)\b).*$"
)

# a message that starts by saying no to what is shown
_NO_LEAD = rx.compile(
    r"^(?:(?:ugh+|argh+|oh+|oops|eh|um+|hmm+)\b[\s,.!-]*)*(?:(?:no+|nope|nah)\b\s*)+[,.!-]+\s*" + _LEAD
)

_SLOT_OF_WHAT = {
    "colour": "colour",
    "color": "colour",
    "colours": "colour",
    "colors": "colour",
    "size": "size",
    "sizes": "size",
    "number": "quantity",
    "amount": "quantity",
    "quantity": "quantity",
    "count": "quantity",
}


@dataclass(frozen=True)
class Blame:
    core: str  # the fix alone, to be read as a change of the cart ("" when only the mistake was said)
    slot: str | None = None  # what the frame said was wrong: colour, size, quantity, product (a thing named)
    wrong: tuple[str, ...] = ()  # words or values said to be wrong ("cotton", "hoodie", "45", "xl")


def _count(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    quantity, _ = parse_quantity([word])
    return quantity


def _tidy(core: str) -> str:
    core = _WHY_TAIL.sub("", core)
    # "blue but in 41": the colour and the size (the colour was lost)
    core = rx.sub(r"\s+but\s+(?=in\b|size\b|\d)", ", ", core)
    return rx.sub(r"\s+", " ", core).strip(" ,.;:!-")


def blame_read(text: str) -> Blame | None:
    """The fix said after a mistake, or None when the message says no mistake this way."""
    said = rx.sub(r"[\u2018\u2019]", "'", text.lower()).strip()
    for pattern in (_COUNT_NOT, _COUNT_BACK):
        match = pattern.match(said)
        if match is not None:
            new, old = _count(match["new"]), _count(match["old"])
            if new is not None and old is not None and new != old and 0 < new <= 20:
                return Blame(core=f"make it {new}", slot="quantity", wrong=(str(old),))
    match = _SAID_COUNT.match(said)
    if match is not None and (new := _count(match["new"])) is not None:
        return Blame(core=f"make it {new}", slot="quantity")
    match = _WAS_RIGHT.match(said)
    if match is not None and (new := _count(match["new"])) is not None:
        return Blame(core=f"make it {new}", slot="quantity")
    match = _MEANT_TO_BE.match(said)
    if match is not None and said[match.end() :].strip():
        # "its meant to be 3 of them, and black": the count of the line (three more black ones came beside it)
        core = rx.sub(
            r"^(\d{1,2}|one|two|three|four|five|six)\s+of\s+(?:them|those|these)\b", r"make it \1", said[match.end() :]
        )
        return Blame(core=_tidy(core))
    match = _REVERT.match(said)
    if (
        match is not None
        and said[match.end() :].strip()
        # "undo that, black was fine": an undo (read so elsewhere), not a value said
        and not rx.search(r"\b(?:was|were|is)\s+(?:right|fine|correct|ok|okay|good|better)\b", said[match.end() :])
    ):
        # "nah revert that, black": the value gone back to
        return Blame(core=_tidy(said[match.end() :]))
    match = _MEANT_OTHER.match(said)
    if match is not None and said[match.end() :].strip():
        # "sorry, i meant the beanie should change, not the cap - cap white, beanie grey": the values after the dash
        return Blame(core=_tidy(said[match.end() :]))
    match = _WRONG_NOUN.match(said)
    if match is not None:
        what = match["what"]
        slot = _SLOT_OF_WHAT.get(what, "" if what in ("one", "ones", "pair") else "product")
        wrong = (what,) if slot == "product" and what not in ("thing", "item") else ()
        # "wrong thing, i asked for running shorts. black S": the thing asked for (it was put beside the wrong one)
        core = _tidy(rx.sub(rf"^(?:{_WANTED})\s+", "", said[match.end() :]))
        if wrong:
            # "wrong socks, the running ones": the running socks
            core = rx.sub(r"\b(?:ones|one|pair)\b", what, core, count=1)
        return Blame(core=core, slot=slot or None, wrong=wrong)
    match = _NOT_WHAT_WANTED.match(said)
    if match is not None:
        what = match["what"]
        slot = _SLOT_OF_WHAT.get(what, "" if what in ("one", "ones", "pair", "thing", "item") else "product")
        return Blame(core=_tidy(said[match.end() :]), slot=slot or None, wrong=(what,) if slot == "product" else ())
    match = _TOO.match(said)
    if match is not None:
        return Blame(core=_tidy(said[match.end() :]), slot="size")
    match = _IS_WRONG.match(said)
    if match is not None:
        return Blame(core=_tidy(said[match.end() :]), wrong=(match["wrong"],))
    match = _ECHO.match(said)
    if match is not None and said[match.end() :].strip():
        return Blame(core=_tidy(said[match.end() :]), wrong=(match["wrong"],))
    match = _NOT_THE.match(said)
    if match is not None and said[match.end() :].strip():
        return Blame(core=_tidy(said[match.end() :]), wrong=(match["wrong"],))
    match = _IT_SAYS.match(said)
    if match is not None and said[match.end() :].strip():
        rest = said[match.end() :]
        count = rx.match(
            r"(?:but\s+)?(?:i|we)\s+(?:only\s+)?(?:need|want|wanted|asked for|said)\s+(\d{1,2}|[a-z]+)\b", rest
        )
        new = _count(count[1]) if count is not None else None
        if new is not None and 0 < new <= 20:
            # "it says 1?? i need 4 for the team": the count needed
            return Blame(core=f"make it {new}", slot="quantity", wrong=(match["wrong"],))
        return Blame(core=_tidy(rest), wrong=(match["wrong"],))
    match = _NOT_MY.match(said)
    if match is not None and said[match.end() :].strip():
        return Blame(core=_tidy(said[match.end() :]), slot=_SLOT_OF_WHAT.get(match["what"]))
    match = _SAID_BEFORE.match(said)
    if match is not None:
        return Blame(core=_tidy(match["core"]), slot="product")
    match = _ITS_THE_WANTED.search(said)
    if match is not None:
        return Blame(core=_tidy(match["core"]))
    match = _IT_IS.match(said)
    if match is not None:
        return Blame(core=_tidy(match["core"]))
    wanted = _IS_WHAT_WANTED.search(said)
    if wanted is not None:
        core = rx.sub(rf"^{_LEAD}", "", said[: wanted.start()])
        return Blame(core=_tidy(core)) if core.strip() else None
    lead = _NO_LEAD.match(said)
    if lead is not None and _WHY_TAIL.search(said, lead.end()):
        # "no no, L - my hands are huge", "no, send it home, i'm off next week": the fix, the reason dropped
        return Blame(core=_tidy(said[lead.end() :]))
    return None
