"""The Prometheus rules in deploy/prometheus pass promtool's checks and its unit tests.

`promtool test rules` feeds each test file's series through the rules and compares the alerts and
recorded values with what the file expects: series that must fire and series that must not.
Without promtool these tests are skipped, and fail under REQUIRE_SERVICES=1 (as in CI, which installs it).
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from tests.ops.promql import PROJECT_DIR, PROMETHEUS_DIR, RULE_FILES, RULE_TEST_FILES, alert_rules

pytestmark = pytest.mark.promtool


# Go's garbage collector, with its default target (GOGC=100), took about a seventh of promtool's CPU in the long rule
# tests (undo.test.yml: 7.0 s of CPU, 5.9 s with 400, ~120 MB instead of ~65 MB at most); what it computes is the same.
PROMTOOL_ENV = {**os.environ, "GOGC": "400"}


def _promtool(*args: str, cwd=PROMETHEUS_DIR) -> None:
    run = subprocess.run(["promtool", *args], cwd=cwd, env=PROMTOOL_ENV, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        pytest.fail(f"promtool {' '.join(args)} failed ({run.returncode}):\n{run.stdout}\n{run.stderr}", pytrace=False)


def test_the_rule_files_pass_promtool_check_rules():
    assert RULE_FILES
    _promtool("check", "rules", *map(str, RULE_FILES))


# A test that makes promtool evaluate every rule more often than this runs alone, so that pytest-xdist spreads
# the long ones (a few replay a day of samples); the short ones of a file share one promtool run, whose start
# and rule parsing would otherwise cost about as much as the test itself.
_EVALUATIONS_TO_RUN_ALONE = 100


def _minutes(duration: str) -> float:
    """A Prometheus duration of the test files (`90s`, `15m`, `26h`, `1d`) in minutes."""
    units = {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}
    return sum(float(number) * units[unit] for number, unit in re.findall(r"(\d+(?:\.\d+)?)([smhd])", duration))


def _evaluations(case: dict, evaluation_interval: str) -> float:
    """How many times promtool evaluates every rule for this test: from 0 to its latest eval_time."""
    checks = [*case.get("promql_expr_test", []), *case.get("alert_rule_test", [])]
    return max(_minutes(check["eval_time"]) for check in checks) / _minutes(evaluation_interval)


def _unit_tests() -> list:
    """Every unit test of every test file, in promtool runs: (file, the positions of its tests in that run)."""
    runs = []
    for path in RULE_TEST_FILES:
        document = yaml.safe_load(path.read_text())
        interval = document.get("evaluation_interval", "1m")
        long, short = [], []
        for index, case in enumerate(document["tests"]):
            (long if _evaluations(case, interval) > _EVALUATIONS_TO_RUN_ALONE else short).append(index)
        name = path.name.removesuffix(".test.yml")
        runs += [pytest.param(path, (index,), id=f"{name}#{index}") for index in long]
        if short:
            runs.append(pytest.param(path, tuple(short), id=f"{name}#{','.join(map(str, short))}"))
    return runs


def test_there_are_rule_unit_tests():
    assert RULE_TEST_FILES
    runs = _unit_tests()
    assert len(runs) >= len(RULE_TEST_FILES)
    # every test of every file runs, once
    assert sorted((path, index) for path, indexes in (run.values for run in runs) for index in indexes) == [
        (path, index) for path in RULE_TEST_FILES for index in range(len(yaml.safe_load(path.read_text())["tests"]))
    ]


# One promtool run per long unit test, and one for a file's short ones (a copy of the file holding those alone):
# promtool runs a file's tests one after another, and a few of them replay a day of samples, so pytest-xdist
# spreads them instead.
@pytest.mark.parametrize(("path", "indexes"), _unit_tests())
def test_the_rules_pass_their_promtool_unit_tests(path, indexes, tmp_path):
    document = yaml.safe_load(path.read_text())
    document["tests"] = [document["tests"][index] for index in indexes]
    document["rule_files"] = [str((path.parent / rules).resolve()) for rules in document["rule_files"]]
    alone = tmp_path / path.name
    alone.write_text(yaml.safe_dump(document, sort_keys=False))

    _promtool("test", "rules", str(alone), cwd=tmp_path)


def test_the_example_prometheus_yml_passes_promtool_check_config(tmp_path):
    # The example reads the scrape token from a file on the Prometheus host; give it one here.
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    token = tmp_path / "token"
    token.write_text("an-example-token-of-16+chars\n")
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    config["rule_files"] = [str(PROMETHEUS_DIR / path) for path in config["rule_files"]]
    assert sorted(config["rule_files"]) == sorted(map(str, RULE_FILES))
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))

    _promtool("check", "config", str(tmp_path / "prometheus.yml"), cwd=tmp_path)


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_must_not():
    fired, silent = set(), set()
    for path in RULE_TEST_FILES:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else silent).add(check["alertname"])

    alerts = set(alert_rules())
    assert not alerts - fired, f"alerts with no unit test in which they fire: {sorted(alerts - fired)}"
    assert not alerts - silent, f"alerts with no unit test in which they must stay silent: {sorted(alerts - silent)}"


def test_every_alert_links_its_runbook_section_and_says_how_bad_it_is():
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in (PROJECT_DIR / "docs" / "operations.md").read_text().splitlines()
        if line.startswith("#")
    }
    for name, rule in alert_rules().items():
        anchor = rule["annotations"]["runbook"]
        assert anchor == f"docs/operations.md#{name.lower()}", name
        assert name.lower() in headings, f"docs/operations.md has no section {name}"
        assert rule["labels"]["severity"] in ("page", "ticket"), name
        assert rule["annotations"]["summary"], name
