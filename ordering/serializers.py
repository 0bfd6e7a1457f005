"""The conversation API's JSON: the input serializers, and the output serializers that are both the schema of each
response (/api/schema/) and what renders it (`config.api_contract.render`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from config.api_contract import StoredJSONOut, UTCDateTimeField
from ordering.agent.commands import CommandError, command_from_dict
from ordering.models import ConversationTurn, Message, MessageRole, OrderFlow, TurnStatus
from ordering.selectors import preview_public, preview_public_from, turn_messages


def message_max_chars() -> int:
    return int(getattr(settings, "ORDERING_MESSAGE_MAX_CHARS", 2000))


# -- input -----------------------------------------------------------------------------------------


class MessageInput(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=True)
    # A structured command from the widget (cart editing on the preview card, a quick reply): executed
    # by the same policy as typed words, in wire form (`ordering.agent.commands`). `text` is what the
    # customer's message shows.
    command = serializers.JSONField(required=False, default=None)

    def validate_command(self, value: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        try:
            command_from_dict(value)
        except CommandError as error:
            raise serializers.ValidationError(error.message) from None
        return value

    def validate_text(self, value: str) -> str:
        limit = message_max_chars()
        if len(value) > limit:
            raise serializers.ValidationError(
                f"A message can be at most {limit} characters long; this one has {len(value)}. Please shorten it."
            )
        return value


class ConfirmInput(serializers.Serializer):
    preview_hash = serializers.RegexField(r"^[0-9a-f]{64}$", error_messages={"invalid": "Not a preview hash."})
    decision = serializers.ChoiceField(choices=["confirm", "decline"])


class RatingInput(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


# -- output: each serializer is both the schema of its shape (/api/schema/) and what renders it ------------
#
# Views answer `config.api_contract.render(<Serializer>, <object>)`. A `to_representation` below only gathers
# the values of the declared fields from the domain object; the fields decide the shape (names, types,
# nullability), and an undeclared key never reaches the client.


class CardOut(StoredJSONOut):
    type = serializers.CharField()
    product_id = serializers.CharField()
    title = serializers.CharField()
    image_url = serializers.CharField(allow_null=True)
    price = serializers.IntegerField()
    currency = serializers.CharField()
    price_display = serializers.CharField()
    variant = serializers.CharField()


class PreviewLineOut(StoredJSONOut):
    product_id = serializers.CharField()
    title = serializers.CharField()
    variant = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_amount = serializers.IntegerField()
    total = serializers.IntegerField()


class PaymentOut(StoredJSONOut):
    brand = serializers.CharField()
    last4 = serializers.CharField()


class PreviewOut(StoredJSONOut):
    lines = PreviewLineOut(many=True)
    subtotal = serializers.IntegerField()
    discount = serializers.IntegerField()
    promo_codes = serializers.ListField(child=serializers.CharField())
    tax = serializers.IntegerField()
    shipping = serializers.IntegerField()
    total = serializers.IntegerField()
    currency = serializers.CharField()
    ship_to = serializers.CharField(help_text="Masked: the address label and city.")
    payment = PaymentOut()
    expires_at = UTCDateTimeField(allow_null=True)
    preview_hash = serializers.CharField()


class QuickReplyOut(StoredJSONOut):
    label = serializers.CharField()
    text = serializers.CharField(help_text="Posted as the customer's message when chosen.")
    command = serializers.JSONField(required=False, help_text="A structured command posted with the text.")


class CartEditLineOut(StoredJSONOut):
    variant_id = serializers.CharField()
    product_id = serializers.CharField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    max_quantity = serializers.IntegerField(help_text="The most the shop can sell of this line now.")
    size = serializers.CharField(allow_null=True)
    sizes = serializers.ListField(child=serializers.CharField(), help_text="Sizes in stock for this colour.")
    colour = serializers.CharField(allow_null=True)
    colours = serializers.ListField(child=serializers.CharField(), help_text="Colours in stock in this size.")


class LinkOut(StoredJSONOut):
    url = serializers.CharField(help_text="A path on this site.")
    label = serializers.CharField()


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=MessageRole.choices)
    text = serializers.CharField()
    created_at = UTCDateTimeField()
    kind = serializers.CharField(help_text="greeting, question, preview, flow_placed, flow_failed, handed_over, …")
    cards = CardOut(many=True)
    preview = PreviewOut(allow_null=True)
    flow_id = serializers.CharField(allow_null=True)
    options = serializers.ListField(child=serializers.CharField(), help_text="another_card, manual_checkout, …")
    merchant_order_id = serializers.CharField(allow_null=True)
    quick_replies = QuickReplyOut(many=True)
    cart_edit = CartEditLineOut(many=True)
    link = LinkOut(allow_null=True, help_text="A page of this site to open, e.g. the bank's payment verification.")
    delivered_to = serializers.CharField(
        allow_null=True,
        help_text="On a customer's message written while a specialist has the conversation: `specialist` (the "
        "assistant does not answer it; the specialist reads it). Null otherwise.",
    )

    def to_representation(self, instance: Message) -> dict[str, Any]:
        data = instance.data or {}
        return super().to_representation(
            {
                "id": instance.pk,
                "role": instance.role,
                "text": instance.text,
                "created_at": instance.created_at,
                "kind": data.get("kind", ""),
                "cards": data.get("cards", []),
                # The saga's re-preview messages carry the internal preview; the API always answers the public one.
                "preview": preview_public_from(data.get("preview"), data.get("preview_hash", "")),
                "flow_id": data.get("flow_id"),
                # What the widget offers after a failure (another card, the shop's checkout page, a person).
                "options": [option for option in data.get("options", []) if isinstance(option, str)],
                "merchant_order_id": data.get("merchant_order_id"),
                # Chips for the answer: each posts its `text` (and its `command`, when it has one) as the customer.
                "quick_replies": [reply for reply in data.get("quick_replies", []) if isinstance(reply, dict)],
                # On a preview: what each line may be changed to from the card (quantity, size, colour, remove).
                "cart_edit": [line for line in data.get("cart_edit", []) if isinstance(line, dict)],
                # A link the customer follows (the bank's 3-D Secure check): only our own paths, with a label.
                "link": _site_link(data.get("link")),
                "delivered_to": "specialist" if data.get("delivered_to") == "specialist" else None,
            }
        )


class PendingConfirmationOut(StoredJSONOut):
    flow_id = serializers.CharField()
    preview_hash = serializers.CharField()
    text = serializers.CharField()
    preview = PreviewOut()


class FlowBriefOut(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField(help_text="draft, previewed, confirmed, placing, placed, requires_action, failed, …")
    merchant_order_id = serializers.CharField()
    failure_code = serializers.CharField(help_text="What failed (payment_declined, consent_revoked, …), or empty.")
    waiting_for = serializers.CharField(
        help_text="What a requires_action or escalated flow waits for: step_up, payment_verification, risk_review, "
        "specialist; empty otherwise."
    )
    updated_at = UTCDateTimeField()
    confirmed_preview_hash = serializers.CharField(allow_null=True, help_text="The preview the customer confirmed.")
    merchant_order_status = serializers.CharField(
        help_text="A placed order's status at the shop (confirmed, shipped, canceled, …), or empty: a placed flow "
        "stays placed when the shop cancels or refunds it."
    )

    def to_representation(self, instance: OrderFlow) -> dict[str, Any]:
        return super().to_representation(_flow_brief(instance))


class FlowStepOut(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField()
    attempt = serializers.IntegerField()
    is_compensation = serializers.BooleanField()
    started_at = UTCDateTimeField()
    finished_at = UTCDateTimeField(allow_null=True)
    error_class = serializers.CharField()


class FlowOut(FlowBriefOut):
    conversation_id = serializers.CharField()
    created_at = UTCDateTimeField()
    placed_at = UTCDateTimeField(allow_null=True)
    confirmed_via = serializers.CharField()
    total = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    preview = PreviewOut(allow_null=True)
    steps = FlowStepOut(many=True)

    def to_representation(self, instance: OrderFlow) -> dict[str, Any]:
        return serializers.Serializer.to_representation(
            self,
            {
                **_flow_brief(instance),
                "conversation_id": instance.conversation_id,
                "created_at": instance.created_at,
                "placed_at": instance.placed_at,
                "confirmed_via": instance.confirmed_via,
                "total": instance.total_amount,
                "currency": instance.currency,
                "preview": preview_public(instance),
                "steps": instance.steps.all()[:100],
            },
        )


class OrderingAvailabilityOut(serializers.Serializer):
    """Whether the assistant takes new orders now (false while the kill switch is on), and the shop's checkout."""

    taking_orders = serializers.BooleanField()
    code = serializers.CharField(required=False, help_text="assistant_paused when not taking orders")
    message = serializers.CharField(required=False, help_text="what to tell the customer when not taking orders")
    checkout_url = serializers.CharField()


class ConversationCreatedOut(serializers.Serializer):
    id = serializers.UUIDField()
    trace_id = serializers.CharField()
    status = serializers.CharField()
    messages = MessageOut(many=True)
    ordering = OrderingAvailabilityOut()


class ConversationOut(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    messages = MessageOut(many=True)
    pending_confirmation = PendingConfirmationOut(allow_null=True)
    flow = FlowBriefOut(allow_null=True)
    flows = FlowBriefOut(
        many=True,
        help_text="The conversation's flows (the newest 100), so every preview in `messages` can show how it ended.",
    )
    ordering = OrderingAvailabilityOut()


class TurnRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    url = serializers.CharField(help_text="Poll this (GET) until the status is done or failed.")


class TurnOut(serializers.Serializer):
    """The one body of a turn (the message POST's 202 and the turn url's 200): its status and url, its messages,
    and the pending confirmation as it stood when the turn finished."""

    turn = TurnRefOut()
    messages = MessageOut(many=True, help_text="The customer's message, plus the answers once the turn is done.")
    pending_confirmation = PendingConfirmationOut(allow_null=True, help_text="As after the turn; null until done.")

    def to_representation(self, instance: ConversationTurn) -> dict[str, Any]:
        finished = instance.status == TurnStatus.DONE
        return super().to_representation(
            {
                "turn": {
                    "id": instance.pk,
                    "status": instance.status,
                    "url": reverse("api-conversation-turn", args=[instance.conversation_id, instance.pk]),
                },
                "messages": turn_messages(turn=instance),
                "pending_confirmation": (instance.response or {}).get("pending_confirmation") if finished else None,
            }
        )


class EventsOut(serializers.Serializer):
    status = serializers.CharField()
    messages = MessageOut(many=True)
    flows = FlowBriefOut(many=True)
    pending_confirmation = PendingConfirmationOut(allow_null=True)
    last_message_id = serializers.IntegerField()


class DeclinedOut(serializers.Serializer):
    flow = FlowOut()
    decision = serializers.CharField()


class RatingOut(serializers.Serializer):
    score = serializers.IntegerField()
    comment = serializers.CharField()


# -- helpers ---------------------------------------------------------------------------------------


def _site_link(link: Any) -> dict[str, str] | None:
    if not isinstance(link, dict):
        return None
    url, label = link.get("url"), link.get("label")
    if not (isinstance(url, str) and isinstance(label, str) and url.startswith("/") and not url.startswith("//")):
        return None
    return {"url": url, "label": label}


def _flow_brief(flow: OrderFlow) -> dict[str, Any]:
    return {
        "id": flow.pk,
        "status": flow.status,
        "merchant_order_id": flow.merchant_order_id,
        "failure_code": flow.failure_code,
        "waiting_for": flow.waiting_for,
        "updated_at": flow.updated_at,
        # Which preview the customer confirmed: only that one shows the order's progress, earlier
        # (superseded) previews of the same flow say they were replaced.
        "confirmed_preview_hash": flow.confirmed_hash or None,
        "merchant_order_status": flow.merchant_order_status,
    }
