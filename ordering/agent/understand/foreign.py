"""Words of other languages that shoppers mix into English (Spanish, French, German, Hindi, Tagalog), as English.

The assistant speaks English; people who mostly speak another language still type the product's English name and
put their own words around it: "necesito dos packs de black running socks talla M", "do grey beanie bhej do",
"dalawang white running cap po", "trail blazer schwarz größe 43". Read word by word, each count was lost (one pack,
one beanie, one cap ordered) and each colour or size was asked again. This table turns the words that carry the order
(counts, shoe sizes, colours, size words, yes and no, please and thanks) into English before anything else reads the
message; the rest is left as it is. A word that is also English ("do", "teen", "char", "un", "rose") counts only where
a count stands: at the start of the message or after "and"/"y"/"aur"/"at", and before more words that are no English
function word ("do you have", "my teen", "bhej do" stay as they are).
"""

from __future__ import annotations

import re

from ordering.agent.understand import rx

# Counts that are no English word.
_COUNTS = {
    # Spanish, French, German, Hindi, Tagalog
    "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5",
    "zwei": "2", "drei": "3", "vier": "4", "funf": "5", "fuenf": "5", "ek": "1", "paanch": "5", "panch": "5",
    "dalawa": "2", "dalawang": "2", "tatlo": "3", "tatlong": "3", "apat": "4", "lima": "5", "isang": "1",
}  # fmt: skip
# Counts that are also English words (or articles): only where a count stands.
_AMBIGUOUS_COUNTS = {"do": "2", "teen": "3", "char": "4", "isa": "1", "una": "1", "uno": "1", "une": "1", "eine": "1"}
_COUNT_LEAD = r"(^|\b(?:and|want|need|add|get|of)\s+)"
# What may not follow a count: "do you have", "do u", "teen sizes"
_NOT_AFTER_COUNT = (
    r"(?:you|u|they|i|we|it|not|this|that|the|any|me|he|she|size|sizes|years?|yrs?|age|ka|ki|ke|se|do|karo|kar)\b"
)

# Shoe sizes said in words (forty to forty-nine): "cuarenta y tres", "quarante-quatre", "zweiundvierzig".
_UNITS = {
    "uno": 1, "un": 1, "et un": 1, "eins": 1, "ein": 1, "dos": 2, "deux": 2, "zwei": 2, "tres": 3, "trois": 3,
    "drei": 3, "cuatro": 4, "quatre": 4, "vier": 4, "cinco": 5, "cinq": 5, "funf": 5, "fuenf": 5, "seis": 6,
    "six": 6, "sechs": 6, "siete": 7, "sept": 7, "sieben": 7, "ocho": 8, "huit": 8, "acht": 8, "nueve": 9,
    "neuf": 9, "neun": 9,
}  # fmt: skip
_FORTY = re.compile(
    r"\b(?:cuarenta(?:\s+y\s+(?P<es>uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve))?"
    r"|quarante(?:[\s-]+(?P<fr>et[\s-]+un|deux|trois|quatre|cinq|six|sept|huit|neuf))?"
    r"|(?:(?P<de>ein|eins|zwei|drei|vier|funf|fuenf|sechs|sieben|acht|neun)und)?vierzig)\b"
)

_COLOURS = {
    "black": "negro negra negros negras noir noire noirs noires schwarz schwarze schwarzen schwarzer kala kaala kaali"
    " kali itim",
    "white": "blanco blanca blancos blancas blanc blanche blancs blanches weiss weisse weissen weisser safed safaid"
    " sufaid puti",
    "blue": "azul azules bleu bleue bleus bleues blau blaue blauen blauer neela nila asul",
    "red": "rojo roja rojos rojas rouge rouges rot rote roten roter laal lal pula",
    "grey": "gris grise grises grau graue grauen grauer abo",
    "green": "verde verdes vert verte verts vertes grun grune grunen gruen gruene hara hari berde",
    "purple": "morado morada morados moradas violet violette violeta lila baingani",
    "pink": "rosado rosada rosa gulabi rosas",
    "yellow": "amarillo amarilla jaune gelb gelbe peela dilaw",
}
_COLOUR_WORDS = {word: english for english, words in _COLOURS.items() for word in words.split()}

# Whole phrases, longest first: yes, no, not yet, please, thanks, greetings, size words, "where to".
_PHRASES = (
    # not yet
    (r"todavia no|aun no|pas encore|noch nicht|abhi nahi|abhi nahin|hindi pa po|hindi pa", "not yet"),
    (r"abhi order mat karo|order mat karo|mat karo", "do not order"),
    # no
    (
        r"no gracias|non merci|nein danke|nahi yaar rehne do|rehne do|nahi chahiye|hindi na po|hindi na|ayoko na pala"
        r"|ayoko na|ayoko",
        "no thanks",
    ),
    (r"nahi|nahin|nein|hindi po", "no"),
    # yes
    (r"haan ji|haan|han ji|ji haan|opo|oo sige|oo|sige po|sige|claro que si|claro|vale|oui|ja bitte|ja", "yes"),
    (
        r"confirm karo|confirm kar do|order kar do|order karo|pidelo|bestellen|pa-confirm na po|pa confirm na po|vas-y"
        r"|vas y|allez-y|allez y",
        "go ahead",
    ),
    (r"confirmalo|confirma|confirmez|confirme|bestatigen|bestaetigen", "confirm"),
    (r"mandalo|mandamelo|envialo|envoie-le|envoyez-le|envoie|schick es|schicken|schick", "send it"),
    (r"gorras|gorra|casquettes|casquette|mutze|muetze|topi", "cap"),
    (r"theek hai|thik hai|acha|accha|d'accord|daccord|okay lang", "ok"),
    # please, thanks, greetings
    (r"chahiye|chahie", "please"),
    (r"por favor|porfa|porfis|s'il vous plait|s'il te plait|svp|stp|bitte|kripya|pls po|please po", "please"),
    (
        r"muchas gracias|gracias|merci beaucoup|merci|danke schon|danke|vielen dank|shukriya|dhanyavaad|dhanyavad"
        r"|salamat po|salamat",
        "thanks",
    ),
    (r"hola buenas|hola|buenas|bonjour|salut|hallo|guten tag|namaste|namaskar|kumusta", "hi"),
    (r"esta muy caro|muy caro|es muy caro|trop cher|zu teuer|bahut mehenga|mahal po|mahal", "too expensive"),
    # sizes
    (r"talla|taille|grosse|groesse|size ka", "size"),
    (r"extra grande|tres grand", "xl"),
    (r"grande|grand|gross", "l"),
    (r"mediana|mediano|moyen|moyenne|mittel", "m"),
    (r"pequena|pequeno|chica|chico|petit|petite|klein", "s"),
    # what and where
    (r"un par de|une paire de|ein paar", "a pair of"),
    (r"cuanto cuesta|cuanto es|combien coute|combien|was kostet|kitne ka|kitna hai|magkano po|magkano", "how much is"),
    (r"a mi trabajo|al trabajo|au bureau|ins buro|ins buero|office pe|sa office ko|sa office", "to work"),
    (r"a mi casa|a casa|a la maison|nach hause|ghar pe|sa bahay", "to home"),
    (r"con envio express|en express|express se|per express", "express"),
    (r"kein express|sin express|pas d'express|pas express", "standard shipping"),
    (r"quita|quitar|hata do|hatao|enlever|enleve|entferne|wag na po|wag na", "remove"),
    (
        r"quiero|necesito|je voudrais|je veux|ich hatte gern|ich mochte|ich moechte|mujhe|pabili po ng|pabili"
        r"|gusto ko ng|gusto ko",
        "i want",
    ),
    (r"zapatillas para correr|zapatillas de correr|tenis para correr|chaussures de course|laufschuhe", "running shoes"),
    (r"zapatillas|zapatos|tenis|chaussures|schuhe|joote|jootay", "shoes"),
    (r"para|pour|fur|ke liye|para sa", "for"),
    (r"ek aur|uno mas|encore un|encore une|noch ein|noch eine|isa pa", "one more"),
    (r"pero|mais|aber|par", "but"),
    (
        r"bhej do|bhej dijiye|bhejo|de do|de dijiye|dedo|dena|mein|karunga|karungi|karo|se|ka|ki|ke|pe|wala|wale|po"
        r"|ji|bhai|yaar|pala|lang|ng|yung|kulay",
        "",
    ),
    (r"y|et|und|aur|at", "and"),
    (r"con|avec|mit", "with"),
    (r"del|de la|de los|de las|du|des|de", "of"),
    (r"en|dans|im", "in"),
    (r"los|las|el|le|les|la|der|die|das|den|dem|l'", "the"),
)
_PHRASE_PATTERNS = tuple((re.compile(r"(?<![a-z0-9'-])(?:" + words + r")(?![a-z0-9'-])"), english)
                         for words, english in _PHRASES)  # fmt: skip
# Words only mixed-language messages have: the phrase table is applied to a message that holds one of them (an
# English message keeps its "par", "le", "die", "den", "at", "y", "de" and "ja").
_MIXED_LANGUAGE_WORDS = """
    quiero necesito porfa gracias hola buenas talla cuarenta pidelo claro quita envio trabajo cuanto cuesta voudrais
    veux svp stp merci bonjour taille quarante bureau combien livraison vas-y oui danke bitte nein noch grosse groesse
    vierzig hatte mochte moechte buro buero kostet schicken chahiye haan nahi nahin hata karo kar bhej bhejo mujhe bhai
    yaar theek thik shukriya namaste kitne kitna wala wale pe se ka dena rehne dedo mein mehenga acha accha po opo oo
    sige pabili kulay hindi ayoko wag pala salamat magkano yung ng meron kayong lang isa pa zapatillas zapatos
    confirmalo mandalo envialo gorras gorra casquette
    chaussures schuhe laufschuhe
"""
_TELLTALE = re.compile(
    r"(?<![a-z0-9'-])(?:"
    + "|".join(sorted({*_COUNTS, *_COLOUR_WORDS, *_MIXED_LANGUAGE_WORDS.split()}, key=len, reverse=True))
    + r")(?![a-z0-9'-])"
)
# "pa-confirm", "vas-y" keep their hyphen until the phrases are read.


def english_words(text: str) -> str:
    """`text` (lower case, accents gone) with the order-carrying words of other languages in English."""
    text = text.replace("\u00df", "ss")  # "größe", "weiß"
    if not (_TELLTALE.search(text) or rx.search(r"\b(?:de|bhej|kar|hata) do\b", text)):
        return text
    text = _FORTY.sub(_forty, text)
    text = rx.sub(r"^si\b(?=\s*(?:,|$))", "yes", text)  # "si, …" at the start: yes ("si tienen en 43" is "if")
    for pattern, english in _PHRASE_PATTERNS:
        text = pattern.sub(english, text)
    words = text.split(" ")
    for index, word in enumerate(words):
        bare = word.strip(",.!?")
        if bare in _COLOUR_WORDS:
            words[index] = word.replace(bare, _COLOUR_WORDS[bare])
        elif bare in _COUNTS:
            words[index] = word.replace(bare, _COUNTS[bare])
    text = " ".join(words)
    ambiguous = "|".join(_AMBIGUOUS_COUNTS)
    text = rx.sub(
        _COUNT_LEAD + r"(" + ambiguous + r")\s+(?!" + _NOT_AFTER_COUNT + r")(?=[a-z0-9])",
        lambda match: match.group(1) + _AMBIGUOUS_COUNTS[match.group(2)] + " ",
        text,
    )
    return rx.sub(r"\s+", " ", text).strip()


def _forty(match: re.Match[str]) -> str:
    unit = match.group("es") or match.group("fr") or match.group("de") or ""
    unit = rx.sub(r"[\s-]+", " ", unit)
    return str(40 + _UNITS.get(unit, 0))
