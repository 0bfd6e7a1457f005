"""Conversations, the agent, order flows.

The staff console pages. Actions call services; they never save models directly. Conversations and
flows are read-only here: staff read the transcript, the agent's decisions with their rationale,
and the flow's steps and compensations; they act through the escalation console.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path

from audit.models import ActorType
from audit.services import Origin
from config.admin import ReadOnlyAdminMixin, ReadOnlyInline
from ordering.models import (
    ABReport,
    AgentDecision,
    Conversation,
    FlowCompensation,
    FlowOrderAdjustment,
    FlowStep,
    Message,
    OrderFlow,
    RolloutPhase,
    RolloutSettings,
)
from ordering.rollout.gates import STATUS_TEXT, gates_evaluate, gates_met
from ordering.rollout.services import EDITABLE as ROLLOUT_EDITABLE
from ordering.rollout.services import (
    RolloutChangeRefused,
    kill_switch_set,
    rollout_settings_row,
    rollout_settings_update,
    rollout_values_check,
)


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


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    pass


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
    list_filter = ("status", "waiting_for", "merchant_id", "confirmed_via", "merchant_order_status")
    search_fields = ("id", "merchant_order_id", "checkout_session_id", "customer__username")
    readonly_fields = [field.name for field in OrderFlow._meta.fields]
    inlines = [StepInline, CompensationInline, OrderAdjustmentInline]


# -- the A/B report (ordering.rollout.report) -----------------------------------------------------------


@admin.register(ABReport)
class ABReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The A/B report as a page: the experiment's arms side by side with 95 % intervals; nothing to edit.

    Who sees it: staff with `ordering.view_abreport` (superusers have it), on the OTP-verified site."""

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


# -- rollout: the phase, the shares, the limits, the gates and the kill switch (ordering.rollout) -------


class RolloutSettingsForm(forms.ModelForm):
    """The operator's settings; validated here for clear messages, and again by the service that saves them."""

    force = forms.BooleanField(
        required=False,
        label="Force the phase change past its gates",
        help_text="Only when the gates are not met and you know why; the reason and the unmet gates are audited.",
    )
    reason = forms.CharField(required=False, max_length=255, label="Reason (kept in the audit log)")

    class Meta:
        model = RolloutSettings
        fields = list(ROLLOUT_EDITABLE)
        help_texts = {
            "beta_percent": "Phase 1: the share of customers (by stable bucket) who get the assistant, 0-100.",
            "assistant_percent": "Phase 2: the share given the assistant; the rest use the shop's checkout, 0-100.",
            "beta_session_ceiling": "Phase 1: what one chat may order in total, in minor units (10000 = $100.00).",
            "gate_window_hours": "The gates look at this many past hours.",
            "gate_min_flows": "Fewer flows than this in the window: 'not enough data' (not met).",
            "gate_ocr_floor_percent": "Order completion (placed / started flows) at least this, 0-100.",
            "gate_payment_p95_ms": "The payment step's p95 at most this many milliseconds.",
            "gate_escalation_percent": "Escalations per 100 flows at most this, 0-100.",
        }

    def clean(self):
        cleaned = super().clean()
        for name, problem in rollout_values_check(
            {name: cleaned[name] for name in ROLLOUT_EDITABLE if cleaned.get(name) is not None}
        ).items():
            self.add_error(name, problem)
        return cleaned


class KillSwitchForm(forms.Form):
    on = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=255, label="Reason (kept in the audit log)")


@admin.register(RolloutSettings)
class RolloutSettingsAdmin(admin.ModelAdmin):
    """One page: the settings form, each gate of the current phase with its numbers, and the kill switch.

    Viewing needs `ordering.view_rolloutsettings`; changing anything (the kill switch too) needs
    `ordering.change_rolloutsettings`. Every change goes through ordering.rollout.services (audited)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.rollout_view)
        return [path("", view, name="ordering_rolloutsettings_changelist"),
                path("<path:object_id>/change/", view, name="ordering_rolloutsettings_change")]  # fmt: skip

    def rollout_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        row = rollout_settings_row()
        can_change = self.has_change_permission(request, row)
        form = RolloutSettingsForm(instance=row)
        kill_form = KillSwitchForm(initial={"on": not row.kill_switch})
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            origin = Origin.from_request(request, channel="admin")
            name = request.user.get_username()
            if "kill_switch" in request.POST:
                kill_form = KillSwitchForm(request.POST)
                if kill_form.is_valid():
                    try:
                        kill_switch_set(
                            on=kill_form.cleaned_data["on"],
                            reason=kill_form.cleaned_data["reason"],
                            actor_type=ActorType.STAFF,
                            actor_id=request.user.pk,
                            actor_name=name,
                            origin=origin,
                        )
                    except RolloutChangeRefused as refusal:
                        kill_form.add_error("reason", refusal.message)
                    else:
                        on = kill_form.cleaned_data["on"]
                        messages.success(
                            request,
                            "The kill switch is ON: the assistant takes no new orders (within "
                            f"{settings.ORDERING_ROLLOUT_CACHE_SECONDS} s everywhere); orders already placing finish."
                            if on
                            else "The kill switch is off: the assistant takes orders again.",
                        )
                        return HttpResponseRedirect(request.path)
            else:
                form = RolloutSettingsForm(request.POST, instance=rollout_settings_row())
                if form.is_valid():
                    try:
                        rollout_settings_update(
                            staff_id=request.user.pk,
                            staff_name=name,
                            changes={field: form.cleaned_data[field] for field in ROLLOUT_EDITABLE},
                            force=form.cleaned_data["force"],
                            reason=form.cleaned_data["reason"],
                            origin=origin,
                        )
                    except RolloutChangeRefused as refusal:
                        fields = refusal.details.get("fields") or {}
                        form.add_error("phase" if "phase" in fields else None, refusal.message)
                    else:
                        messages.success(request, "The rollout settings are saved (and audited).")
                        return HttpResponseRedirect(request.path)
        row = rollout_settings_row()
        gates = gates_evaluate(row=row)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Rollout",
            "row": row,
            "form": form,
            "kill_form": kill_form,
            "can_change": can_change,
            "gates": [{"gate": gate, "status_text": STATUS_TEXT[gate.status]} for gate in gates],
            "gates_met": gates_met(gates),
            "next_phase": row.phase + 1 if row.phase < RolloutPhase.EVERYONE else None,
            "checkout_url": settings.ORDERING_ROLLOUT_CHECKOUT_URL,
            "cache_seconds": settings.ORDERING_ROLLOUT_CACHE_SECONDS,
        }
        return TemplateResponse(request, "admin/ordering/rolloutsettings/rollout.html", context)
