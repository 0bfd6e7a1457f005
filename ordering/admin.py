"""Conversations, the agent, order flows.

The staff console pages. Actions call services; they never save models directly. Conversations and
flows are read-only here: staff read the transcript, the agent's decisions with their rationale,
and the flow's steps and compensations; they act through the escalation console.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ordering.models import (
    ABReport,
    AgentDecision,
    Conversation,
    FlowCompensation,
    FlowOrderAdjustment,
    FlowStep,
    Message,
    OrderFlow,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "role", "text", "data")
    readonly_fields = fields


class DecisionInline(ReadOnlyInline):
    model = AgentDecision
    verbose_name = "agent decision"
    verbose_name_plural = "agent decisions (what the assistant did and why)"
    fields = ("created_at", "planner", "kind", "name", "rationale", "ok", "arguments", "error")
    readonly_fields = fields


class FlowInline(ReadOnlyInline):
    model = OrderFlow
    fields = ("id", "status", "total_amount", "currency", "merchant_order_id", "created_at")
    readonly_fields = fields
    show_change_link = True


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("id", "customer", "status", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("id", "customer__username", "trace_id")
    readonly_fields = ("id", "customer", "status", "trace_id", "agent_state", "created_at", "updated_at")
    inlines = [MessageInline, DecisionInline, FlowInline]


@admin.register(AgentDecision)
class AgentDecisionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "conversation", "planner", "kind", "name", "ok", "rationale")
    list_filter = ("kind", "ok", "planner", "name")
    search_fields = ("conversation__id", "rationale", "name")
    readonly_fields = (
        "conversation",
        "turn",
        "kind",
        "name",
        "arguments",
        "rationale",
        "ok",
        "result",
        "error",
        "planner",
        "created_at",
    )


class StepInline(ReadOnlyInline):
    model = FlowStep
    fields = (
        "name",
        "is_compensation",
        "status",
        "attempt",
        "started_at",
        "finished_at",
        "error_class",
        "error_detail",
    )
    readonly_fields = fields


class CompensationInline(ReadOnlyInline):
    model = FlowCompensation
    fields = (
        "action",
        "target_ref",
        "status",
        "attempts",
        "registered_at",
        "failing_since",
        "retry_at",
        "gave_up_at",
        "finished_at",
        "last_error",
    )
    readonly_fields = fields


class OrderAdjustmentInline(ReadOnlyInline):
    """A shop's refunds and cancellations applied to the order (from its webhooks)."""

    model = FlowOrderAdjustment
    fields = ("adjustment_id", "type", "amount", "credited", "currency", "webhook_event_id", "applied_at")
    readonly_fields = fields


@admin.register(OrderFlow)
class OrderFlowAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "customer",
        "status",
        "total_amount",
        "currency",
        "merchant_order_id",
        "merchant_order_status",
        "updated_at",
    )
    list_filter = ("status", "merchant_id", "confirmed_via", "merchant_order_status")
    search_fields = ("id", "merchant_order_id", "checkout_session_id", "customer__username")
    readonly_fields = [field.name for field in OrderFlow._meta.fields]
    inlines = [StepInline, CompensationInline, OrderAdjustmentInline]


# -- the A/B report (ordering.rollout.report) -----------------------------------------------------------


@admin.register(ABReport)
class ABReportAdmin(admin.ModelAdmin):
    """The A/B report as a page: the experiment's arms side by side with 95 % intervals; nothing to edit.

    Who sees it: staff with `ordering.view_abreport` (superusers have it), on the OTP-verified site."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        from ordering.rollout.report import ARMS, difference_rows, experiment_report, parse_moment, report_rows

        since_text = request.GET.get("since", "30d").strip() or "30d"
        until_text = request.GET.get("until", "").strip()
        phase_text = request.GET.get("phase", "").strip()
        error = ""
        try:
            since = parse_moment(since_text)
            until = parse_moment(until_text) if until_text else None
            phase = int(phase_text) if phase_text else None
            if phase is not None and phase not in (0, 1, 2, 3):
                raise ValueError("The phase is 0, 1, 2 or 3.")
            if until is not None and until <= since:
                raise ValueError("“Until” must be after “since”.")
        except ValueError as problem:
            error = str(problem)
            since, until, phase = parse_moment("30d"), None, None
        report = experiment_report(since=since, until=until, phase=phase)
        context = {
            **self.admin_site.each_context(request),
            "title": "A/B report",
            "opts": self.model._meta,
            "report": report,
            "arms": ARMS,
            "rows": report_rows(report),
            "differences": difference_rows(report),
            "since_text": since_text,
            "until_text": until_text,
            "phase_text": phase_text,
            "error": error,
        }
        return TemplateResponse(request, "admin/ordering/ab_report.html", context, status=400 if error else 200)
