"""The policy file format: the shipped file, and invalid files refused with messages that name the problem."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from django.core.management import CommandError, call_command

from consent.policies.active import BUILTIN_DEFAULTS
from consent.policies.schema import PolicyInvalid, policy_parse, policy_read_file
from tests.policy.conftest import SHIPPED, variant


def _errors(text: str, **kwargs) -> list[str]:
    with pytest.raises(PolicyInvalid) as raised:
        policy_parse(text, source="test.toml", **kwargs)
    return raised.value.errors


def test_the_shipped_policy_holds_exactly_the_rules_that_applied_before_policy_files():
    policy = policy_read_file(SHIPPED)

    assert policy.version == "risk-v2"
    values = {f"{section}.{key}": value for section in ("spend", "risk", "eligibility")
              for key, value in asdict(getattr(policy, section)).items()}  # fmt: skip
    assert values == BUILTIN_DEFAULTS
    assert len(policy.sha256) == 64


def test_an_unknown_key_is_refused_by_name(tmp_path):
    text = SHIPPED.read_text().replace("review_score = 80", "review_score = 80\nreveiw_score = 90")
    text = "owner = 'risk team'\n" + text

    errors = _errors(text)

    assert any(e.startswith("risk.reveiw_score: unknown key (known: first_order_points,") for e in errors), errors
    assert "owner: unknown key (a policy has version, description, spend, risk, eligibility)" in errors


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('step_up_score = "50"', "risk.step_up_score: must be a whole number, not str '50'"),
        ("step_up_score = 50.5", "risk.step_up_score: must be a whole number, not float 50.5"),
        ("step_up_score = true", "risk.step_up_score: must be a whole number, not bool True"),
    ],
)
def test_a_wrong_type_is_refused_with_the_type_it_had(line, message):
    text = SHIPPED.read_text().replace("step_up_score = 50", line)

    assert _errors(text) == [message]


def test_a_negative_amount_and_a_zero_window_are_refused():
    text = SHIPPED.read_text().replace("per_day = 100_000", "per_day = -1")
    text = text.replace("velocity_window_minutes = 60", "velocity_window_minutes = 0")

    assert _errors(text) == [
        "spend.per_day: must be zero or more, not -1",
        "risk.velocity_window_minutes: must be at least 1, not 0",
    ]


def test_a_missing_section_and_a_missing_key_are_named():
    text = SHIPPED.read_text()
    eligibility = text.index("[eligibility]")
    text = text[: text.rindex("\n#", 0, eligibility)] + "\n"  # drop the section and its comment
    text = text.replace("per_session = 50_000\n", "")

    assert _errors(text) == ["spend.per_session: missing", "[eligibility]: missing section"]


def test_review_below_step_up_is_refused_and_every_problem_is_listed_at_once():
    text = SHIPPED.read_text().replace("review_score = 80", "review_score = 40")
    text = text.replace("per_order = 50_000", "per_order = -5")

    assert _errors(text) == [
        "spend.per_order: must be zero or more, not -5",
        "risk.review_score: 40 is below risk.step_up_score 50 "
        "(review is the stronger answer, so it needs the higher score)",
    ]


def test_broken_toml_and_a_version_that_is_not_the_file_name(tmp_path):
    assert _errors("version = \n")[0].startswith("not valid TOML (")

    path = variant(tmp_path, "2026-12-03")
    path.rename(tmp_path / "2026-12-04.toml")
    with pytest.raises(PolicyInvalid) as raised:
        policy_read_file(tmp_path / "2026-12-04.toml")
    assert raised.value.errors == ["version: '2026-12-03' must match the file name (2026-12-04.toml)"]


def test_policy_check_prints_a_summary_of_a_valid_file(capsys):
    call_command("policy_check", str(SHIPPED))

    out = capsys.readouterr().out
    assert "risk-v2.toml: valid policy" in out
    assert "spend ceilings (minor units): per_order 50000, per_day 100000, per_month 300000, per_session 50000" in out
    assert "risk: step-up from 50 points, review from 80" in out


def test_policy_check_lists_every_problem_of_an_invalid_file(tmp_path):
    path = variant(tmp_path, "broken", per_month="-3", step_up_score='"high"')

    with pytest.raises(CommandError) as raised:
        call_command("policy_check", str(path))

    message = str(raised.value)
    assert "is not a valid policy (2 problem(s))" in message
    assert "  - spend.per_month: must be zero or more, not -3" in message
    assert "  - risk.step_up_score: must be a whole number, not str 'high'" in message


def test_policy_check_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="There is no policy file"):
        call_command("policy_check", str(tmp_path / "nope.toml"))
