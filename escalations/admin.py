"""The human-in-the-loop queue: the staff console in the admin.

The queue is the changelist (most pressing SLA first, breached rows highlighted); an escalation's page
is a custom detail view with the whole context and one button per action that fits. Buttons post to
`<id>/act/<action>/`, which calls exactly one service from a short whitelist and reports the result as
an admin message. Nobody adds, edits or deletes escalations here: every change goes through a service
and leaves an audit event. Seeing the queue needs `escalations.view_escalation`; acting needs
`escalations.work_escalation` (both held by the "support" group); the admin site itself needs a
verified TOTP device.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from audit.services import Origin
from config.admin import SEARCH_MAX_CHARS, SEARCH_MAX_WORDS, ReadOnlyAdminMixin, search_refusal
from config.tracing import trace_context
from consent.formatting import format_money
from escalations import selectors, services
from escalations.models import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    Escalation,
    EscalationPriority,
    EscalationStatus,
    ResolutionCode,
)
from escalations.services import EscalationActionRefused, ReplyRepeated
from escalations.staff import WORK_PERMISSION
from ordering.models import FlowStatus, OrderFlow, WaitingFor


class QueueStatusFilter(admin.SimpleListFilter):
    """Active escalations unless asked otherwise: the queue is what still needs someone."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [*EscalationStatus.choices, ("all", "All")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Active (open or claimed)",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset.filter(status__in=OPEN_STATUSES)
        if value == "all":
            return queryset
        return queryset.filter(status=value)


class BreachedFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "breached"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Breached"), ("no", "Within SLA")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(is_breached=True)
        if self.value() == "no":
            return queryset.filter(is_breached=False)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("me", "Assigned to me"), ("nobody", "Unassigned")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "me":
            return queryset.filter(assignee_id=request.user.pk)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


_NUMBER_SIGN = re.compile(r"(?<!\S)#(\d+)(?!\S)")

# What staff type to find an escalation (a number, a name, an e-mail, an order number or flow id, a few words of the
# detail) fits in this. Every word is one more OR over the searched columns: a page pasted into the box made a query
# PostgreSQL refused after half a minute ("expression tree is too large").

_PRIORITY_COLOURS = {"urgent": "#b00020", "high": "#c05600", "normal": "#2a6ebb", "low": "#5f6b76"}


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "priority_badge",
        "reason_label",
        "customer_name",
        "status_label",
        "assignee_name",
        "age",
        "sla_left",
        "order_status",
    ]
    list_display_links = ["number", "reason_label"]
    list_filter = [QueueStatusFilter, "reason", "priority", BreachedFilter, AssigneeFilter]
    search_fields = [
        "=id",
        "customer__username",
        "customer__email",
        "=flow__id",
        "=flow__merchant_order_id",
        "detail",
    ]
    search_help_text = (
        "Escalation number (#12 or 12), customer username or e-mail, order number (exact, as the customer sees "
        f"it), order flow id (exact), or detail; at most {SEARCH_MAX_WORDS} words and {SEARCH_MAX_CHARS} characters."
    )
    ordering = ["sla_due_at", "created_at"]
    list_per_page = 50
    actions = ["claim_selected"]
    change_list_template = "admin/escalations/escalation/change_list.html"

    # -- nobody writes here except through the actions (ReadOnlyAdminMixin) ---------------------------

    def has_work_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(WORK_PERMISSION)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Escalation]:
        return selectors.escalations_queue()

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        if search_refusal(search_term) is not None:
            return super().get_search_results(request, queryset, search_term)  # refused there, with the reason
        # The queue writes numbers as "#12", so that is how staff type them.
        return super().get_search_results(request, queryset, _NUMBER_SIGN.sub(r"\1", search_term))

    # -- columns -----------------------------------------------------------------------------------

    @admin.display(description="#", ordering="pk")
    def number(self, escalation: Escalation) -> str:
        return f"#{escalation.pk}"

    @admin.display(description="priority", ordering="priority")
    def priority_badge(self, escalation: Escalation) -> str:
        return format_html(
            '<span class="esc-badge" style="background:{}">{}</span>',
            _PRIORITY_COLOURS.get(escalation.priority, "#5f6b76"),
            escalation.get_priority_display(),
        )

    @admin.display(description="reason", ordering="reason")
    def reason_label(self, escalation: Escalation) -> str:
        return escalation.get_reason_display()

    @admin.display(description="customer", ordering="customer__username")
    def customer_name(self, escalation: Escalation) -> str:
        customer = escalation.customer
        full_name = customer.get_full_name()
        return f"{full_name} ({customer.get_username()})" if full_name else customer.get_username()

    @admin.display(description="status", ordering="status")
    def status_label(self, escalation: Escalation) -> str:
        return escalation.get_status_display()

    @admin.display(description="assignee", ordering="assignee__username")
    def assignee_name(self, escalation: Escalation) -> str:
        return selectors.person_name(escalation.assignee) if escalation.assignee else "—"

    @admin.display(description="age", ordering="created_at")
    def age(self, escalation: Escalation) -> str:
        return selectors.duration_words((timezone.now() - escalation.created_at).total_seconds())

    @admin.display(description="SLA left", ordering="sla_due_at")
    def sla_left(self, escalation: Escalation) -> str:
        left = selectors.escalation_sla_seconds_left(escalation)
        if left is None:
            late = getattr(escalation, "is_breached", False)
            return format_html('<span class="esc-sla {}">{}</span>', "esc-closed-late" if late else "", "closed")
        if left < 0:
            return format_html(
                '<span class="esc-sla esc-breached">breached {} ago</span>', selectors.duration_words(left)
            )
        return format_html('<span class="esc-sla">{}</span>', selectors.duration_words(left))

    @admin.display(description="order")
    def order_status(self, escalation: Escalation) -> str:
        return escalation.flow.get_status_display() if escalation.flow_id else "—"

    # -- the queue page --------------------------------------------------------------------------

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "queue_counts": selectors.escalation_counts_for_staff(staff_id=request.user.pk),
        }
        return super().changelist_view(request, extra_context)

    @admin.action(description="Claim the selected escalations", permissions=["work"])
    def claim_selected(self, request: HttpRequest, queryset: QuerySet[Escalation]) -> None:
        claimed, refused = [], []
        origin = Origin.from_request(request, channel="admin")
        for escalation in queryset:
            try:
                with trace_context(escalation.trace_id) if escalation.trace_id else contextlib.nullcontext():
                    services.escalation_claim(escalation_id=escalation.pk, staff_id=request.user.pk, origin=origin)
            except EscalationActionRefused as refusal:
                refused.append(f"#{escalation.pk}: {refusal.message}")
            else:
                claimed.append(f"#{escalation.pk}")
        if claimed:
            self.message_user(request, f"You hold {', '.join(claimed)} now.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    # -- the detail page and its actions ---------------------------------------------------------

    def get_urls(self):
        act = self.admin_site.admin_view(self.action_view)
        return [
            path("<int:object_id>/act/<str:action>/", act, name="escalations_escalation_act"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        try:
            escalation = selectors.escalation_get(escalation_id=int(object_id))
        except ValueError:
            escalation = None
        if escalation is None:
            raise Http404("No such escalation.")
        if not self.has_view_permission(request, escalation):
            raise PermissionDenied(
                "Seeing escalations needs the permission “Can view escalation” (escalations.view_escalation), "
                f"which the {settings.ESCALATIONS_SUPPORT_GROUP!r} group has. Ask an administrator to add you to it."
            )
        context = {
            **self.admin_site.each_context(request),
            **self._detail_context(request, escalation),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/escalations/escalation/detail.html", context)

    def _detail_context(self, request: HttpRequest, escalation: Escalation) -> dict[str, Any]:
        staff_id = request.user.pk
        conversation = selectors.escalation_conversation(escalation)
        flow = escalation.flow
        preview = flow.preview if flow is not None and flow.preview else None
        preview_rows = None
        if preview:
            currency = preview.get("currency") or flow.currency or "usd"
            preview_rows = {
                "lines": [
                    {
                        **line,
                        "unit": format_money(line["unit_amount"], currency),
                        "line_total": format_money(line["total"], currency),
                    }
                    for line in preview.get("lines", [])
                ],
                "subtotal": format_money(preview.get("subtotal", 0), currency),
                "discount": format_money(preview.get("discount", 0), currency) if preview.get("discount") else "",
                "promo_codes": ", ".join(preview.get("promo_codes") or []),
                "tax": format_money(preview.get("tax", 0), currency),
                "shipping": format_money(preview.get("shipping", 0), currency) if preview.get("shipping") else "free",
                "total": format_money(preview.get("total", 0), currency),
                "ship_to": (preview.get("ship_to") or {}).get("masked", ""),
                "payment": preview.get("payment") or {},
            }
        trace_id = selectors.escalation_trace_id(escalation)
        trace_url = (
            reverse("admin:audit_auditevent_trace", args=[trace_id])
            if trace_id and request.user.has_perm("audit.view_auditevent")
            else ""
        )
        can_work = self.has_work_permission(request)
        refusals = {
            action: services.escalation_action_refusal(escalation, action, staff_id=staff_id)
            for action in services.ACTIONS
        }
        # The text of a reply just refused (`action_view`) goes back in the reply box, once. A page drawn without
        # the box (a colleague holds the escalation now) shows it and keeps it for the page that has the box again
        # (after taking it over); a closed escalation never has the box again, so its page shows it once, to copy.
        draft_key = _reply_draft_key(escalation.pk)
        reply_draft = reply_kept = ""
        if can_work and refusals["reply"] is None:
            reply_draft = request.session.pop(draft_key, "")
        elif not escalation.is_active:
            reply_kept = request.session.pop(draft_key, "")
        else:
            reply_kept = request.session.get(draft_key, "")
        sla_left = selectors.escalation_sla_seconds_left(escalation)
        refusals_of_payment = selectors.payment_refusals(flow_id=flow.pk) if flow is not None else []
        pending_verification = services.pending_payment_verification(escalation)
        return {
            "title": f"Escalation #{escalation.pk}: {escalation.get_reason_display()}",
            "escalation": escalation,
            "customer": escalation.customer,
            "age_words": selectors.duration_words((timezone.now() - escalation.created_at).total_seconds()),
            "sla_left": sla_left,
            "sla_left_words": selectors.duration_words(sla_left) if sla_left is not None else "",
            "breached": escalation.is_breached,
            "conversation": conversation,
            "transcript": selectors.escalation_transcript(conversation),
            "assignee_name": selectors.person_name(escalation.assignee) if escalation.assignee else "",
            "flow": flow,
            "flow_total": format_money(flow.total_amount, flow.currency) if flow and flow.total_amount else "",
            "preview": preview_rows,
            "steps": selectors.escalation_flow_steps(flow=flow, refusals=refusals_of_payment) if flow else [],
            "verification": (
                selectors.payment_verification_summary(flow=flow, refusals=refusals_of_payment) if flow else None
            ),
            # A verification by two specialists the merchant refused for this order: another is not offered, and the
            # page says why and what to do instead (whoever holds the escalation).
            "verification_not_offered": (
                services.two_specialists_refusal(escalation)
                if flow is not None and flow.waiting_for == WaitingFor.PAYMENT_VERIFICATION
                else None
            ),
            # The escalation of the same order whose page takes the decision the order waits for, when it is not
            # this one (a customer's request about an order waiting for its risk review): the page links to it.
            "deciding": services.deciding_escalation(escalation),
            "stop_reason": selectors.flow_stop_reason(flow) if flow is not None and flow.failure_code else "",
            "compensations": list(flow.compensations.order_by("registered_at", "id")) if flow else [],
            "consent": selectors.escalation_consent_summary(
                customer_id=escalation.customer_id,
                chat_session_reference=str(conversation.pk) if conversation else "",
            ),
            "trace_id": trace_id,
            "trace_url": trace_url,
            "history": selectors.escalation_history_rows(escalation),
            "other_escalations": list(
                selectors.escalations_of_customer(customer_id=escalation.customer_id, exclude_id=escalation.pk)[:10]
            ),
            "can_work": can_work,
            "refusals": refusals,
            "fits": {action: refusal is None for action, refusal in refusals.items()},
            "approve_label": "Approve and place",
            # One per page drawn: the reply form sent twice from it (a double click) posts one message.
            "reply_key": uuid.uuid4().hex,
            "reply_draft": reply_draft,
            "reply_kept": reply_kept,
            # 3-D Secure: a recorded verification waits for a second specialist's confirmation.
            "pending_verification": pending_verification,
            "pending_recorded_by": selectors.person_name(pending_verification.recorded_by)
            if pending_verification
            else "",
            # the codes that fit the order as it is (an order canceled is not resolved as "Order placed")
            "resolution_codes": [
                (code, label)
                for code, label in ResolutionCode.choices
                if code != ResolutionCode.HANDED_BACK and services.resolution_code_refusal(escalation, code) is None
            ],
            "suggested_code": _suggested_resolution(escalation),
            "priorities": sorted(EscalationPriority.choices, key=lambda choice: PRIORITY_RANK[choice[0]]),
            "act_urls": {
                action: reverse("admin:escalations_escalation_act", args=[escalation.pk, action])
                for action in services.ACTIONS
            },
        }

    def action_view(self, request: HttpRequest, object_id: int, action: str) -> HttpResponse:
        if request.method != "POST":
            # An action's address opened as a page: most often the sign-in page sending a specialist back
            # here after their session ended mid-action, when what they pressed was never run.
            messages.warning(
                request,
                "Nothing was done: the action was not sent from this page (your session may have ended "
                "before it, and signing in does not send it again). Check the escalation below and press the "
                "button again if it is still needed.",
            )
            return HttpResponseRedirect(reverse("admin:escalations_escalation_change", args=[object_id]))
        if not self.has_work_permission(request):
            raise PermissionDenied(
                f"Working escalations needs the permission “Can work escalations” ({WORK_PERMISSION}), which the "
                f"{settings.ESCALATIONS_SUPPORT_GROUP!r} group has. Ask an administrator to add you to it."
            )
        handler = _ACTION_HANDLERS.get(action)
        if handler is None:
            raise Http404("No such action.")
        escalation = selectors.escalation_get(escalation_id=object_id)
        if escalation is None:
            raise Http404("No such escalation.")
        origin = Origin.from_request(request, channel="admin")
        # Staff actions join the trace of the escalation, so its timeline shows them with the flow's events.
        trace_id = selectors.escalation_trace_id(escalation)
        with trace_context(trace_id) if trace_id else contextlib.nullcontext():
            try:
                said = handler(request, escalation, origin)
            except EscalationActionRefused as refusal:
                messages.error(request, refusal.message)
                if action == "reply":
                    # what was typed comes back in the reply box, so that a reply refused (too long, the escalation
                    # taken by a colleague meanwhile) is shortened or sent again, not typed again
                    request.session[_reply_draft_key(escalation.pk)] = request.POST.get("text", "")[:REPLY_DRAFT_MAX]
            else:
                notice = said if isinstance(said, _Notice) else _Notice(said)
                messages.add_message(request, notice.level, notice.text)
        return HttpResponseRedirect(reverse("admin:escalations_escalation_change", args=[object_id]))


@dataclass(frozen=True)
class _Notice:
    """What an action answers on the page, when it is not plain success."""

    text: str
    level: int = messages.SUCCESS


# The most of a refused reply given back to the reply box (a log pasted by mistake is not kept whole in the session).
REPLY_DRAFT_MAX = 20_000


def _reply_draft_key(escalation_id: int) -> str:
    return f"escalation_reply_draft:{escalation_id}"


def _suggested_resolution(escalation: Escalation) -> str:
    flow = escalation.flow
    if flow is None:
        return ResolutionCode.CUSTOMER_HELPED
    return {
        FlowStatus.PLACED: ResolutionCode.ORDER_PLACED,
        FlowStatus.CANCELED: ResolutionCode.ORDER_CANCELED,
        FlowStatus.COMPENSATED: ResolutionCode.UNDO_COMPLETED,
    }.get(flow.status, ResolutionCode.CUSTOMER_HELPED)


def _flow_now(escalation: Escalation) -> str:
    flow = OrderFlow.objects.filter(pk=escalation.flow_id).first()
    return f" The order is {flow.get_status_display().lower()} now." if flow else ""


def _claim(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    previous = escalation.assignee
    # The colleague the page showed holding it ("Take over from …"); none for "Claim".
    take_over_from = request.POST.get("take_over_from", "")
    services.escalation_claim(
        escalation_id=escalation.pk,
        staff_id=request.user.pk,
        take_over_from=int(take_over_from) if take_over_from.isdigit() else None,
        origin=origin,
    )
    if previous is not None:
        return f"You took escalation #{escalation.pk} over from {selectors.person_name(previous)}."
    return f"You hold escalation #{escalation.pk} now."


def _release(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    services.escalation_release(escalation_id=escalation.pk, staff_id=request.user.pk, origin=origin)
    return f"Escalation #{escalation.pk} is back in the queue."


def _set_priority(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    updated = services.escalation_set_priority(
        escalation_id=escalation.pk, staff_id=request.user.pk, priority=request.POST.get("priority", ""), origin=origin
    )
    due = timezone.localtime(updated.sla_due_at).strftime("%H:%M %Z")
    return f"Priority is {updated.get_priority_display().lower()} now; resolve by {due}."


def _reply(request: HttpRequest, escalation: Escalation, origin: Origin) -> str | _Notice:
    sent = services.escalation_reply(
        escalation_id=escalation.pk,
        staff_id=request.user.pk,
        text=request.POST.get("text", ""),
        reply_key=request.POST.get("reply_key", "")[:64],
        origin=origin,
    )
    customer = escalation.customer.get_username()
    if isinstance(sent, ReplyRepeated):
        at = timezone.localtime(sent.message.created_at).strftime("%H:%M")
        return _Notice(
            f"Not sent again: you sent this same reply at {at}, and {customer} has it in their chat.", messages.WARNING
        )
    return f"Reply sent: {customer} sees it in their chat."


def _approve(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    services.escalation_approve(escalation_id=escalation.pk, staff_id=request.user.pk, origin=origin)
    return f"Approved: the order is being placed.{_flow_now(escalation)}"


def _verify_payment(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    services.escalation_payment_verification_record(
        escalation_id=escalation.pk, staff_id=request.user.pk, note=request.POST.get("note", ""), origin=origin
    )
    return "Verification recorded. It takes effect when a second specialist confirms it; nothing is paid yet."


def _confirm_payment(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    services.escalation_payment_verification_confirm(
        escalation_id=escalation.pk, staff_id=request.user.pk, origin=origin
    )
    confirmed = f"Verification confirmed by a second specialist: the order is being paid again.{_flow_now(escalation)}"
    flow = OrderFlow.objects.filter(pk=escalation.flow_id).first()
    if flow is not None and flow.status == FlowStatus.REQUIRES_ACTION and flow.failure_detail:
        # The merchant would not take the verification (an issuer's mandated challenge): say why, at once.
        confirmed += f" {flow.failure_detail}"
    return confirmed


def _retry(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    services.escalation_retry_compensations(escalation_id=escalation.pk, staff_id=request.user.pk, origin=origin)
    return f"The failed undo steps are running again.{_flow_now(escalation)}"


def _cancel(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    services.escalation_cancel_flow(
        escalation_id=escalation.pk, staff_id=request.user.pk, note=request.POST.get("note", ""), origin=origin
    )
    return f"Order canceled; its holds at the merchant and on spending are being released.{_flow_now(escalation)}"


def _hand_back(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    services.escalation_hand_back(
        escalation_id=escalation.pk, staff_id=request.user.pk, note=request.POST.get("note", ""), origin=origin
    )
    return f"Escalation #{escalation.pk} handed back: the assistant answers {escalation.customer.get_username()} again."


def _resolve(request: HttpRequest, escalation: Escalation, origin: Origin) -> str:
    services.escalation_resolve(
        escalation_id=escalation.pk,
        staff_id=request.user.pk,
        code=request.POST.get("code", ""),
        note=request.POST.get("note", ""),
        origin=origin,
    )
    return f"Escalation #{escalation.pk} resolved."


# The whitelist: each staff action of the console and the one service it calls.
_ACTION_HANDLERS: dict[str, Callable[[HttpRequest, Escalation, Origin], str | _Notice]] = {
    "claim": _claim,
    "release": _release,
    "set_priority": _set_priority,
    "reply": _reply,
    "approve": _approve,
    "verify_payment": _verify_payment,
    "confirm_payment": _confirm_payment,
    "retry_compensations": _retry,
    "cancel_flow": _cancel,
    "hand_back": _hand_back,
    "resolve": _resolve,
}
