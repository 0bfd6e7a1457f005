"""The staff console's ops page and trace lookup (admin pages, `config.admin.StaffAdminSite` mounts them).

Both need what every console page needs (active staff who entered a TOTP code: the site's `admin_view`
sends anyone else to sign in) and the `ordering.view_operations` permission (superusers hold every
permission; give it to others through a group): without it the answer is 403. They only read.
"""

from __future__ import annotations

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ordering.models import RolloutArm, RolloutPhase
from ordering.ops.charts import chart_table, render_chart
from ordering.ops.selectors import DEFAULT_WINDOW, EVERYONE, WINDOWS, Cohort, ops_dashboard
from ordering.ops.trace import TraceQueryInvalid, trace_story

OPERATIONS_PERMISSION = "ordering.view_operations"


def _require_operations(request: HttpRequest) -> None:
    if not request.user.has_perm(OPERATIONS_PERMISSION):
        raise PermissionDenied(
            "The ops page and trace lookup need the permission “Can view the ops page and look up traces” "
            "(ordering.view_operations). Ask an administrator to add it to your group."
        )


def _cohort_from(request: HttpRequest) -> tuple[Cohort, str]:
    """The rollout phase and arm asked for (empty: all), and what to tell the person when one does not exist."""
    phase_text = request.GET.get("phase", "").strip()
    arm = request.GET.get("arm", "").strip()
    phase = None
    if phase_text:
        if phase_text not in {str(value) for value in RolloutPhase.values}:
            return EVERYONE, f"There is no phase {phase_text[:10]!r}: choose 0, 1, 2 or 3. Showing every phase."
        phase = int(phase_text)
    if arm and arm not in RolloutArm.values:
        return Cohort(phase=phase), f"There is no arm {arm[:20]!r}: choose assistant or control. Showing both."
    return Cohort(phase=phase, arm=arm or None), ""


def ops_dashboard_view(request: HttpRequest, *, site: AdminSite) -> TemplateResponse:
    _require_operations(request)
    window_key = request.GET.get("window", DEFAULT_WINDOW)
    problem = ""
    if window_key not in WINDOWS:
        problem = f"There is no window {window_key[:20]!r}: showing the last day."
        window_key = DEFAULT_WINDOW
    cohort, cohort_problem = _cohort_from(request)
    dashboard = ops_dashboard(window=WINDOWS[window_key], cohort=cohort)
    buckets = dashboard.buckets
    charts = [
        {
            "panel": panel,
            "svg": render_chart(panel, buckets),
            "table": chart_table(panel, buckets),
            "headers": ["bucket (UTC)", *(series.name for series in panel.series)],
        }
        for panel in dashboard.panels
    ]
    context = {
        **site.each_context(request),
        "title": "Ops dashboard",
        # the charts get the whole width: at 1280 px the side bar would shrink their text by a quarter
        "is_nav_sidebar_enabled": False,
        "windows": WINDOWS.values(),
        "window": WINDOWS[window_key],
        "dashboard": dashboard,
        "charts": charts,
        "problems": [message for message in (problem, cohort_problem) if message],
        "phases": RolloutPhase.choices,
        "arms": RolloutArm.choices,
    }
    return TemplateResponse(request, "admin/ops/dashboard.html", context)


def trace_lookup_view(request: HttpRequest, *, site: AdminSite) -> TemplateResponse:
    _require_operations(request)
    query = request.GET.get("q", "")
    story = None
    problem = ""
    if query.strip():
        try:
            story = trace_story(query=query)
        except TraceQueryInvalid as invalid:
            problem = str(invalid)
    context = {
        **site.each_context(request),
        "title": "Trace lookup",
        "is_nav_sidebar_enabled": False,
        "query": query.strip()[:200],
        "story": story,
        "problem": problem,
        "can_view_audit": request.user.has_perm("audit.view_auditevent"),
    }
    return TemplateResponse(request, "admin/ops/trace.html", context)


def ops_urls(site: AdminSite) -> list:
    def dashboard(request: HttpRequest):
        return ops_dashboard_view(request, site=site)

    def trace(request: HttpRequest):
        return trace_lookup_view(request, site=site)

    return [
        path("ops/", site.admin_view(dashboard), name="ops_dashboard"),
        path("ops/trace/", site.admin_view(trace), name="ops_trace"),
    ]


def ops_app_entry(request: HttpRequest) -> dict | None:
    """The "Operations" section of the console's index and side bar, for those who may open its pages."""
    if not request.user.has_perm(OPERATIONS_PERMISSION):
        return None
    dashboard_url = reverse("admin:ops_dashboard")
    return {
        "name": "Operations",
        "app_label": "ops",
        "app_url": dashboard_url,
        "has_module_perms": True,
        "models": [
            {
                "name": "Ops dashboard",
                "object_name": "OpsDashboard",
                "admin_url": dashboard_url,
                "add_url": None,
                "view_only": True,
                "perms": {"view": True},
            },
            {
                "name": "Trace lookup",
                "object_name": "TraceLookup",
                "admin_url": reverse("admin:ops_trace"),
                "add_url": None,
                "view_only": True,
                "perms": {"view": True},
            },
        ],
    }
