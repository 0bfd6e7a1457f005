"""A running process picks up a newly activated version within ORDERING_POLICY_REFRESH_SECONDS, without a
restart and without a database query on the hot path."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent import tasks
from consent.policies import active_policy, policy_cache_reset
from consent.policies.active import STAMP_KEY
from consent.policies.services import policy_activate

pytestmark = pytest.mark.postgres

WATCHER = """
import os, sys, time
import django
django.setup()
from consent.policies import active_policy
print(active_policy().version, flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline and sys.stdin.readline():
    print(active_policy().version, flush=True)
"""


@pytest.fixture
def ops(db):
    return get_user_model().objects.create_user("olga", password="irrelevant-pass-9", is_staff=True)


def test_this_process_switches_within_the_refresh_delay(
    policy_dir, ops, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.ORDERING_POLICY_REFRESH_SECONDS = 1
    assert active_policy().version == "risk-v2"

    with django_capture_on_commit_callbacks(execute=True):
        policy_activate(version="strict", actor_type="staff", actor_id=ops.pk)

    assert active_policy().version == "risk-v2"  # read less than a second ago: not yet
    # the process' copy is 1.1 s older (its age is measured on the monotonic clock, moved here, not slept)
    from consent.policies import active as active_module

    monkeypatch.setattr(active_module, "time", SimpleNamespace(monotonic=lambda: time.monotonic() + 1.1))
    assert active_policy().version == "strict"
    assert active_policy().risk.review_score == 30


def test_another_process_switches_within_the_refresh_delay(policy_dir, ops, django_capture_on_commit_callbacks):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "ORDERING_POLICY_DIR": str(policy_dir),
        "ORDERING_POLICY_VERSION": "risk-v2",
        "ORDERING_POLICY_REFRESH_SECONDS": "1",
    }
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout.readline().strip() == "risk-v2"

        with django_capture_on_commit_callbacks(execute=True):
            policy_activate(version="strict", actor_type="staff", actor_id=ops.pk)
        activated = time.monotonic()

        seen = "risk-v2"
        while seen != "strict" and time.monotonic() - activated < 5:
            time.sleep(0.1)
            watcher.stdin.write("\n")
            watcher.stdin.flush()
            seen = watcher.stdout.readline().strip()
        assert seen == "strict"
        assert time.monotonic() - activated < 1 + 1.0  # the refresh delay, plus polling slack
    finally:
        watcher.stdin.close()
        watcher.wait(timeout=10)


def test_the_hot_path_never_queries_the_database_and_the_beat_restores_a_lost_stamp(
    policy_dir, ops, settings, django_capture_on_commit_callbacks
):
    settings.ORDERING_POLICY_REFRESH_SECONDS = 0  # check the stamp on every call
    with django_capture_on_commit_callbacks(execute=True):
        policy_activate(version="strict", actor_type="staff", actor_id=ops.pk)
    cache.delete(STAMP_KEY)  # as after a cache flush
    policy_cache_reset()  # a process started after it

    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            version = active_policy().version

    assert len(queries) == 0
    assert version == "risk-v2"  # no news in the cache: the default, until the beat publishes again
    assert tasks.policy_publish_active() == "strict"
    assert active_policy().version == "strict"


def test_a_version_whose_file_disappeared_keeps_the_rules_in_force(policy_dir, ops, settings, caplog):
    settings.ORDERING_POLICY_REFRESH_SECONDS = 0
    assert active_policy().version == "risk-v2"

    cache.set(STAMP_KEY, "gone", timeout=None)  # activated elsewhere, file missing in this deploy

    assert active_policy().version == "risk-v2"
    assert "policy gone unusable" in caplog.text
