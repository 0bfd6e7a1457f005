"""The ops page's numbers, computed by the database from real rows (ordering/ops/selectors.py).

A fixed clock (12:30 UTC) and the last-day window: hourly buckets from 13:00 the day before to 13:00, so
10:xx is bucket 21, 11:xx bucket 22 and 12:xx bucket 23. The rows are what a morning of traffic leaves:
flows placed and failed, failed step attempts, undo steps, turns, ratings, escalations; plus rows
outside the window that must not count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from escalations.models import Escalation
from ordering.models import (
    Conversation,
    ConversationRating,
    ConversationTurn,
    FlowCompensation,
    FlowStep,
    OrderFlow,
)
from ordering.ops.charts import render_chart
from ordering.ops.selectors import WINDOWS, Cohort, latency_quantile, ops_buckets, ops_dashboard

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 12, 30, tzinfo=UTC)
DAY = WINDOWS["day"]


def at(hour: int, minute: int = 0, second: float = 0, *, days_ago: int = 0) -> datetime:
    return datetime(2026, 12, 3, hour, minute, tzinfo=UTC) - timedelta(days=days_ago) + timedelta(seconds=second)


class Traffic:
    """Rows with chosen timestamps (auto_now fields are set afterwards with update())."""

    def __init__(self) -> None:
        self.customer = get_user_model().objects.create_user("carol", password="irrelevant-pass-9")
        self._sessions = 0

    def conversation(self, *, started: datetime, phase: int | None = None, arm: str = "") -> Conversation:
        conversation = Conversation.objects.create(
            customer=self.customer, trace_id=f"trace-{self._sessions}", rollout_phase=phase, rollout_arm=arm
        )
        Conversation.objects.filter(pk=conversation.pk).update(created_at=started)
        return conversation

    def flow(
        self,
        *,
        started: datetime,
        status: str,
        total: int = 0,
        placed: datetime | None = None,
        phase: int | None = None,
        arm: str = "",
    ) -> OrderFlow:
        self._sessions += 1
        flow = OrderFlow.objects.create(
            customer=self.customer,
            conversation=self.conversation(started=started, phase=phase, arm=arm),
            rollout_phase=phase,
            rollout_arm=arm,
            merchant_id="sandbox",
            checkout_session_id=f"cs_{self._sessions}",
            status=status,
            currency="usd",
            total_amount=total or None,
            merchant_order_id=f"ord_{self._sessions}" if placed else "",
            placed_at=placed,
        )
        OrderFlow.objects.filter(pk=flow.pk).update(created_at=started)
        return flow

    def step(self, flow, name: str, *, started: datetime, seconds: float, status="succeeded", error="", attempt=1):
        return FlowStep.objects.create(
            flow=flow,
            name=name,
            attempt=attempt,
            status=status,
            started_at=started,
            finished_at=started + timedelta(seconds=seconds),
            error_class=error,
            is_compensation=False,
        )

    def turn(self, conversation, *, started: datetime, seconds: float | None, status="done"):
        turn = ConversationTurn.objects.create(
            conversation=conversation,
            status=status,
            finished_at=started + timedelta(seconds=seconds) if seconds is not None else None,
        )
        ConversationTurn.objects.filter(pk=turn.pk).update(started_at=started)

    def rating(self, conversation, *, score: int, given: datetime):
        rating = ConversationRating.objects.create(conversation=conversation, score=score)
        ConversationRating.objects.filter(pk=rating.pk).update(updated_at=given, created_at=given)

    def escalation(self, *, reason: str, opened: datetime, resolved: datetime | None, flow=None):
        escalation = Escalation.objects.create(
            reason=reason,
            customer=self.customer,
            flow=flow,
            status="resolved" if resolved else "open",
            resolved_at=resolved,
        )
        Escalation.objects.filter(pk=escalation.pk).update(created_at=opened)


@pytest.fixture
def morning():
    traffic = Traffic()
    # 10:xx: four flows, three placed ($50, $70, $90), one failed at the payment after a retry
    placed = [
        traffic.flow(started=at(10, 15), status="placed", total=total, placed=at(10, 20))
        for total in (5000, 7000, 9000)
    ]
    failed = traffic.flow(started=at(10, 15), status="compensated", total=4000)
    for flow in placed:
        traffic.step(flow, "complete_checkout", started=at(10, 19), seconds=0.3)
    traffic.step(failed, "complete_checkout", started=at(10, 16), seconds=4.0, status="failed", error="network_error")
    traffic.step(
        failed, "complete_checkout", started=at(10, 17), seconds=0.1, status="failed", error="server_error", attempt=2
    )
    # an undo step that failed is not a saga step failure
    FlowStep.objects.create(
        flow=failed,
        name="revoke_token",
        attempt=1,
        status="failed",
        started_at=at(10, 18),
        finished_at=at(10, 18, 1),
        error_class="server_error",
        is_compensation=True,
    )
    for action, status in (("cancel_checkout", "done"), ("release_spend", "done"), ("revoke_token", "failed")):
        FlowCompensation.objects.create(
            flow=failed, action=action, target_ref=f"{action}-1", status=status, registered_at=at(10, 16)
        )
    # 12:xx: two flows, one placed ($30, paid in 1.5 s), one stopped at the price check
    late = traffic.flow(started=at(12, 5), status="placed", total=3000, placed=at(12, 10))
    traffic.step(late, "complete_checkout", started=at(12, 9), seconds=1.5)
    stopped = traffic.flow(started=at(12, 5), status="compensated", total=2000)
    traffic.step(stopped, "verify_price", started=at(12, 6), seconds=0.2, status="failed", error="client_error")
    FlowCompensation.objects.create(
        flow=stopped, action="cancel_checkout", target_ref="cs-2", status="not_needed", registered_at=at(12, 6)
    )
    # two days ago: none of it counts
    old = traffic.flow(started=at(10, 0, days_ago=2), status="placed", total=99900, placed=at(10, 5, days_ago=2))
    traffic.step(old, "complete_checkout", started=at(10, 4, days_ago=2), seconds=20, status="failed", error="x")
    traffic.turn(old.conversation, started=at(10, 0, days_ago=2), seconds=50)
    traffic.rating(old.conversation, score=1, given=at(10, 0, days_ago=2))
    # turns: two quick ones at 10:xx, a slow failed one at 12:xx, one still queued
    traffic.turn(placed[0].conversation, started=at(10, 10), seconds=0.8)
    traffic.turn(placed[1].conversation, started=at(10, 11), seconds=0.8)
    traffic.turn(late.conversation, started=at(12, 1), seconds=12, status="failed")
    traffic.turn(stopped.conversation, started=at(12, 2), seconds=None, status="queued")
    # ratings: 5 and 4 at 10:xx, 2 at 12:xx
    traffic.rating(placed[0].conversation, score=5, given=at(10, 40))
    traffic.rating(placed[1].conversation, score=4, given=at(10, 41))
    traffic.rating(late.conversation, score=2, given=at(12, 20))
    # escalations: one opened 10:30 resolved 11:30 (60 min), one opened 12:00 resolved 12:20 (20 min), one open
    traffic.escalation(reason="payment_verification", opened=at(10, 30), resolved=at(11, 30), flow=failed)
    traffic.escalation(reason="customer_request", opened=at(12, 0), resolved=at(12, 20))
    traffic.escalation(reason="customer_request", opened=at(12, 25), resolved=None)
    return traffic


def _series(panel, name: str) -> dict[int, float]:
    values = next(series for series in panel.series if series.name == name).values
    return {index: value for index, value in enumerate(values) if value}


def test_buckets_are_aligned_to_the_clock_and_end_with_the_current_one():
    buckets = ops_buckets(window=DAY, now=NOW)

    assert buckets.count == 24
    assert (buckets.start, buckets.end) == (at(13, days_ago=1), at(13))
    assert buckets.labels[21] == "10:00"
    hour = ops_buckets(window=WINDOWS["hour"], now=NOW)
    assert (hour.count, hour.start, hour.end, hour.labels[0]) == (12, at(11, 35), at(12, 35), "11:35")
    week = ops_buckets(window=WINDOWS["week"], now=NOW)
    assert (week.count, week.end, week.labels[-1]) == (7, datetime(2026, 12, 4, tzinfo=UTC), "Thu 03 Dec")


def test_every_panel_is_computed_from_the_rows_in_the_window(morning, django_assert_num_queries):
    with django_assert_num_queries(9):  # one per panel, whatever the traffic
        dashboard = ops_dashboard(window=DAY, now=NOW)

    ocr = dashboard.panel("ocr")
    assert _series(ocr, "placed / started") == {21: 0.75, 23: 0.5}
    assert dict(ocr.totals) == {"Flows started": "6", "Placed": "4", "Order completion rate": "66.7%"}

    failures = dashboard.panel("failures")
    assert [series.name for series in failures.series] == ["verify_price", "complete_checkout"]
    assert _series(failures, "complete_checkout") == {21: 2}
    assert _series(failures, "verify_price") == {23: 1}
    assert dict(failures.totals) == {
        "verify_price · client_error": "1",
        "complete_checkout · network_error": "1",
        "complete_checkout · server_error": "1",
    }

    compensations = dashboard.panel("compensations")
    assert _series(compensations, "cancel_checkout") == {21: 1, 23: 1}
    assert _series(compensations, "revoke_token") == {21: 1}
    assert dict(compensations.totals) == {
        "cancel_checkout · done": "1",
        "cancel_checkout · not_needed": "1",
        "release_spend · done": "1",
        "revoke_token · failed": "1",
    }

    escalations = dashboard.panel("escalations")
    assert _series(escalations, "payment_verification") == {21: 1}
    assert _series(escalations, "customer_request") == {23: 2}
    mttr = dashboard.panel("mttr")
    assert _series(mttr, "MTTR (min)") == {22: pytest.approx(60), 23: pytest.approx(20)}
    assert dict(mttr.totals) == {"Resolved": "2", "MTTR": "40.0 min"}

    csat = dashboard.panel("csat")
    assert _series(csat, "mean score") == {21: 4.5, 23: 2.0}
    assert dict(csat.totals) == {"Ratings": "3", "Mean score": "3.67 / 5"}

    aov = dashboard.panel("aov")
    assert aov.unit == "USD"
    assert _series(aov, "USD") == {21: 70.0, 23: 30.0}
    assert dict(aov.totals) == {"USD orders": "4", "USD AOV": "$60.00"}

    # payment attempts: 0.1 s, 0.3 s x3 and 4 s at 10:xx, 1.5 s at 12:xx; interpolated within the latency
    # classes: the 10:xx median is the 2.5th of 5, the middle of the three in (0.25, 0.5]
    payment = dashboard.panel("payment_latency")
    assert _series(payment, "p50") == {21: pytest.approx(0.375), 23: pytest.approx(1.5)}
    assert _series(payment, "p95") == {21: pytest.approx(2.5 + 2.5 * 0.75), 23: pytest.approx(1.95)}
    assert dict(payment.totals) == {"Measured": "6", "p50": "0.42 s", "p95": "4.25 s"}

    # turns: 0.8 s x2 at 10:xx, 12 s at 12:xx (failed turns count, the queued one does not)
    turns = dashboard.panel("turn_latency")
    assert _series(turns, "p50") == {21: pytest.approx(0.75), 23: pytest.approx(20.0)}
    assert _series(turns, "p95") == {21: pytest.approx(0.975), 23: pytest.approx(29.0)}
    assert dict(turns.totals)["Measured"] == "3"


def test_the_hour_window_sees_only_the_last_hour(morning):
    dashboard = ops_dashboard(window=WINDOWS["hour"], now=NOW)

    assert dict(dashboard.panel("ocr").totals)["Flows started"] == "2"
    assert dict(dashboard.panel("csat").totals) == {"Ratings": "1", "Mean score": "2.00 / 5"}
    assert dict(dashboard.panel("aov").totals) == {"USD orders": "1", "USD AOV": "$30.00"}


def test_an_empty_window_says_so_in_every_chart(db):
    dashboard = ops_dashboard(window=DAY, now=NOW)

    for panel in dashboard.panels:
        assert panel.is_empty, panel.key
        svg = render_chart(panel, dashboard.buckets)
        assert panel.empty_message in svg
        assert "<polyline" not in svg and "<circle" not in svg


def test_the_charts_draw_the_values_with_labelled_axes(morning):
    dashboard = ops_dashboard(window=DAY, now=NOW)

    ocr = render_chart(dashboard.panel("ocr"), dashboard.buckets)
    assert ocr.startswith('<svg class="ops-chart" data-panel="ocr"')
    assert ">75%</text>" in ocr and ">50%</text>" in ocr
    assert "share of flows (%)" in ocr and "time (UTC), one hour per mark" in ocr and ">11:00</text>" in ocr
    failures = render_chart(dashboard.panel("failures"), dashboard.buckets)
    assert failures.count("<rect x=") >= 3  # background, legend and bars
    assert ">complete_checkout</text>" in failures and 'class="ops-value">2</text>' in failures
    aov = render_chart(dashboard.panel("aov"), dashboard.buckets)
    assert ">70.00</text>" in aov and "USD (major units)" in aov


def test_a_cohort_narrows_every_panel_to_its_phase_and_arm(db):
    traffic = Traffic()
    # phase 2: the assistant arm placed two of three, the control arm one of two; phase 1 placed its one
    for status in ("placed", "placed", "failed"):
        flow = traffic.flow(
            started=at(10, 5), status=status, total=5000, placed=at(10, 6) if status == "placed" else None, phase=2,
            arm="assistant",
        )  # fmt: skip
    traffic.rating(flow.conversation, score=2, given=at(10, 7))
    traffic.escalation(reason="risk_review", opened=at(10, 8), resolved=None, flow=flow)
    for status in ("placed", "failed"):
        flow = traffic.flow(
            started=at(10, 5), status=status, total=8000, placed=at(10, 6) if status == "placed" else None, phase=2,
            arm="control",
        )  # fmt: skip
    traffic.rating(flow.conversation, score=5, given=at(10, 7))
    traffic.flow(started=at(10, 5), status="placed", total=1000, placed=at(10, 6), phase=1, arm="assistant")

    def totals(key: str, cohort: Cohort) -> dict:
        return dict(ops_dashboard(window=DAY, now=NOW, cohort=cohort).panel(key).totals)

    assert totals("ocr", Cohort())["Order completion rate"] == "66.7%"  # 4 of 6
    assert totals("ocr", Cohort(phase=2, arm="assistant"))["Order completion rate"] == "66.7%"  # 2 of 3
    assert totals("ocr", Cohort(phase=2, arm="control"))["Order completion rate"] == "50.0%"
    assert totals("ocr", Cohort(phase=2))["Flows started"] == "5"
    assert totals("ocr", Cohort(arm="assistant"))["Flows started"] == "4"
    assert totals("aov", Cohort(arm="control"))["USD AOV"] == "$80.00"
    assert totals("csat", Cohort(arm="assistant"))["Mean score"] == "2.00 / 5"
    assert totals("csat", Cohort(arm="control"))["Mean score"] == "5.00 / 5"
    assert totals("escalations", Cohort(arm="assistant")) == {"risk_review": "1"}
    assert totals("escalations", Cohort(arm="control")) == {}


def test_latency_quantile_interpolates_within_the_class_like_prometheus():
    # classes: <=0.05, <=0.1, <=0.25, <=0.5, <=1, <=2, <=2.5, <=5, <=10, <=30, <=60, above
    counts = [0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0]
    assert latency_quantile(0.5, counts) == pytest.approx(0.25 + 0.25 * 5 / 9)
    assert latency_quantile(0.95, counts) == pytest.approx(2.5 + 2.5 * 0.5)
    assert latency_quantile(0.5, [0] * 12) is None
    assert latency_quantile(0.99, [0] * 11 + [3]) == 60.0  # above the last bound reads as the last bound
