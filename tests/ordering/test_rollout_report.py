"""The A/B report: intervals checked against published values, numbers from seeded funnel events."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ordering.models import ConversationRating, ExperimentEvent
from ordering.rollout.report import difference_rows, experiment_report, report_rows
from ordering.rollout.stats import Sample, mean_interval, newcombe, t_quantile, welch, wilson
from ordering.services import conversation_start

EXPERIMENT = "assistant-vs-checkout"


# -- the statistics, against published values ---------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (29, 2.0452), (55, 2.0040), (1000, 1.9623)],
)
def test_t_quantiles_match_the_tables(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)


def test_wilson_interval_of_8_out_of_10():
    interval = wilson(8, 10)
    assert (interval.low, interval.high) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson(0, 0) is None
    assert wilson(0, 20).low == 0.0


def test_newcombe_difference_matches_his_worked_example():
    # Newcombe (1998), Statistics in Medicine 17:873-890, example (a): 56/70 - 48/80, method 10.
    difference, interval = newcombe(56, 70, 48, 80)
    assert difference == pytest.approx(0.2)
    assert (interval.low, interval.high) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_mean_and_welch_intervals():
    # 4, 5, 5: mean 4.667, s = 0.5774, t(0.975, 2) = 4.3027
    interval = mean_interval(Sample(n=3, total=14, total_squares=66))
    assert (interval.low, interval.high) == pytest.approx((3.2324, 6.1009), abs=1e-4)
    assert mean_interval(Sample(n=1, total=5, total_squares=25)) is None
    # one arm constant: Welch's degrees of freedom are the other arm's n - 1
    difference, interval = welch(Sample(4, 8000, 20_000_000), Sample(3, 4500, 6_750_000))
    s_a = (20_000_000 - 8000**2 / 4) / 3  # variance of 1000, 3000, 1000, 3000
    assert difference == pytest.approx(500)
    spread = (s_a / 4) ** 0.5  # t(0.975, 3) = 3.182446
    assert (interval.low, interval.high) == pytest.approx((500 - 3.182446 * spread, 500 + 3.182446 * spread), abs=0.01)


# -- the report, from seeded events -------------------------------------------------------------------


def _customers(prefix: str, count: int) -> list:
    User = get_user_model()
    User.objects.bulk_create([User(username=f"{prefix}{index}") for index in range(count)])
    return list(User.objects.filter(username__startswith=prefix).order_by("id"))


def _funnel(customers, *, arm: str, orders: int, amounts, channel: str, phase: int = 2) -> None:
    events = []
    for index, customer in enumerate(customers):
        common = {"experiment": EXPERIMENT, "arm": arm, "phase": phase, "customer": customer, "channel": channel}
        events.append(ExperimentEvent(kind="session_started", **common))
        events.append(ExperimentEvent(kind="checkout_started", **common))
        if index < orders:
            amount = amounts[index % len(amounts)]
            events.append(
                ExperimentEvent(
                    kind="order_placed", order_ref=f"ord_{arm}_{index}", amount=amount, currency="usd", **common
                )
            )
    ExperimentEvent.objects.bulk_create(events)


@pytest.fixture
def seeded(db):
    # assistant: 70 customers, each one checkout, 56 orders alternating 10.00 and 30.00 (mean 20.00);
    # control: 80 customers, 48 orders of 15.00 each.
    assistant = _customers("a", 70)
    control = _customers("c", 80)
    _funnel(assistant, arm="assistant", orders=56, amounts=[1000, 3000], channel="assistant")
    _funnel(control, arm="control", orders=48, amounts=[1500], channel="storefront")
    # noise the filters must leave out: another experiment, another phase, last month
    stray = _customers("x", 3)
    _funnel(stray, arm="assistant", orders=3, amounts=[99_999], channel="assistant", phase=1)
    ExperimentEvent.objects.bulk_create(
        [
            ExperimentEvent(
                experiment="older",
                arm="control",
                phase=2,
                customer=stray[0],
                kind="session_started",
                channel="storefront",
            )
        ]
    )
    old = _customers("o", 2)
    _funnel(old, arm="control", orders=2, amounts=[1], channel="storefront")
    ExperimentEvent.objects.filter(customer__in=old).update(created_at=timezone.now() - timedelta(days=40))
    # CSAT: three rated assistant conversations (4, 5, 5)
    for customer, score in zip(assistant[:3], (4, 5, 5), strict=True):
        conversation = conversation_start(customer_id=customer.pk)
        type(conversation).objects.filter(pk=conversation.pk).update(rollout_arm="assistant", rollout_phase=2)
        ConversationRating.objects.create(conversation=conversation, score=score)
    return assistant, control


def test_the_report_counts_each_arm_with_its_intervals(seeded):
    report = experiment_report(since=timezone.now() - timedelta(days=30), phase=2, min_customers=30)

    assistant, control = report.arms["assistant"], report.arms["control"]
    assert (assistant.customers_exposed, control.customers_exposed) == (70, 80)
    assert assistant.checkouts_started == {"assistant": 70, "storefront": 0}
    assert control.orders_placed == {"assistant": 0, "storefront": 48}
    assert (assistant.ocr.successes, assistant.ocr.trials) == (56, 70)
    assert assistant.ocr_by_channel["storefront"].interval is None  # no checkout there: no rate
    assert control.conversion.value == pytest.approx(0.6)
    assert (control.conversion.interval.low, control.conversion.interval.high) == pytest.approx(
        (0.4905, 0.7004), abs=1e-4
    )
    # AOV: 56 orders of 10.00/30.00: mean 20.00, s = 1000*sqrt(56/55), t(0.975, 55) = 2.0040
    aov = assistant.aov["usd"]
    half = 2.00404 * 1000 * (56 / 55) ** 0.5 / 56**0.5
    assert aov.n == 56 and aov.value == pytest.approx(2000)
    assert (aov.interval.low, aov.interval.high) == pytest.approx((2000 - half, 2000 + half), abs=0.05)
    assert control.aov["usd"].interval.low == pytest.approx(1500)
    # CSAT only where the assistant was rated
    assert assistant.csat.n == 3 and assistant.csat.value == pytest.approx(14 / 3)
    assert control.csat is None
    # differences assistant - control: Newcombe's example for OCR and conversion, Welch for AOV
    differences = {d.metric: d for d in report.differences}
    assert differences["ocr"].value == pytest.approx(0.2)
    assert (differences["ocr"].interval.low, differences["ocr"].interval.high) == pytest.approx(
        (0.0524, 0.3339), abs=1e-4
    )
    assert differences["aov:usd"].value == pytest.approx(500)
    assert differences["aov:usd"].interval.low == pytest.approx(500 - half, abs=0.05)
    readings = {row["metric"]: row["reading"] for row in difference_rows(report)}
    assert readings["OCR"] == "assistant higher"


def test_without_a_phase_the_other_phases_count_and_other_experiments_never(seeded):
    report = experiment_report(since=timezone.now() - timedelta(days=30), min_customers=30)
    assert report.arms["assistant"].customers_exposed == 73  # phase 1's three customers too
    assert report.arms["control"].customers_exposed == 80  # not "older", not last month's


def test_an_arm_with_too_few_customers_is_not_enough_data(seeded):
    report = experiment_report(since=timezone.now() - timedelta(days=30), phase=2, min_customers=75)

    assert not report.arms["assistant"].enough_data and report.arms["control"].enough_data
    assert report.differences == []
    [row] = difference_rows(report)
    assert "not enough data" in row["difference"] and "assistant: 70 customers" in row["difference"]
    ocr = next(row for row in report_rows(report) if row["metric"] == "OCR (orders / checkouts)")
    assert ocr["assistant"] == "80.0 % (not enough data)"
    assert ocr["control"].startswith("60.0 % [")


def test_the_command_prints_a_table_and_json(seeded, settings):
    settings.ORDERING_ROLLOUT_REPORT_MIN_CUSTOMERS = 30
    out = io.StringIO()
    call_command("rollout_report", "--since", "7d", "--phase", "2", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["arms"]["assistant"]["ocr"]["ci95"] == pytest.approx([0.6920, 0.8767], abs=1e-3)
    assert data["arms"]["control"]["customers_exposed"] == 80
    [ocr] = [d for d in data["differences"] if d["metric"] == "ocr"]
    assert ocr["ci95"] == pytest.approx([0.0524, 0.3339], abs=1e-4)

    out = io.StringIO()
    call_command("rollout_report", "--since", "7d", "--phase", "2", stdout=out)
    table = out.getvalue()
    assert "Customers exposed" in table and "+20.0 pts [+5.2, +33.4]" in table and "assistant higher" in table

    with pytest.raises(CommandError, match="not a date"):
        call_command("rollout_report", "--since", "last tuesday")


def test_an_empty_window_says_not_enough_data(db):
    out = io.StringIO()
    call_command("rollout_report", "--since", "1d", stdout=out)
    assert "not enough data" in out.getvalue()


# -- the staff console page ----------------------------------------------------------------------------

REPORT_URL = "/admin/ordering/abreport/"


def _staff(username: str, *permissions: str):
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user(username, password="irrelevant-pass-1", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    return user


def test_the_admin_page_shows_the_same_numbers_to_otp_staff_with_the_permission(seeded, otp_login, settings):
    settings.ORDERING_ROLLOUT_REPORT_MIN_CUSTOMERS = 30
    client = otp_login(_staff("analyst", "view_abreport"))

    page = client.get(REPORT_URL, {"since": "7d", "phase": "2"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "A/B report" in html and "Customers exposed" in html
    assert "+20.0 pts [+5.2, +33.4]" in html and "assistant higher" in html
    assert "80.0 % [69.2, 87.7]" in html  # assistant OCR with its Wilson interval
    assert "<script" not in html.split('id="content-main"')[1]  # server-rendered, no script of its own
    # a bad filter is a 400 with a message, not a crash
    bad = client.get(REPORT_URL, {"since": "yesterday-ish"})
    assert bad.status_code == 400 and "is not a date" in bad.content.decode()
    # nothing to add, change or delete
    assert client.get(f"{REPORT_URL}add/").status_code == 403


def test_the_admin_page_needs_the_permission_and_a_verified_device(seeded, otp_login, client):
    assert otp_login(_staff("helpdesk")).get(REPORT_URL).status_code == 403
    client.force_login(_staff("no-device", "view_abreport"))  # signed in without a TOTP device
    answer = client.get(REPORT_URL)
    assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
