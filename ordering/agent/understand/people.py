"""The words for the people an order may be for ("my son", "the wife", "my fella", "the twins", "my cat"), in one place.

`asides.RELATION` matches them in a message; the lexicon counts the people among the words that are never a product (so
"fella" is never looked for in the shop, nor "mate" corrected to "mat"). Kept apart because the lexicon cannot import
asides (asides reads colours from the lexicon)."""

from __future__ import annotations

from ordering.agent.understand.text import word_list

PEOPLE_WORDS: tuple[str, ...] = tuple(
    word_list(
        # in this order for the pattern: a word before its plural ("son|sons")
        "son sons daughter daughters wife husband hubby partner kid kids child children boy boys girl girls dad "
        "father mom mum mother parents brother brothers sister sisters friend friends boyfriend girlfriend bf gf "
        "fiance fiancee grandma grandpa grandson granddaughter niece nephew family mate colleague baby toddler "
        "teen teenager roommate flatmate twins triplets grandkids grandchildren mates colleagues buddies pals "
        "cousin cousins teammates nephews nieces "
        # said the way people type them ("same again for my bro", "one for the lad", "my running buddy")
        "bro bros sis lad lads lass buddy pal aunt auntie aunty uncle stepson stepdaughter missus wifey grandad "
        "granddad nan nana gran granny bestie hubbie daugter daughtr dauther husbnd "
        # "my fella wants one too" (it searched the shop for "fella")
        "fella feller bloke spouse stepdad stepmum stepmom godson goddaughter grandmother grandfather sibling siblings "
        "coworker workmate neighbour neighbor"
    )
)
# "a yoga mat for me and one for my cat lol": a pet is someone too (it searched for "cat"); but not a word that is never
# a product: "running cat in white" is the cap, typed wrong
PET_WORDS: tuple[str, ...] = tuple(word_list("dog dogs cat cats puppy puppies pup kitten kitty pet pets doggo"))
RELATION_WORDS: tuple[str, ...] = PEOPLE_WORDS + PET_WORDS
# "my other half": the one relation of two words
RELATION_PHRASES: tuple[str, ...] = ("other half",)
