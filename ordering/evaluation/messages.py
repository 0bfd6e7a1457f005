"""The single-message corpus: each message with the commands a reader should get from it."""

from __future__ import annotations

import functools
from dataclasses import MISSING, dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from ordering.agent.commands import (
    COMMAND_TYPES,
    CartLine,
    DialogueContext,
    Option,
    PendingQuestion,
    command_to_dict,
)
from ordering.agent.understand.lexicon import CatalogLexicon
from ordering.evaluation.catalog import demo_products
from ordering.evaluation.corpus_files import corpus_yaml_load


@functools.cache
def demo_lexicon() -> CatalogLexicon:
    """The lexicon of the sandbox's demo catalog, built from our copy of it (corpus/catalog.json) without a
    database or a running shop."""
    return CatalogLexicon.from_products(demo_products())


# -- the corpus -----------------------------------------------------------------------------------------

CORPUS_PATH = Path(__file__).resolve().parent / "corpus" / "messages.yaml"


@dataclass(frozen=True)
class MessageCase:
    text: str
    category: str
    context: DialogueContext
    expected: tuple[tuple[dict[str, Any], ...], ...]  # acceptable command lists (wire form), one or more


@dataclass(frozen=True)
class MessageResult:
    case: MessageCase
    actual: tuple[dict[str, Any], ...]
    passed: bool
    dangers: tuple[str, ...]


@dataclass
class MessageReport:
    results: list[MessageResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def accuracy(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def dangerous(self) -> list[MessageResult]:
        return [result for result in self.results if result.dangers]

    @property
    def failures(self) -> list[MessageResult]:
        return [result for result in self.results if not result.passed]

    def by_category(self) -> dict[str, tuple[int, int, int]]:
        """category → (passed, total, dangerous)."""
        table: dict[str, list[int]] = {}
        for result in self.results:
            row = table.setdefault(result.case.category, [0, 0, 0])
            row[0] += result.passed
            row[1] += 1
            row[2] += bool(result.dangers)
        return {name: (row[0], row[1], row[2]) for name, row in sorted(table.items())}

    def table(self) -> str:
        lines = [f"{'category':<24}{'passed':>8}{'total':>8}{'accuracy':>10}{'dangerous':>11}"]
        for name, (passed, total, dangerous) in self.by_category().items():
            lines.append(f"{name:<24}{passed:>8}{total:>8}{passed / total:>10.1%}{dangerous:>11}")
        lines.append(f"{'all':<24}{self.passed:>8}{self.total:>8}{self.accuracy:>10.1%}{len(self.dangerous):>11}")
        return "\n".join(lines)


def _context_from(raw: dict[str, Any] | None) -> DialogueContext:
    if not raw:
        return DialogueContext()
    pending = raw.get("pending")
    return DialogueContext(
        cart=tuple(CartLine(**line) for line in raw.get("cart", ())),
        pending=PendingQuestion(
            slot=pending["slot"],
            options=tuple(Option(**option) for option in pending.get("options", ())),
            product_id=pending.get("product_id"),
            title=pending.get("title", ""),
            quantity=pending.get("quantity"),
        )
        if pending
        else None,
        awaiting_confirmation=bool(raw.get("awaiting_confirmation", False)),
        last_shown=tuple(Option(**option) for option in raw.get("last_shown", ())),
        cards=tuple(Option(**option) for option in raw.get("cards", ())),
        addresses=tuple(raw.get("addresses", ())),
        # the lines of this conversation's order placed a moment ago ("scrap that" after it is about that order)
        ordered=tuple(CartLine(**line) for line in raw.get("ordered", ())),
        shipping_offered=bool(raw.get("shipping_offered", False)),
        promotions_told=bool(raw.get("promotions_told", False)),
        values_said=str(raw.get("values_said", "")),
    )


def load_messages(path: Path | str = CORPUS_PATH) -> list[MessageCase]:
    """The corpus cases, with named contexts resolved; raises ValueError naming a malformed entry."""
    data = corpus_yaml_load(Path(path).read_text(encoding="utf-8"))
    contexts = {name: _context_from(raw) for name, raw in (data.get("contexts") or {}).items()}
    cases = []
    for number, entry in enumerate(data["messages"], start=1):
        raw_context = entry.get("context")
        if isinstance(raw_context, str):
            if raw_context not in contexts:
                raise ValueError(f"Message {number} ({entry['text']!r}) names an unknown context {raw_context!r}.")
            context = contexts[raw_context]
        else:
            context = _context_from(raw_context)
        if "expect" in entry:
            alternatives = [entry["expect"]]
        elif "expect_any" in entry:
            alternatives = entry["expect_any"]
        else:
            raise ValueError(f"Message {number} ({entry['text']!r}) has neither expect nor expect_any.")
        for commands in alternatives:
            for command in commands:
                if command.get("kind") not in COMMAND_TYPES:
                    raise ValueError(f"Message {number} ({entry['text']!r}): unknown kind {command.get('kind')!r}.")
        cases.append(
            MessageCase(
                text=str(entry["text"]),
                category=entry["category"],
                context=context,
                expected=tuple(tuple(commands) for commands in alternatives),
            )
        )
    return cases


# -- matching -------------------------------------------------------------------------------------------

# In add_items, these item fields are always compared: unlisted means not said.
_STRICT_ITEM_FIELDS = {"product_ids": [], "quantity": None, "size": None, "saved": None}


def _expand_ids(ids: list[str], lexicon: CatalogLexicon) -> set[str]:
    expanded: set[str] = set()
    for identifier in ids:
        if identifier.startswith("cat:"):
            expanded |= set(lexicon.category_ids(identifier.removeprefix("cat:")))
        else:
            expanded.add(identifier)
    return expanded


def _value_match(key: str, expected: Any, actual: Any, lexicon: CatalogLexicon) -> bool:
    if key == "product_ids":
        return _expand_ids(list(expected or []), lexicon) == set(actual or [])
    if key == "quantity":
        return (expected if expected is not None else 1) == (actual if actual is not None else 1)
    if isinstance(expected, dict):
        return isinstance(actual, dict) and _fields_match(expected, actual, lexicon)
    if isinstance(expected, list):
        return list(expected) == list(actual or [])
    return expected == actual


def _fields_match(expected: dict[str, Any], actual: dict[str, Any], lexicon: CatalogLexicon) -> bool:
    return all(_value_match(key, value, actual.get(key), lexicon) for key, value in expected.items() if key != "kind")


def _item_match(expected: dict[str, Any], actual: dict[str, Any], lexicon: CatalogLexicon) -> bool:
    return _fields_match({**_STRICT_ITEM_FIELDS, **expected}, actual, lexicon)


@functools.cache
def _defaults(kind: str) -> dict[str, Any]:
    """A command's field defaults in wire form (command_to_dict leaves them out)."""
    cls = COMMAND_TYPES[kind]
    values: dict[str, Any] = {}
    for spec in dataclass_fields(cls):  # type: ignore[arg-type]
        if spec.default is not MISSING:
            values[spec.name] = list(spec.default) if isinstance(spec.default, tuple) else spec.default
    return values


def _command_match(expected: dict[str, Any], actual: dict[str, Any], lexicon: CatalogLexicon) -> bool:
    if expected["kind"] != actual["kind"]:
        return False
    actual = {**_defaults(actual["kind"]), **actual}
    if expected["kind"] == "add_items":
        expected_items, actual_items = expected.get("items", []), actual.get("items", [])
        return len(expected_items) == len(actual_items) and all(
            _item_match(want, got, lexicon) for want, got in zip(expected_items, actual_items, strict=True)
        )
    return _fields_match(expected, actual, lexicon)


def commands_match(expected: list[dict[str, Any]], actual: list[dict[str, Any]], lexicon: CatalogLexicon) -> bool:
    """The corpus matching rule (see the corpus header): same count, each expected command matched by a
    distinct actual command of its kind whose listed fields agree."""
    if len(expected) != len(actual):
        return False
    remaining = list(actual)
    for want in expected:
        hit = next((got for got in remaining if _command_match(want, got, lexicon)), None)
        if hit is None:
            return False
        remaining.remove(hit)
    return True


def dangers_of(expected: list[dict[str, Any]], actual: list[dict[str, Any]], lexicon: CatalogLexicon) -> list[str]:
    """Misreads that could order the wrong thing: an unexpected Confirm, a single product resolved that
    is not the one expected, a quantity other than the one said."""
    found: list[str] = []
    if any(command["kind"] == "confirm" for command in actual) and not any(
        command["kind"] == "confirm" for command in expected
    ):
        found.append("confirm not asked for")
    expected_adds = [item for command in expected if command["kind"] == "add_items" for item in command["items"]]
    actual_adds = [item for command in actual if command["kind"] == "add_items" for item in command.get("items", [])]
    if expected_adds and len(actual_adds) > len(expected_adds):
        found.append(f"{len(actual_adds) - len(expected_adds)} item(s) more than asked for")
    for index, got in enumerate(actual_adds):
        ids = set(got.get("product_ids") or [])
        want = expected_adds[index] if index < len(expected_adds) else None
        if want is None:
            continue
        wanted_ids = _expand_ids(list(want.get("product_ids") or []), lexicon)
        if len(ids) == 1 and ids != wanted_ids and not (want.get("saved") and ids <= wanted_ids):
            found.append(f"wrong product {sorted(ids)} for {sorted(wanted_ids) or want.get('query')!r}")
        wanted_quantity = want.get("quantity") if want.get("quantity") is not None else 1
        got_quantity = got.get("quantity") if got.get("quantity") is not None else 1
        if wanted_quantity != got_quantity:
            found.append(f"quantity {got_quantity} for {wanted_quantity}")
    for kind, slot in (("set_slot", "product"), ("set_slot", "quantity"), ("select", None)):
        wanted = {c.get("value") for c in expected if c["kind"] == kind and (slot is None or c.get("slot") == slot)}
        for got in (c for c in actual if c["kind"] == kind and (slot is None or c.get("slot") == slot)):
            value = got.get("value")
            if not value or value in wanted:
                continue
            if slot == "quantity":
                found.append(f"quantity set to {value!r}, not asked for")
            elif value in lexicon.by_id or value in lexicon.variant_products:
                found.append(f"{kind} of {value!r}, not asked for")
    return found


def _as_added(command: dict[str, Any]) -> dict[str, Any]:
    """A command as it changes the cart: an item said only for when the one before it cannot be had ("the gloves, or
    if they're out a beanie instead": `instead_of_previous`) is not added by the reading itself, so it is not judged
    as an item asked for (the conversation tasks judge what the shop's stock then made of it)."""
    if command.get("kind") != "add_items":
        return command
    items = [item for item in command.get("items", []) if not item.get("instead_of_previous")]
    return {**command, "items": items}


def _persons_merged(command: dict[str, Any]) -> dict[str, Any]:
    """An AddItems whose items differ only in who each is for and how many, as one item of their total: "white caps,
    2 for me and 1 for the wife" orders three white caps, one line at the shop, whichever way it is written down.
    Only items that each say their person are merged."""
    if command.get("kind") != "add_items":
        return command
    items: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    for item in command.get("items", []):
        key = {name: value for name, value in item.items() if name not in ("person", "quantity")}
        twin = next(
            (
                index
                for index, kept in enumerate(keys)
                if kept == key and items[index].get("person") and item.get("person")
            ),
            None,
        )
        if twin is None:
            items.append(dict(item))
            keys.append(key)
            continue
        total = (items[twin].get("quantity") or 1) + (item.get("quantity") or 1)
        items[twin] = {**key, "quantity": total, "person": "several"}
    return {**command, "items": [{name: value for name, value in item.items() if value != "several"} for item in items]}


def evaluate_messages(generator: Any, lexicon: CatalogLexicon | None = None,
                      cases: list[MessageCase] | None = None) -> MessageReport:  # fmt: skip
    """Run every corpus message through `generator.generate(text=, context=)` and score it."""
    lexicon = lexicon or demo_lexicon()
    report = MessageReport()
    for case in cases if cases is not None else load_messages():
        try:
            commands = generator.generate(text=case.text, context=case.context)
            actual = tuple(_as_added(command_to_dict(command)) for command in commands)
        except Exception as error:
            actual = ({"kind": "error", "error": f"{type(error).__name__}: {error}"},)
        passed = any(commands_match(list(expected), list(actual), lexicon) for expected in case.expected)
        if not passed:
            # "one for me one for my bro" read as one item each with its person is the same order as one item of two
            merged = tuple(_persons_merged(command) for command in actual)
            if merged != actual and any(
                commands_match(list(expected), list(merged), lexicon) for expected in case.expected
            ):
                passed, actual = True, merged
        dangers: list[str] = []
        if not passed:
            # Judge danger against the closest reading the corpus accepts (the first alternative).
            candidate_dangers = [dangers_of(list(expected), list(actual), lexicon) for expected in case.expected]
            dangers = min(candidate_dangers, key=len)
        report.results.append(MessageResult(case=case, actual=actual, passed=passed, dangers=tuple(dangers)))
    return report
