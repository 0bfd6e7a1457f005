"""The apps plug themselves into the frame (config imports none of them), each once (#18).

From their AppConfig.ready: audit puts every console view inside `acting_in_admin`, ordering adds the ops
pages to the console and the lexicon warm-up to new worker processes, escalations adds its collector to
/metrics. What each does is tested where it lives (tests/security/test_identity_audit.py,
tests/ops/test_ops_pages.py, tests/understanding/test_catalog_lexicon.py, tests/foundation/test_metrics.py);
here: that a registration made twice (a second `ready`) shows nothing twice.
"""

from __future__ import annotations

import pytest
from celery import signals
from django.apps import apps
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def _ready_again() -> None:
    for label in ("audit", "ordering", "escalations"):
        apps.get_app_config(label).ready()


def _series(body: str, name: str) -> list[str]:
    return [line for line in body.splitlines() if line.startswith(f"{name}{{") or line == f"# TYPE {name} gauge"]


@pytest.mark.parametrize("gunicorn_workers", [1, 4], ids=["one process", "multiprocess"])
def test_metrics_export_each_open_escalations_series_once(client, monkeypatch, tmp_path, gunicorn_workers):
    if gunicorn_workers > 1:
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    before = client.get("/metrics").content.decode()

    _ready_again()
    body = client.get("/metrics").content.decode()

    series = _series(body, "escalations_open")
    assert "# TYPE escalations_open gauge" in series
    assert any(line.startswith('escalations_open{reason="') for line in series)
    assert len(series) == len(set(series)), series  # no series twice
    assert series == _series(before, "escalations_open")


def test_the_console_shows_the_operations_section_once_at_the_same_urls(otp_login):
    root = get_user_model().objects.create_user("root", password="irrelevant-pass-9", is_staff=True, is_superuser=True)
    client = otp_login(root)

    _ready_again()
    index = client.get("/admin/").content.decode()

    assert index.count(">Operations</a>") == 1
    assert index.find(">Operations</a>") < index.find(">Audit log</a>")  # the first section, as before
    assert client.get("/admin/ops/").status_code == 200
    assert client.get("/admin/ops/trace/").status_code == 200


def test_new_worker_processes_warm_the_lexicon_once():
    _ready_again()

    keys = [key for key, _ in signals.worker_process_init.receivers if key[0] == "ordering.warm_catalog_lexicons"]
    assert len(keys) == 1


@pytest.mark.parametrize("model", [False, True], ids=["without-a-model", "with-a-model"])
def test_a_worker_imports_the_turn_modules_before_it_forks(model):
    """A worker's main process imports what a turn imports on first use, so its pool's processes share them
    instead of each importing them in its first turn (docs/performance.md, row 6). openai (about a second of
    CPU) only when a model is configured: without one no turn ever imports it."""
    import os
    import subprocess
    import sys

    from ordering.apps import TURN_MODULES

    _ready_again()
    keys = [key for key, _ in signals.worker_init.receivers if key[0] == "ordering.import_turn_modules"]
    assert len(keys) == 1

    # In a fresh interpreter (this one has imported everything already): none of them before, all of them after.
    script = (
        "import django, sys; django.setup(); from ordering.apps import TURN_MODULES, import_turn_modules_before_fork;"
        "before = [m for m in TURN_MODULES if m in sys.modules]; openai_before = 'openai' in sys.modules;"
        "import_turn_modules_before_fork();"
        "after = [m for m in TURN_MODULES if m in sys.modules]; print(len(before), openai_before, len(after),"
        " 'openai' in sys.modules)"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("LLM_")}
    if model:
        env.update(LLM_BASE_URL="http://127.0.0.1:9/v1", LLM_MODEL="scripted")
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert output == ["0", "False", str(len(TURN_MODULES)), str(model)]
