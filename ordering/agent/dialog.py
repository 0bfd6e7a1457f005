"""Dialog managers: who decides which tools a customer turn calls.

`ParserPlanner` is the built-in deterministic one: it reads the customer's words with
`ordering.agent.parser` and calls tools through the turn. It never reads tool results as
instructions: it looks only at structured fields (ids, sizes, counts, codes), never at free text
from the catalog. With `LLM_BASE_URL` and `LLM_MODEL` set, `planner_for_settings` returns the
language-model planner, which falls back to this one.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.conf import settings

from ordering.agent import parser
from ordering.agent.parser import Reading
from ordering.agent.tools import ToolCall, ToolResult
from ordering.agent.turn import Turn
from ordering.models import DecisionKind

# After this many failed clarifications in a row, a person takes over.
MAX_FAILED_CLARIFICATIONS = 2

HELP_TEXT = (
    "I'm your ordering assistant and I act for you at the shop. Tell me what to buy, e.g. "
    '"the Blue Runner in size 42", "the blue running shoes I liked last week" or "my usual"; '
    "I'll show you a preview priced by the shop before anything is ordered."
)


class Planner(Protocol):
    def run(self, turn: Turn) -> None: ...


def planner_for_settings() -> Planner:
    if settings.LLM_BASE_URL and settings.LLM_MODEL:
        from ordering.agent.llm import LLMPlanner

        return LLMPlanner(fallback=ParserPlanner())
    return ParserPlanner()


def _quoted(reading: Reading, *names: str) -> str:
    found = [f'"{reading.evidence[name]}"' for name in names if reading.evidence.get(name)]
    return ", ".join(found) if found else f'"{reading.text[:60]}"'


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


class ParserPlanner:
    name = "parser"

    def run(self, turn: Turn) -> None:
        turn.planner_name = turn.planner_name or self.name
        reading = parser.read(turn.customer_text)
        self.changed = False

        if reading.wants_human:
            self._call(
                turn,
                "hand_over",
                {"reason": "customer_request"},
                f"the customer asked for a person: {_quoted(reading, 'wants_human')}",
            )
            return
        if reading.asks_status and not reading.words:
            self._call(
                turn, "order_status", {}, f"the customer asked about their order: {_quoted(reading, 'asks_status')}"
            )
            return
        if reading.cancel and not reading.words:
            self._clear_pending(turn)
            result = self._call(turn, "cancel_order", {}, f"the customer said {_quoted(reading, 'cancel')}")
            if not result.ok:
                turn.say(result.error or "There is nothing to cancel.")
            return

        pending = turn.state.get("pending")
        if pending and reading.buy and reading.words and not self._about_pending(reading, pending):
            # A new request, not an answer: the open question is dropped rather than answered by accident.
            turn.record_decision(
                DecisionKind.RULE, "question_dropped", rationale=f'"{reading.text[:60]}" asks for something else'
            )
            self._clear_pending(turn)
            pending = None
        if pending and self._answer_pending(turn, reading, pending):
            self._finish(turn)
            return

        if not pending and (parser.is_affirmative(reading.text) or parser.is_negative(reading.text)):
            turn.say("There is nothing waiting for your confirmation right now. What would you like to order?")
            return

        acted = self._choices(turn, reading)
        if reading.set_quantity and turn.state["cart"]:
            acted = self._set_quantity(turn, reading) or acted
        elif reading.remove:
            acted = self._remove(turn, reading) or acted
        elif (
            reading.buy
            or reading.liked
            or reading.usual
            or reading.viewed
            or (reading.words and not acted and not pending)
        ):
            acted = self._buy(turn, reading) or acted
        if turn.state.get("pending") and turn.state["pending"] is not pending:
            return  # a new clarifying question was asked; nothing else this turn
        if not acted:
            if pending:
                self._clarification_failed(turn, reading, pending)
                return
            turn.say(HELP_TEXT)
            return
        self._finish(turn)

    # -- pieces ------------------------------------------------------------------------------------

    def _call(self, turn: Turn, name: str, arguments: dict, rationale: str, *, speak: bool = True) -> ToolResult:
        result = turn.call_tool(ToolCall(name=name, arguments=arguments, rationale=rationale), speak=speak)
        if result.ok and name in {
            "add_to_cart", "update_cart_line", "remove_from_cart", "apply_promo", "choose_shipping",
            "choose_address", "choose_payment_method",
        }:  # fmt: skip
            self.changed = True
        return result

    def _finish(self, turn: Turn) -> None:
        """After the cart changed and no question is open: show the preview (which asks to confirm)."""
        if self.changed and turn.state["cart"] and not turn.state.get("pending"):
            result = self._call(turn, "preview_order", {}, "the cart changed, so the customer sees the new preview")
            if not result.ok:
                turn.say(result.error or "I could not prepare a preview.")

    def _clear_pending(self, turn: Turn) -> None:
        turn.state["pending"] = None
        turn.state["failed_clarifications"] = 0
        turn.save_state()

    def _choices(self, turn: Turn, reading: Reading) -> bool:
        """Promo codes, shipping, address and card: recorded first so a new cart is created with them."""
        acted = False
        if reading.promo_code:
            result = self._call(
                turn,
                "apply_promo",
                {"code": reading.promo_code},
                f"the customer gave the code {_quoted(reading, 'promo_code')}",
            )
            self._report_promo(turn, result, quiet=reading.buy)
            acted = True
        elif reading.my_promo:
            acted = self._my_promo(turn, reading)
        if reading.shipping:
            self._call(
                turn,
                "choose_shipping",
                {"option": reading.shipping},
                f"the customer said {_quoted(reading, 'shipping')}",
            )
            acted = True
        if reading.address_label:
            result = self._call(
                turn,
                "choose_address",
                {"label": reading.address_label},
                f"the customer said {_quoted(reading, 'address')}",
            )
            if not result.ok:
                labels = [a["label"] for a in result.data.get("saved", [])]
                turn.say(f"I don't know that address. Your saved addresses: {', '.join(labels) or 'none'}.")
            acted = True
        if reading.card_last4:
            result = self._call(
                turn,
                "choose_payment_method",
                {"last4": reading.card_last4},
                f"the customer said {_quoted(reading, 'card')}",
            )
            if not result.ok:
                turn.say("I don't have a saved card ending in those digits.")
            acted = True
        return acted

    def _report_promo(self, turn: Turn, result: ToolResult, *, quiet: bool = False) -> None:
        """Say what became of a code; when the same message also buys something, the preview says it."""
        if not result.ok:
            turn.say(result.error or "That code did not work.")
            # The cart was sent again without the code: show the preview as it stands now.
            self.changed = self.changed or bool(turn.state["cart"])
        elif result.data.get("applied") is None and not quiet:
            turn.say(f"I'll apply {result.data['code']} to your order.")

    def _my_promo(self, turn: Turn, reading: Reading) -> bool:
        result = self._call(turn, "list_my_promotions", {}, f"the customer referred to {_quoted(reading, 'my_promo')}")
        if not result.ok:
            turn.say(result.error or "I could not look up your promotions.")
            return True
        promotions = result.data["promotions"]
        if reading.my_promo_percent is not None:
            promotions = [p for p in promotions if p["percent_off"] == reading.my_promo_percent]
        if len(promotions) != 1:
            if not promotions:
                turn.say("I couldn't find a personal promotion like that on your account.")
            else:
                turn.say(
                    f"You have several promotions: {', '.join(p['code'] for p in promotions)}. Which code should I use?"
                )
            return True
        code = promotions[0]["code"]
        rule = (
            f"{reading.my_promo_percent}% off"
            if reading.my_promo_percent is not None
            else "the only personal promotion"
        )
        applied = self._call(
            turn, "apply_promo", {"code": code},
            f"{_quoted(reading, 'my_promo')} matched {code}, the customer's personal promotion with {rule}",
        )  # fmt: skip
        self._report_promo(turn, applied, quiet=reading.buy)
        return True

    def _set_quantity(self, turn: Turn, reading: Reading) -> bool:
        cart = turn.state["cart"]
        line = self._line_named(cart, reading) if len(cart) > 1 else cart[0]
        if line is None:
            turn.ask(
                f"Which item should be {reading.set_quantity}: {_or_list([c['title'] for c in cart])}?",
                pending={"kind": "line", "action": "quantity", "quantity": reading.set_quantity,
                         "candidates": [{"variant_id": c["variant_id"], "title": c["title"]} for c in cart]},
            )  # fmt: skip
            return True
        self._call(
            turn, "update_cart_line", {"variant_id": line["variant_id"], "quantity": reading.set_quantity},
            f"the customer said {_quoted(reading, 'set_quantity')}",
        )  # fmt: skip
        return True

    def _line_named(self, cart: list[dict], reading: Reading) -> dict | None:
        named = [line for line in cart if reading.words and parser.matches_all(reading.words, line["title"])]
        return named[0] if len(named) == 1 else None

    def _remove(self, turn: Turn, reading: Reading) -> bool:
        cart = turn.state["cart"]
        if not cart:
            turn.say("Your cart is empty.")
            return True
        line = cart[0] if len(cart) == 1 and not reading.words else self._line_named(cart, reading)
        if line is None and len(cart) == 1:
            line = cart[0]
        if line is None:
            turn.ask(
                f"Which item should I remove: {_or_list([c['title'] for c in cart])}?",
                pending={"kind": "line", "action": "remove",
                         "candidates": [{"variant_id": c["variant_id"], "title": c["title"]} for c in cart]},
            )  # fmt: skip
            return True
        self._call(
            turn,
            "remove_from_cart",
            {"variant_id": line["variant_id"]},
            f"the customer said {_quoted(reading, 'remove')}",
        )
        if not turn.state["cart"]:
            turn.say("Your cart is empty now; nothing will be ordered.")
        return True

    # -- buying ------------------------------------------------------------------------------------

    def _buy(self, turn: Turn, reading: Reading) -> bool:
        quantity = reading.quantity or 1
        if reading.usual or reading.liked or reading.viewed:
            kind = "purchased" if reading.usual else "liked" if reading.liked else "viewed"
            source = _quoted(reading, "usual" if reading.usual else kind)
            arguments: dict[str, Any] = {"kind": kind}
            if reading.since_days:
                arguments["since_days"] = reading.since_days
            result = self._call(
                turn, "list_saved_items", arguments, f"the customer referred to items they {kind}: {source}"
            )
            if not result.ok:
                turn.say(result.error or "I could not look up your saved items.")
                return True
            items = result.data["items"]
            if reading.words and not reading.usual:
                items = [
                    item
                    for item in items
                    if parser.matches_all(
                        reading.words, f"{item['title']} {item['category']} {' '.join(item['colours'])}"
                    )
                ]
            if reading.colour:
                items = [i for i in items if reading.colour in i["colours"]] or items
            if reading.usual and items:
                items = items[:1]  # the most recent purchase
            candidates = [
                {"product_id": i["product_id"], "title": i["title"], "variant_id": i["variant_id"]} for i in items
            ]
            why = f"{kind} items matching {' '.join(reading.words) or 'anything'}"
        else:
            if not reading.words:
                turn.ask(
                    "What would you like to buy?", pending={"kind": "product", "candidates": [], "quantity": quantity}
                )
                return True
            arguments = {"query": " ".join(reading.words), "limit": 5}
            if reading.colour:
                arguments["colour"] = reading.colour
            result = self._call(
                turn, "search_products", arguments, f"the customer asked for {' '.join(reading.words)!r}"
            )
            if not result.ok:
                turn.say(result.error or "I could not search the shop.")
                return True
            products = result.data["products"]
            exact = [p for p in products if parser.normalize(p["title"]) in reading.text]
            candidates = [
                {"product_id": p["product_id"], "title": p["title"], "variant_id": None} for p in (exact or products)
            ]
            why = f"search results for {' '.join(reading.words)!r}"
        unique = {c["product_id"]: c for c in candidates}
        candidates = list(unique.values())
        if not candidates:
            turn.say("I couldn't find that. Could you describe it differently, or name the product?")
            return True
        if len(candidates) > 1:
            titles = [c["title"] for c in candidates[:4]]
            turn.ask(
                f"I found several: {_or_list(titles)}. Which one do you mean?",
                pending={"kind": "product", "candidates": candidates[:4], "quantity": quantity,
                         "size": reading.size, "colour": reading.colour},
            )  # fmt: skip
            return True
        return self._choose_variant(
            turn, candidates[0], reading.size, reading.colour, quantity, f"one match among {why}"
        )

    def _choose_variant(
        self, turn: Turn, candidate: dict, size: str | None, colour: str | None, quantity: int, why: str
    ) -> bool:
        # Silent: the preview that follows shows the product; only structured fields of the answer are read.
        result = self._call(
            turn, "show_product", {"product_id": candidate["product_id"]}, f"{why}: {candidate['title']}", speak=False
        )
        if not result.ok:
            turn.say(result.error or "I could not open that product.")
            return True
        variants = [v for v in result.data["product"]["variants"] if v["available"] > 0]
        remembered = candidate.get("variant_id")
        if remembered:
            chosen = [
                v
                for v in variants
                if v["variant_id"] == remembered
                and (not size or (v["size"] or "").upper() == size.upper())
                and (not colour or (v["colour"] or "").lower() == colour)
            ]
            if chosen:
                return self._add(
                    turn, candidate, chosen[0], quantity, f"{why}; the saved item names variant {remembered}"
                )
        if colour:
            variants = [v for v in variants if (v["colour"] or "").lower() == colour] or variants
        if size:
            sized = [v for v in variants if (v["size"] or "").upper() == size.upper()]
            if not sized:
                sizes = sorted({v["size"] for v in variants if v["size"]})
                turn.ask(
                    f"{candidate['title']} is not available in size {size}. Which size: {_or_list(sizes)}?",
                    pending={"kind": "size", "product_id": candidate["product_id"], "title": candidate["title"],
                             "quantity": quantity, "colour": colour, "options": sizes},
                )  # fmt: skip
                return True
            variants = sized
        if not variants:
            turn.say(f"Sorry, {candidate['title']} is sold out.")
            return True
        colours = sorted({v["colour"] for v in variants if v["colour"]})
        sizes = sorted({v["size"] for v in variants if v["size"]})
        if len(variants) == 1:
            return self._add(turn, candidate, variants[0], quantity, f"{why}; exactly one variant fits")
        if len(colours) > 1:
            turn.ask(
                f"Which colour would you like the {candidate['title']} in: {_or_list(colours)}?",
                pending={"kind": "colour", "product_id": candidate["product_id"], "title": candidate["title"],
                         "quantity": quantity, "size": size, "options": colours},
            )  # fmt: skip
            return True
        turn.ask(
            f"Which size would you like the {candidate['title']} in? Available: {_or_list(sizes)}.",
            pending={"kind": "size", "product_id": candidate["product_id"], "title": candidate["title"],
                     "quantity": quantity, "colour": colour, "options": sizes},
        )  # fmt: skip
        return True

    def _add(self, turn: Turn, candidate: dict, variant: dict, quantity: int, why: str) -> bool:
        self._clear_pending(turn)
        result = self._call(
            turn,
            "add_to_cart",
            {"product_id": candidate["product_id"], "variant_id": variant["variant_id"], "quantity": quantity},
            why,
        )
        if not result.ok:
            turn.say(result.error or "I could not add that to your cart.")
        return True

    # -- answers to the pending question -----------------------------------------------------------

    def _about_pending(self, reading: Reading, pending: dict) -> bool:
        titles = [pending.get("title", "")] + [c.get("title", "") for c in pending.get("candidates") or []]
        return any(title and parser.matches_all(reading.words, title) for title in titles)

    def _answer_pending(self, turn: Turn, reading: Reading, pending: dict) -> bool:
        kind = pending.get("kind")
        text = turn.customer_text
        if kind == "size":
            size = parser.size_in(text)
            if size and size.upper() in {o.upper() for o in pending.get("options", [])}:
                turn.record_decision(
                    DecisionKind.RULE, "answer_size", rationale=f'"{text[:40]}" answered the size question: {size}'
                )
                self._choices(turn, reading)
                candidate = {"product_id": pending["product_id"], "title": pending["title"], "variant_id": None}
                return self._choose_variant(
                    turn,
                    candidate,
                    size,
                    pending.get("colour"),
                    pending.get("quantity") or 1,
                    "answer to the size question",
                )
            return False
        if kind == "colour":
            colour = parser.colour_in(text)
            if colour and colour in pending.get("options", []):
                turn.record_decision(
                    DecisionKind.RULE,
                    "answer_colour",
                    rationale=f'"{text[:40]}" answered the colour question: {colour}',
                )
                self._choices(turn, reading)
                candidate = {"product_id": pending["product_id"], "title": pending["title"], "variant_id": None}
                return self._choose_variant(
                    turn, candidate, pending.get("size") or reading.size, colour, pending.get("quantity") or 1,
                    "answer to the colour question",
                )  # fmt: skip
            return False
        if kind in ("product", "line"):
            candidates = pending.get("candidates") or []
            if not candidates:
                return False
            index = parser.choice_in(text, [c["title"] for c in candidates])
            if index is None:
                return False
            chosen = candidates[index]
            turn.record_decision(
                DecisionKind.RULE, "answer_choice", rationale=f'"{text[:40]}" picked {chosen["title"]}'
            )
            self._clear_pending(turn)
            self._choices(turn, reading)
            if kind == "line":
                if pending.get("action") == "remove":
                    self._call(
                        turn,
                        "remove_from_cart",
                        {"variant_id": chosen["variant_id"]},
                        f"answer named {chosen['title']}",
                    )
                else:
                    self._call(
                        turn, "update_cart_line", {"variant_id": chosen["variant_id"], "quantity": pending["quantity"]},
                        f"answer named {chosen['title']}",
                    )  # fmt: skip
                return True
            return self._choose_variant(
                turn, chosen, pending.get("size") or reading.size, pending.get("colour") or reading.colour,
                pending.get("quantity") or reading.quantity or 1, "answer to which product",
            )  # fmt: skip
        return False

    def _clarification_failed(self, turn: Turn, reading: Reading, pending: dict) -> None:
        failed = int(turn.state.get("failed_clarifications") or 0) + 1
        turn.state["failed_clarifications"] = failed
        turn.save_state()
        if failed >= MAX_FAILED_CLARIFICATIONS:
            turn.record_decision(
                DecisionKind.HANDOVER, "clarifications_failed",
                rationale=f"{failed} answers in a row did not answer: {pending.get('question', '')[:120]}",
            )  # fmt: skip
            self._clear_pending(turn)
            detail = f"Could not clarify: {pending.get('question', '')[:200]}"
            self._call(
                turn,
                "hand_over",
                {"reason": "agent_stuck", "detail": detail},
                f'two clarifications in a row failed (last answer: "{reading.text[:60]}")',
            )
            return
        question = pending.get("question") or "Could you say that differently?"
        turn.record_decision(
            DecisionKind.CLARIFICATION, "ask_again", rationale=f'"{reading.text[:60]}" did not answer the question'
        )
        turn.say(f"Sorry, I didn't get that. {question}", data={"kind": "question"})
