"""The tests' child processes forked from a warm interpreter (tests/support/zygote.py) behave as `python …` would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.support import zygote
from tests.support.services import PROJECT_DIR, child_env


def test_a_child_gets_its_own_environment_directory_arguments_and_exit_code(tmp_path):
    script = (
        "import json, os, sys; path0 = sys.path[0]; import django; django.setup(); from django.conf import settings;"
        "print(json.dumps({'name': __name__, 'argv': sys.argv, 'cwd': os.getcwd(), 'var': os.environ['VAR_DIR'],"
        " 'debug': settings.DEBUG, 'module': os.environ['DJANGO_SETTINGS_MODULE'],"
        " 'path0': path0, 'pid': os.getpid()}));"
        "print('on stderr', file=sys.stderr); raise SystemExit(7)"
    )
    result = zygote.run(
        [sys.executable, "-c", script, "one", "two"],
        cwd=PROJECT_DIR,
        env=child_env(DJANGO_SETTINGS_MODULE="config.settings.dev", VAR_DIR=str(tmp_path), DEBUG="1"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 7, result.stderr
    seen = json.loads(result.stdout)
    assert seen["name"] == "__main__"
    assert seen["argv"] == ["-c", "one", "two"]
    assert seen["cwd"] == str(PROJECT_DIR)
    assert seen["var"] == str(tmp_path)
    assert seen["module"] == "config.settings.dev"
    assert seen["debug"] is True  # Django read the child's settings, not anything of the zygote's
    assert seen["path0"] == ""
    assert seen["pid"] != os.getpid()
    assert result.stderr.strip() == "on stderr"


def test_a_child_starts_with_the_libraries_imported_and_none_of_the_project(monkeypatch):
    monkeypatch.setenv("ZYGOTE", "1")  # this run may have turned it off; these tests are about it
    names = "('celery', 'openai', 'config', 'ordering', 'prometheus_client')"
    script = f"import sys; print(sorted(m for m in {names} if m in sys.modules))"
    result = zygote.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, env=child_env(), capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['celery', 'openai']"


def test_a_module_and_a_script_run_as_main(tmp_path):
    module = tmp_path / "hello_zygote.py"
    module.write_text("import sys\nprint(__name__, sys.argv[1:], __file__ == sys.argv[0])\n")
    env = child_env(PYTHONPATH=None)
    by_module = zygote.run(
        [sys.executable, "-m", "hello_zygote", "a"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    by_script = zygote.run([sys.executable, str(module), "b"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True)

    assert by_module.stdout.split() == ["__main__", "['a']", "True"], by_module.stderr
    assert by_script.stdout.split() == ["__main__", "['b']", "True"], by_script.stderr


def test_a_long_running_child_is_stopped_through_its_process_group(tmp_path, monkeypatch):
    monkeypatch.setenv("ZYGOTE", "1")
    log = tmp_path / "child.log"
    with log.open("wb") as output:
        process = zygote.popen(
            [sys.executable, "-c", "import time; print('started'); time.sleep(120)"],
            cwd=PROJECT_DIR,
            env=child_env(PYTHONUNBUFFERED="1"),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    assert isinstance(process, zygote.ForkedProcess)
    deadline = time.monotonic() + 30
    while "started" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.read_text().strip() == "started"  # unbuffered, as PYTHONUNBUFFERED asks, while it still runs
    assert process.poll() is None
    assert os.getsid(process.pid) == process.pid  # its own session, so killpg reaches all of it

    os.killpg(process.pid, signal.SIGTERM)

    assert process.wait(timeout=30) == -signal.SIGTERM
    assert process.poll() == -signal.SIGTERM


def test_a_child_with_other_interpreter_options_is_a_new_interpreter():
    env = child_env(PYTHONHASHSEED="123")
    process = zygote.popen([sys.executable, "-c", "pass"], cwd=PROJECT_DIR, env=env)
    assert isinstance(process, subprocess.Popen)
    assert process.wait(timeout=60) == 0

    flagged = zygote.popen([sys.executable, "-X", "dev", "-c", "pass"], cwd=PROJECT_DIR, env=child_env())
    assert isinstance(flagged, subprocess.Popen)
    assert flagged.wait(timeout=60) == 0


def test_off_switch_starts_every_child_the_ordinary_way(monkeypatch):
    monkeypatch.setenv("ZYGOTE", "0")
    process = zygote.popen([sys.executable, "-c", "pass"], cwd=PROJECT_DIR, env=child_env())
    assert isinstance(process, subprocess.Popen)
    assert process.wait(timeout=60) == 0


def test_a_timeout_kills_the_child():
    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run([sys.executable, "-c", "import time; time.sleep(60)"], cwd=PROJECT_DIR, env=child_env(), timeout=0.5)
