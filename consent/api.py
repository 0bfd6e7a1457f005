"""The consent JSON API under /api/v1/ (the chat widget's view of the settings page).

Thin: parse with a serializer, call one service or selector, answer with plain JSON. Session auth with
CSRF (DRF's SessionAuthentication). Domain errors become HTTP answers in one place,
`config.api.api_exception_handler`, with the statuses registered below; every error body is
`{"error": <code>, "message": <for a person>, ...}`.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import Origin
from config.api_contract import ERRORS, UTCDateTimeField, render
from consent import selectors
from consent.activity import ACTIVITY_PAGE_MAX, ActivityEntry, activity_entry_get, activity_page
from consent.exceptions import (
    InvalidPaymentMethod,
)
from consent.formatting import format_money
from consent.models import CapKind, CardBrand, ConsentGrant, GrantChannel, Scope
from consent.services import grants as grant_services
from consent.services import stepup as stepup_services
from consent.services import wallet as wallet_services

# Field names a client might use to send raw card data; we refuse the request without echoing it.
CARD_DATA_FIELDS = {"number", "card_number", "cardnumber", "pan", "cvc", "cvv", "cvc2", "security_code"}
# What the shop says about a card; a request that tries to say it is refused rather than silently ignored.
MERCHANT_CARD_FIELDS = {"brand", "last4", "exp_month", "exp_year"}


class ConsentAPIView(APIView):
    def origin(self, request: Request) -> Origin:
        return Origin.from_request(request, channel="api")


# -- values (what the output serializers below render) ---------------------------------------------------


def _caps(user_id: int, chat_session_reference: str = "") -> dict:
    usage = selectors.spend_usage(user_id=user_id, chat_session_reference=chat_session_reference)
    return {
        "currency": usage.currency,
        "caps": {
            kind: {
                "label": CapKind(kind).label,
                "ceiling": usage.ceilings[kind],
                "chosen": usage.chosen[kind],
                "effective": usage.caps[kind],
                "effective_display": format_money(usage.caps[kind], usage.currency),
                # No history for per-order; per-session only when the caller names the session.
                "used": None
                if kind == CapKind.PER_ORDER or (kind == CapKind.PER_SESSION and not chat_session_reference)
                else usage.used[kind],
            }
            for kind in CapKind.values
        },
        "auto_checkout_threshold": selectors.auto_checkout_threshold(user_id=user_id),
        "auto_checkout_ceiling": selectors.auto_checkout_ceiling(),
    }


def _stepup(user_id: int) -> dict:
    return {
        "enrolled": selectors.stepup_device(user_id=user_id, confirmed=True) is not None,
        "enrolment_pending": selectors.stepup_device(user_id=user_id, confirmed=False) is not None,
        "last_verified_at": selectors.stepup_last_verified_at(user_id=user_id),
        "window_minutes": selectors.stepup_window_minutes(),
        "verified_within_window": selectors.stepup_verified_within(user_id=user_id),
    }


# -- input ---------------------------------------------------------------------------------------


class GrantCreateInput(serializers.Serializer):
    scope = serializers.ChoiceField(choices=Scope.choices)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class RevokeInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class CapsInput(serializers.Serializer):
    per_order = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    per_day = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    per_month = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    per_session = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    auto_checkout_threshold = serializers.IntegerField(min_value=0, required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise ValidationError(
                "Send at least one of per_order, per_day, per_month, per_session, auto_checkout_threshold."
            )
        return attrs


class PaymentMethodInput(serializers.Serializer):
    """Only the shop's reference to one of the customer's cards; brand, last four and expiry come from the shop."""

    merchant_id = serializers.CharField(max_length=64, required=False)
    vault_reference = serializers.CharField(max_length=64, help_text="The shop's vault reference of the card (pm_…).")
    nickname = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    make_default = serializers.BooleanField(required=False, default=False)


class AddressInput(serializers.Serializer):
    label = serializers.CharField(max_length=40)
    recipient = serializers.CharField(max_length=120)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20)
    country = serializers.CharField(min_length=2, max_length=2)
    make_default = serializers.BooleanField(required=False, default=False)


class CodeInput(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class EnrolInput(serializers.Serializer):
    """Replacing a confirmed authenticator needs one of these; the first enrolment needs neither."""

    current_code = serializers.CharField(
        max_length=12, required=False, allow_blank=True, default="", help_text="A code from the current app."
    )
    password = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        style={"input_type": "password"},
        write_only=True,
        help_text="The account password, instead of a code (e.g. the old phone is lost).",
    )


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# -- output: each serializer is both the schema of its shape (/api/schema/) and what renders it ------------
# (`config.api_contract.render`). A `to_representation` below only gathers the values of the declared fields.


class GrantOut(serializers.Serializer):
    id = serializers.IntegerField()
    scope = serializers.ChoiceField(choices=Scope.choices)
    scope_label = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "expired", "revoked", "superseded"])
    granted_at = UTCDateTimeField()
    granted_via = serializers.CharField()
    expires_at = UTCDateTimeField(allow_null=True)
    ended_at = UTCDateTimeField(allow_null=True)
    revocable = serializers.BooleanField()

    def to_representation(self, instance: ConsentGrant) -> dict:
        return super().to_representation(
            {
                "id": instance.pk,
                "scope": instance.scope,
                "scope_label": instance.get_scope_display(),
                "status": selectors.grant_effective_status(instance),
                "granted_at": instance.granted_at,
                "granted_via": instance.granted_via,
                "expires_at": instance.expires_at,
                "ended_at": instance.ended_at,
                "revocable": instance.status == "active",
            }
        )


class CapOut(serializers.Serializer):
    label = serializers.CharField()
    ceiling = serializers.IntegerField()
    chosen = serializers.IntegerField(allow_null=True)
    effective = serializers.IntegerField()
    effective_display = serializers.CharField()
    used = serializers.IntegerField(allow_null=True)


class CapsOut(serializers.Serializer):
    currency = serializers.CharField()
    caps = serializers.DictField(child=CapOut())
    auto_checkout_threshold = serializers.IntegerField()
    auto_checkout_ceiling = serializers.IntegerField()


class PaymentMethodOut(serializers.Serializer):
    id = serializers.IntegerField()
    brand = serializers.ChoiceField(choices=CardBrand.choices)
    brand_label = serializers.CharField(source="get_brand_display")
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    nickname = serializers.CharField()
    is_default = serializers.BooleanField()
    display = serializers.CharField(source="masked")
    merchant_id = serializers.CharField()


class AddressOut(AddressInput):
    id = serializers.IntegerField()
    is_default = serializers.BooleanField()
    display = serializers.CharField(source="one_line")
    make_default = None


class StepUpOut(serializers.Serializer):
    enrolled = serializers.BooleanField()
    enrolment_pending = serializers.BooleanField()
    last_verified_at = UTCDateTimeField(allow_null=True)
    window_minutes = serializers.IntegerField()
    verified_within_window = serializers.BooleanField()


class StepUpEnrolOut(StepUpOut):
    config_url = serializers.CharField()
    qr_svg = serializers.CharField()


class ActivityOut(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    at = UTCDateTimeField()
    kind = serializers.CharField(help_text="A stable name of what happened: order_placed, card_declined, …")
    text = serializers.CharField(help_text="What happened, in plain words.")
    amount = serializers.IntegerField(allow_null=True, help_text="Minor units.")
    currency = serializers.CharField(allow_null=True)
    amount_display = serializers.CharField(allow_null=True)
    order_reference = serializers.CharField(allow_null=True)
    card_last4 = serializers.CharField(allow_null=True)

    def to_representation(self, instance: ActivityEntry) -> dict:
        # Only the entry's own fields: the audit event behind it (actor, trace, data) never leaves the server.
        return super().to_representation(
            {
                "id": instance.id,
                "sequence": instance.sequence,
                "at": instance.at,
                "kind": instance.kind,
                "text": instance.text,
                "amount": instance.amount,
                "currency": instance.currency or None,
                "amount_display": instance.amount_display or None,
                "order_reference": instance.order_reference or None,
                "card_last4": instance.card_last4 or None,
            }
        )


class GrantList(serializers.Serializer):
    results = GrantOut(many=True)


class PaymentMethodList(serializers.Serializer):
    results = PaymentMethodOut(many=True)


class AddressList(serializers.Serializer):
    results = AddressOut(many=True)


class ActivityList(serializers.Serializer):
    results = ActivityOut(many=True)
    next_before = serializers.IntegerField(allow_null=True, help_text="Ask again with before=this for older events.")


def _doc(operation_id: str, response, request=None, status_code: int = 200, parameters=None):
    return extend_schema(
        operation_id=operation_id,
        request=request,
        responses={status_code: response, **ERRORS},
        tags=["consent"],
        parameters=parameters,
    )


# -- endpoints -----------------------------------------------------------------------------------


class GrantListView(ConsentAPIView):
    @_doc("consent_grants_list", GrantList)
    def get(self, request: Request) -> Response:
        grants = selectors.grants_for_customer(user_id=request.user.pk)
        return Response(render(GrantList, {"results": grants}))

    @_doc("consent_grants_create", GrantOut, GrantCreateInput, 201)
    def post(self, request: Request) -> Response:
        data = _valid(GrantCreateInput, request)
        grant = grant_services.consent_grant(
            user_id=request.user.pk,
            scope=data["scope"],
            expires_at=data["expires_at"],
            via=GrantChannel.API,
            actor_id=request.user.pk,
            origin=self.origin(request),
        )
        return Response(render(GrantOut, grant), status=status.HTTP_201_CREATED)


class GrantDetailView(ConsentAPIView):
    @_doc("consent_grant_retrieve", GrantOut)
    def get(self, request: Request, grant_id: int) -> Response:
        return Response(render(GrantOut, selectors.grant_get(user_id=request.user.pk, grant_id=grant_id)))


class GrantRevokeView(ConsentAPIView):
    @_doc("consent_grant_revoke", GrantOut, RevokeInput)
    def post(self, request: Request, grant_id: int) -> Response:
        data = _valid(RevokeInput, request)
        grant = grant_services.consent_revoke(
            user_id=request.user.pk,
            grant_id=grant_id,
            via=GrantChannel.API,
            origin=self.origin(request),
            reason=data.get("reason", ""),
        )
        return Response(render(GrantOut, grant))


class CapsView(ConsentAPIView):
    @_doc(
        "consent_caps_retrieve",
        CapsOut,
        parameters=[
            OpenApiParameter(
                "chat_session",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="A chat session's reference: its per-session cap then shows what it has used.",
            )
        ],
    )
    def get(self, request: Request) -> Response:
        return Response(render(CapsOut, _caps(request.user.pk, request.query_params.get("chat_session", ""))))

    @_doc("consent_caps_update", CapsOut, CapsInput)
    def patch(self, request: Request) -> Response:
        data = _valid(CapsInput, request)
        threshold = data.pop("auto_checkout_threshold", None)
        if data:
            grant_services.spend_caps_set(user_id=request.user.pk, caps=data, origin=self.origin(request))
        if threshold is not None:
            grant_services.auto_checkout_set(user_id=request.user.pk, threshold=threshold, origin=self.origin(request))
        return Response(render(CapsOut, _caps(request.user.pk)))


class PaymentMethodListView(ConsentAPIView):
    @_doc("consent_payment_methods_list", PaymentMethodList)
    def get(self, request: Request) -> Response:
        methods = selectors.payment_methods_for_customer(user_id=request.user.pk)
        return Response(render(PaymentMethodList, {"results": methods}))

    @_doc("consent_payment_methods_create", PaymentMethodOut, PaymentMethodInput, 201)
    def post(self, request: Request) -> Response:
        sent = {str(key).lower() for key in getattr(request.data, "keys", dict().keys)()}
        if sent & CARD_DATA_FIELDS:
            raise InvalidPaymentMethod(
                "We never accept card numbers or security codes. Save the card with the shop's vault and send its "
                "vault reference (pm_…)."
            )
        if sent & MERCHANT_CARD_FIELDS:
            raise InvalidPaymentMethod(
                "Send only the card's vault reference (pm_…) and, if you like, a nickname: the brand, last four "
                "digits and expiry are what the shop says they are.",
                fields={field: ["Not accepted; the shop says this."] for field in sorted(sent & MERCHANT_CARD_FIELDS)},
            )
        data = _valid(PaymentMethodInput, request)
        method = wallet_services.payment_method_add(
            user_id=request.user.pk,
            merchant_id=data.get("merchant_id") or settings.DEFAULT_MERCHANT_ID,
            vault_reference=data["vault_reference"],
            nickname=data["nickname"],
            make_default=data["make_default"],
            origin=self.origin(request),
        )
        return Response(render(PaymentMethodOut, method), status=status.HTTP_201_CREATED)


class PaymentMethodDetailView(ConsentAPIView):
    @_doc("consent_payment_method_retrieve", PaymentMethodOut)
    def get(self, request: Request, payment_method_id: int) -> Response:
        method = selectors.payment_method_get(user_id=request.user.pk, payment_method_id=payment_method_id)
        return Response(render(PaymentMethodOut, method))

    @_doc("consent_payment_method_remove", None, None, 204)
    def delete(self, request: Request, payment_method_id: int) -> Response:
        wallet_services.payment_method_remove(
            user_id=request.user.pk, payment_method_id=payment_method_id, origin=self.origin(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PaymentMethodDefaultView(ConsentAPIView):
    @_doc("consent_payment_method_make_default", PaymentMethodOut)
    def post(self, request: Request, payment_method_id: int) -> Response:
        method = wallet_services.payment_method_set_default(
            user_id=request.user.pk, payment_method_id=payment_method_id, origin=self.origin(request)
        )
        return Response(render(PaymentMethodOut, method))


class AddressListView(ConsentAPIView):
    @_doc("consent_addresses_list", AddressList)
    def get(self, request: Request) -> Response:
        addresses = selectors.addresses_for_customer(user_id=request.user.pk)
        return Response(render(AddressList, {"results": addresses}))

    @_doc("consent_addresses_create", AddressOut, AddressInput, 201)
    def post(self, request: Request) -> Response:
        data = _valid(AddressInput, request)
        address = wallet_services.address_add(user_id=request.user.pk, origin=self.origin(request), **data)
        return Response(render(AddressOut, address), status=status.HTTP_201_CREATED)


class AddressDetailView(ConsentAPIView):
    @_doc("consent_address_retrieve", AddressOut)
    def get(self, request: Request, address_id: int) -> Response:
        return Response(render(AddressOut, selectors.address_get(user_id=request.user.pk, address_id=address_id)))

    @_doc("consent_address_remove", None, None, 204)
    def delete(self, request: Request, address_id: int) -> Response:
        wallet_services.address_remove(user_id=request.user.pk, address_id=address_id, origin=self.origin(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddressDefaultView(ConsentAPIView):
    @_doc("consent_address_make_default", AddressOut)
    def post(self, request: Request, address_id: int) -> Response:
        address = wallet_services.address_set_default(
            user_id=request.user.pk, address_id=address_id, origin=self.origin(request)
        )
        return Response(render(AddressOut, address))


class StepUpView(ConsentAPIView):
    @_doc("consent_stepup_status", StepUpOut)
    def get(self, request: Request) -> Response:
        return Response(render(StepUpOut, _stepup(request.user.pk)))


class StepUpEnrolView(ConsentAPIView):
    @_doc("consent_stepup_enrol", StepUpEnrolOut, EnrolInput, 201)
    def post(self, request: Request) -> Response:
        proof = _valid(EnrolInput, request)
        device = stepup_services.stepup_enrol_begin(
            user_id=request.user.pk,
            current_code=proof["current_code"],
            password=proof["password"],
            origin=self.origin(request),
        )
        body = {
            "config_url": selectors.stepup_config_url(device=device),
            "qr_svg": selectors.stepup_qr_svg(device=device),
            **_stepup(request.user.pk),
        }
        return Response(render(StepUpEnrolOut, body), status=status.HTTP_201_CREATED)


class StepUpConfirmView(ConsentAPIView):
    @_doc("consent_stepup_confirm", StepUpOut, CodeInput)
    def post(self, request: Request) -> Response:
        code = _valid(CodeInput, request)["code"]
        stepup_services.stepup_enrol_confirm(user_id=request.user.pk, code=code, origin=self.origin(request))
        return Response(render(StepUpOut, _stepup(request.user.pk)))


class StepUpVerifyView(ConsentAPIView):
    @_doc("consent_stepup_verify", StepUpOut, CodeInput)
    def post(self, request: Request) -> Response:
        code = _valid(CodeInput, request)["code"]
        stepup_services.stepup_verify(user_id=request.user.pk, code=code, origin=self.origin(request))
        return Response(render(StepUpOut, _stepup(request.user.pk)))


class ActivityListView(ConsentAPIView):
    @_doc(
        "activity_list",
        ActivityList,
        parameters=[
            OpenApiParameter(
                "before",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                description="Events older than this sequence number (the previous page's next_before).",
            ),
            OpenApiParameter(
                "limit", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Events per page, 1 to 200 (50)."
            ),
        ],
    )
    def get(self, request: Request) -> Response:
        before = request.query_params.get("before")
        if before and not before.isdigit():
            raise ValidationError({"before": ["Give the sequence number of an event."]})
        try:
            limit = min(max(int(request.query_params.get("limit", 50)), 1), ACTIVITY_PAGE_MAX)
        except ValueError:
            raise ValidationError({"limit": ["Give a number between 1 and 200."]}) from None
        entries, next_before = activity_page(
            user_id=request.user.pk, before=int(before) if before else None, limit=limit
        )
        return Response(render(ActivityList, {"results": entries, "next_before": next_before}))


class ActivityDetailView(ConsentAPIView):
    @_doc("activity_retrieve", ActivityOut)
    def get(self, request: Request, event_id: int) -> Response:
        return Response(render(ActivityOut, activity_entry_get(user_id=request.user.pk, event_id=event_id)))
