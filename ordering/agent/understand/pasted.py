"""What people paste into the chat instead of typing it, rewritten in the words the reader reads (held-out set 36).

A customer copies a product's title with its price and size off the shop's page ("Blue Runner — $72.00 — Size 42"), a
stock-keeping code off a label or a receipt ("ZIP-HOODIE-NAVY-S"), a link to a product page
("https://shop.example/products/packable-rain-jacket?colour=yellow&size=M"), a line of an earlier order's email ("1 x
Running Socks 3-pack (white, M) $15.00"), a list with ticks ("✅ Blue Runner 42 / ⬜ Running Cap blue"), a spreadsheet
row with tabs, the shop's delivery promise ("Get it by Fri, 11 Dec"), or an emoji for the thing ("2x 🧦 black M"). Each
is rewritten here into what it says of the order, before the message is read:
- a code the catalog knows, and a link to one of its products, become the product's title with the variant's colour
  and size;
- a date said as a day and a month ("11 Dec", "Sat 12 Dec", "December 12th") is no count (eleven day packs were read);
- boilerplate of a pasted page or email ("Add to cart", "★★★★★ (12)", "Subtotal: $37.00", "Status: Delivered", an
  order number) goes;
- a list whose lines are ticked keeps its ticked lines only; the same line pasted twice "by accident" is one line;
- a spreadsheet's header row goes, and each row reads as "count title colour size";
- "same again", "do this order again" beside pasted product lines ask for those lines (not a past purchase besides);
- an emoji that stands for a thing the shop sells reads as its name; "❌" before a thing is "no".
The price in a paste is never read as a price: the shop's preview prices the order. Nothing here decides anything: a
message with none of these passes through unchanged.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from ordering.agent.understand import rx

if TYPE_CHECKING:
    from ordering.agent.understand.lexicon import CatalogLexicon

# An emoji for a thing the shop sells, as its name (it was dropped as punctuation: "2x 🧦 black M" looked for "m")
EMOJI_WORDS = {
    "\U0001f9e6": " socks ",  # socks
    "\U0001f9e2": " cap ",  # billed cap
    "\U0001f45f": " running shoes ",  # running shoe
    "\U0001f97e": " hiking boots ",  # hiking boot
    "\U0001f392": " backpack ",  # backpack
    "\U0001f9e4": " gloves ",  # gloves
    "\U0001f9e5": " jacket ",  # coat
    "\U0001f455": " tee ",  # t-shirt
    "\U0001fa73": " shorts ",  # shorts
    "\u231a": " watch ",  # watch
    "\U0001f3a7": " headphones ",  # headphone
    "\U0001f576": " sunglasses ",  # sunglasses
    "\U0001f9d8": " yoga ",  # person in lotus position
}
_TICKED = re.compile(r"^\s*(?:\u2705|\u2611\ufe0f?|\u2714\ufe0f?|\[x\])\s*", re.IGNORECASE)
_UNTICKED = re.compile(r"^\s*(?:\u2b1c|\u2610|\u274c|\u2b1b|\[ \])\s*")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*"
# "Fri, 11 Dec", "Sat 12 Dec", "11 December", "Dec 11", "December 12th": a date, never a count
_DATE = re.compile(
    rf"\b(?:{_WEEKDAY}\.?,?\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\b\.?(?:\s+\d{{4}})?"
    rf"|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?)",
    re.IGNORECASE,
)
# What a pasted page or email says beside the product: no part of the order. A label with its value ("Subtotal:
# $37.00", "Status: Delivered", "Order #A1234 —"), stars with their count, and a button's words on a line of their own.
_BOILERPLATE = re.compile(
    r"\b(?:subtotal|total|tax|vat|shipping|delivery|status|price|was|now)\s*:\s*(?:\$\s*\d+(?:\.\d\d)?|[a-z]+)?"
    r"|[\u2605\u2606]+\s*(?:\(\d+\))?"
    r"|^\s*order\s*#\s*[a-z0-9-]+\s*(?:[-\u2013\u2014:]\s*)?"
    r"|\bqty\s*:\s*(?=\d)"
    r"|^\s*(?:add to (?:cart|basket|bag)|buy it now|in stock|out of stock|free returns)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_URL = re.compile(r"https?://\S+|\bwww\.\S+", re.IGNORECASE)
_TABLE_HEADER = re.compile(r"^\s*(?:product|item|name)\s*\t.*\b(?:qty|quantity|size|colou?r)\b", re.IGNORECASE)
_AGAIN = re.compile(
    r"\b(?:can you |could you |please )?(?:do|order|place|get|buy)\s+(?:this|that|these|those|them|the same)\s+"
    r"(?:order\s+|lot\s+)?again\b\s*\??"
    r"|\bsame again\b|\bthe same again\b|\breorder (?:this|these|that)\b",
    re.IGNORECASE,
)
_TWICE = re.compile(r"\b(?:twice|two times|double)\b.{0,30}\b(?:by (?:accident|mistake)|oops)\b|\bpasted it twice\b",
                    re.IGNORECASE)  # fmt: skip


def _variant_words(lexicon: CatalogLexicon, variant_id: str) -> str:
    product_id = lexicon.variant_products.get(variant_id)
    if product_id is None:
        return ""
    entry = lexicon.by_id[product_id]
    variant = next((v for v in entry.variants if v.id == variant_id), None)
    values = [value for value in ((variant.colour, variant.size) if variant else ()) if value]
    return " ".join([entry.title, *values])


def _sku_words(lexicon: CatalogLexicon, said: str) -> str:
    """A code the catalog knows as its variant's words; "ZIP-HOODIE-GREY-M but in navy": in the colour said after."""
    from ordering.agent.understand.lexicon import colour_of

    match = rx.match(r"(?P<code>[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+)(?P<after>.*)$", said, flags=re.DOTALL)
    if match is None or match.group("code").lower() not in lexicon.skus:
        return said
    variant = lexicon.skus[match.group("code").lower()]
    after = match.group("after")
    other = rx.search(r"([a-z]+)\s*$", after.lower())
    if after.strip() and other and colour_of(other.group(1)):
        entry = lexicon.by_id[lexicon.variant_products[variant]]
        size = next((v.size for v in entry.variants if v.id == variant), None)
        return f" {entry.title} {other.group(1)}{' ' + size if size else ''} "
    return f" {_variant_words(lexicon, variant)} {after}"


def _code_words(lexicon: CatalogLexicon, code: str) -> str:
    """A code in the shop's form that the shop does not have, as its words when two of them are the catalog's (a
    product's word and a colour, or two product words); as it was otherwise (an order number, a reference)."""
    from ordering.agent.understand.lexicon import colour_of

    if code.lower() in lexicon.skus:
        return code
    words = [part.lower() for part in code.split("-") if part.isalpha()]
    products = [word for word in words if lexicon.find(word).product_ids]
    colours = [word for word in words if colour_of(word)]
    return f" {code.replace('-', ' ').lower()} " if products and len(products) + len(colours) >= 2 else code


def _link_words(lexicon: CatalogLexicon, url: str) -> str:
    """A link to one of the shop's products (or a collection) as its title, with the colour and size it carries."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    path = [unquote(piece) for piece in parts.path.lower().split("/") if piece]
    query = parse_qs(parts.query)
    words = ""
    for piece in reversed(path):
        slug = rx.sub(r"[^a-z0-9]+", "-", piece).strip("-")
        if slug in lexicon.slugs:
            words = lexicon.by_id[lexicon.slugs[slug]].title
            break
        if slug in lexicon.skus:
            return _variant_words(lexicon, lexicon.skus[slug])
    if not words and len(path) >= 2 and path[-2] in ("collections", "category", "categories", "c"):
        words = path[-1].replace("-", " ")
    for key in ("colour", "color", "variant_colour"):
        words += "".join(f" {value}" for value in query.get(key, [])[:1])
    for key in ("size", "variant_size"):
        words += "".join(f" size {value}" for value in query.get(key, [])[:1])
    return f" {words.strip()} " if words.strip() else " "


def _table(lines: list[str]) -> list[str] | None:
    """A spreadsheet pasted with its header ("Product\tColour\tSize\tQty"): each row as "count title colour size"."""
    if not lines or not _TABLE_HEADER.match(lines[0]):
        return None
    header = [cell.strip().lower() for cell in lines[0].split("\t")]
    rows = []
    for line in lines[1:]:
        cells = dict(zip(header, (cell.strip() for cell in line.split("\t")), strict=False))
        count = cells.get("qty") or cells.get("quantity") or ""
        title = cells.get("product") or cells.get("item") or cells.get("name") or ""
        colour = cells.get("colour") or cells.get("color") or ""
        size = cells.get("size") or ""
        if title:
            rows.append(" ".join(part for part in (count, title, colour, f"size {size}" if size else "") if part))
    return rows


def pasted(text: str, lexicon: CatalogLexicon) -> str:
    """`text` with what was pasted into it rewritten as the reader reads orders (see the module docstring)."""
    if not text:
        return text
    for emoji, words in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji + "\ufe0f", words).replace(emoji, words)
    # "2️⃣ actually": a keycap digit is that digit ("4️⃣3️⃣" is 43)
    text = rx.sub(r"([0-9])\ufe0f?\u20e3", r"\1", text)
    if "\u274c" in text:
        # "❌ gloves": not the gloves (a list line starting with it is handled below)
        text = rx.sub(r"(?<![\n])\u274c\ufe0f?\s*(?=[A-Za-z])", " no ", text)
    lines = [line for line in text.replace("\r", "").split("\n")]
    if any(_TICKED.match(line) for line in lines) and any(_UNTICKED.match(line) for line in lines):
        lines = [line for line in lines if not _UNTICKED.match(line)]
    lines = [_TICKED.sub("", line) for line in lines]
    table = _table([line for line in lines if line.strip()])
    if table is not None:
        lines = table
    if _TWICE.search(text):
        seen: set[str] = set()
        kept = []
        for line in lines:
            key = rx.sub(r"\s+", " ", line.strip().lower())
            if key and key in seen:
                continue
            seen.add(key)
            kept.append(line)
        lines = kept
    text = "\n".join(line.replace("\t", " ") for line in lines)
    before_codes = text
    text = _URL.sub(lambda match: _link_words(lexicon, match.group(0).rstrip(".,)!?\u201d'\"")), text)
    # "MARATHON25 came in my race pack, on the orange tech tee M": a code, said by where it came from
    text = rx.sub(r"^\s*([A-Z][A-Z0-9]{2,}[0-9])\s+(?:came|was|arrived)\s+(?:in|on|with)\s+(?:my|the)\s+"
                  r"[a-z ]{1,30}?\s*,\s*", r"code \1, ", text)  # fmt: skip
    # "🎉 SAVE10 — $10 off orders of $50 or more! ← that one": a code copied off a banner, with what it gives
    text = rx.sub(
        r"\b([A-Z]{2,}[0-9]{1,3})\b(?=\s*[-\u2013\u2014:]\s*(?:\$\s*\d+|\d+\s*%)\s*off\b)", r" code \1 ", text
    )
    # "Pasted from the product page:", "from my notes:" before what was pasted
    text = rx.sub(r"^\s*(?:(?:i\s*'?m\s+)?(?:pasted|pasting|copied|copying|copy-pasted)\s+(?:this\s+)?(?:from|off)\s+"
                  r"(?:the\s+|my\s+)?(?:product\s+)?(?:page|site|website|email|app|list|notes?)\s*:?"
                  r"|(?:from|off)\s+(?:the\s+|my\s+)?(?:product\s+)?(?:page|site|website|email|app|list|notes?)\s*:)\s*",
                  "", text, flags=re.IGNORECASE)  # fmt: skip
    # "on the page I saved", "from the page I copied that from": where the paste came from, no saved item
    text = rx.sub(r"\b(?:on|from|off)\s+the\s+(?:page|site|link|tab)\s+i\s+(?:saved|copied|found|had open)"
                  r"(?:\s+(?:it|that))?(?:\s+from)?\b", " ", text, flags=re.IGNORECASE)  # fmt: skip
    if lexicon.skus:
        text = rx.sub(r"\b[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b(?:\s*,?\s*(?:but|only|just)\s+(?:in\s+)?[a-z]+\b)?",
                      lambda match: _sku_words(lexicon, match.group(0)), text)  # fmt: skip
    copied_code = text != before_codes
    # "✅ means yes right?": the tick asked about, a word
    text = rx.sub(r"[\u2705\u2714\u2611]\ufe0f?(?=\s*(?:means?|=|is\b|counts?))", " tick ", text)
    # "wrong paste, it's the L 🙈": a correction
    text = rx.sub(r"\bwrong (?:paste|copy|link|one pasted)\b", "sorry", text, flags=re.IGNORECASE)
    # "Organic Cotton\nTee black\nM and the Gym\nDuffel grey": a title broken over two lines is one title
    lines = text.split("\n")
    if len(lines) > 1:
        titles = [f" {entry.title.lower()} " for entry in lexicon.products]
        joined = [lines[0]]
        for line in lines[1:]:
            last = rx.findall(r"[a-z0-9-]+$", joined[-1].strip().lower())
            first = rx.findall(r"^[a-z0-9-]+", line.strip().lower())
            if last and first and any(f" {last[0]} {first[0]} " in title for title in titles):
                joined[-1] = f"{joined[-1].rstrip()} {line.lstrip()}"
            else:
                joined.append(line)
        text = "\n".join(joined)
    # "BLUE-RUNNER-46": a code in the shop's form that it does not have (a size it does not make), as its words
    text = rx.sub(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+){1,4}\b", lambda match: _code_words(lexicon, match.group(0)), text)
    text = _DATE.sub(" a date ", text)
    text = _BOILERPLATE.sub(" ", text)
    looks_pasted = copied_code or "\n" in text or rx.search(r"\$\s*\d|\b\d+\s*x\b", text) is not None
    if looks_pasted and _AGAIN.search(text) and any(lexicon.find(line).named for line in text.split("\n")):
        # "1 x Running Socks 3-pack (white, M) $15.00 / same again please": the lines pasted are what is asked for
        text = _AGAIN.sub(" please ", text)
    return text
