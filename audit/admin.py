"""Append-only, hash-chained audit log: the read-only console.

Nobody adds, changes or deletes events here, superusers included; the database would refuse anyway.
Staff with the view permission browse, filter, search and open a trace's timeline; staff with the
export permission download the selection as JSON Lines or CSV (the export is itself audited).
An event the sealer has not reached yet shows "pending" in its chain columns.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audit.models import ActorType, AuditEvent, AuditSeal
from audit.selectors import audit_events_for_trace
from audit.services import Origin, audit_record
from config.admin import ReadOnlyAdminMixin, RefuseUnofferedActionsMixin

EXPORT_FIELDS = [
    "sequence",
    "occurred_at",
    "actor_type",
    "actor_id",
    "customer_id",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "trace_id",
    "origin_ip",
    "origin_user_agent",
    "origin_channel",
    "policy_version",
    "data",
    "chain_position",
    "previous_hash",
    "hash",
]
# Read from the event's seal (None while it is pending).
CHAIN_FIELDS = {"chain_position": "position", "previous_hash": "previous_hash", "hash": "hash"}


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def _spreadsheet_safe(value: object) -> object:
    # A cell starting with = + - @ is a formula to spreadsheet programs; an audit export must not run code.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _seal_of(event: AuditEvent) -> AuditSeal | None:
    try:
        return event.seal
    except AuditSeal.DoesNotExist:
        return None


def _event_row(event: AuditEvent) -> dict:
    seal = _seal_of(event)
    row = {field: getattr(event, field) for field in EXPORT_FIELDS if field not in CHAIN_FIELDS}
    for field, seal_field in CHAIN_FIELDS.items():
        row[field] = getattr(seal, seal_field) if seal else None
    return {field: row[field] for field in EXPORT_FIELDS}


@admin.register(AuditEvent)
class AuditEventAdmin(RefuseUnofferedActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sequence", "chain", "occurred_at", "actor", "action", "target", "outcome", "trace"]
    list_select_related = ["seal"]
    list_display_links = ["sequence"]
    list_filter = ["actor_type", "outcome", "action", "occurred_at"]
    date_hierarchy = "occurred_at"
    search_fields = ["=trace_id", "target_id", "target_type", "actor_id", "action"]
    search_help_text = "Trace id (exact), target type or id, actor id, or action."
    readonly_fields = EXPORT_FIELDS
    fields = EXPORT_FIELDS
    list_per_page = 100
    show_full_result_count = False  # counting a very long log on every page load is wasteful
    actions = ["export_jsonl", "export_csv"]

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("audit.export_auditevent")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("seal")

    # -- columns ---------------------------------------------------------------------------------

    @admin.display(description="chain")
    def chain(self, event: AuditEvent) -> str:
        seal = _seal_of(event)
        return f"#{seal.position}" if seal else "pending"

    @admin.display(description="chain position")
    def chain_position(self, event: AuditEvent) -> str:
        seal = _seal_of(event)
        return str(seal.position) if seal else "pending (not sealed yet)"

    @admin.display(description="previous hash")
    def previous_hash(self, event: AuditEvent) -> str:
        seal = _seal_of(event)
        return seal.previous_hash if seal else "pending"

    @admin.display(description="hash")
    def hash(self, event: AuditEvent) -> str:
        seal = _seal_of(event)
        return seal.hash if seal else "pending"

    @admin.display(description="actor", ordering="actor_type")
    def actor(self, event: AuditEvent) -> str:
        return f"{event.actor_type}:{event.actor_id}" if event.actor_id else event.actor_type

    @admin.display(description="target", ordering="target_type")
    def target(self, event: AuditEvent) -> str:
        return f"{event.target_type}:{event.target_id}" if event.target_type else "—"

    @admin.display(description="trace")
    def trace(self, event: AuditEvent) -> str:
        if not event.trace_id:
            return "—"
        url = reverse("admin:audit_auditevent_trace", args=[event.trace_id])
        return format_html('<a href="{}" title="All events of this trace">{}…</a>', url, event.trace_id[:12])

    # -- the trace timeline ----------------------------------------------------------------------

    def get_urls(self):
        timeline = self.admin_site.admin_view(self.trace_timeline_view)
        return [
            path("trace/<str:trace_id>/", timeline, name="audit_auditevent_trace"),
            *super().get_urls(),
        ]

    def trace_timeline_view(self, request: HttpRequest, trace_id: str) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        events = list(audit_events_for_trace(trace_id=trace_id))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Trace {trace_id}",
            "opts": self.model._meta,
            "trace_id": trace_id,
            "events": events,
        }
        return TemplateResponse(request, "admin/audit/trace_timeline.html", context)

    # -- exports ---------------------------------------------------------------------------------

    def _audit_export(self, request: HttpRequest, queryset: QuerySet, export_format: str) -> None:
        audit_record(
            action="audit.exported",
            actor_type=ActorType.STAFF,
            actor_id=request.user.pk,
            data={"format": export_format, "count": queryset.count()},
            origin=Origin.from_request(request, channel="admin"),
        )

    @admin.action(description="Export selected events as JSON Lines", permissions=["export"])
    def export_jsonl(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        self._audit_export(request, queryset, "jsonl")

        def lines() -> Iterator[str]:
            for event in queryset.select_related("seal").order_by("sequence").iterator(chunk_size=2000):
                yield json.dumps(_event_row(event), cls=DjangoJSONEncoder, sort_keys=True) + "\n"

        response = StreamingHttpResponse(lines(), content_type="application/x-ndjson")
        response["Content-Disposition"] = 'attachment; filename="audit-events.jsonl"'
        return response

    @admin.action(description="Export selected events as CSV", permissions=["export"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        self._audit_export(request, queryset, "csv")
        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow(EXPORT_FIELDS)
            for event in queryset.select_related("seal").order_by("sequence").iterator(chunk_size=2000):
                row = _event_row(event)
                row["data"] = json.dumps(row["data"], sort_keys=True)
                yield writer.writerow([_spreadsheet_safe(row[field]) for field in EXPORT_FIELDS])

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response
