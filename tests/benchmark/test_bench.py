"""The bench harness (`manage.py bench`): its arithmetic, its load client, and a tiny run end to end.

Nothing here is timed: the numbers the bench prints are not asserted, only that it measures and reports
every row it was asked for (docs/performance.md).
"""

# ruff: noqa: RUF001 - the table's en dashes (spreads) and multiplication signs (ratios) are what is asserted

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ordering.benchmark.load import chat_load
from ordering.benchmark.report import Row, Samples, at_most, ratio_at_least, table
from tests.support import services

ROOT = Path(__file__).resolve().parents[2]


def test_samples_show_the_median_and_the_spread_of_the_repeats():
    samples = Samples([3.0, 1.0, 2.0], unit="ms")

    assert (samples.median, samples.low, samples.high) == (2.0, 1.0, 3.0)
    assert samples.text() == "2 ms (1–3)"
    assert Samples([0.5], unit="s").text() == "0.50 s"
    assert Samples().text() == "—"


def test_a_row_passes_or_fails_on_its_median_and_an_unmeasured_row_neither():
    cheap = Row("2a", "queries", "≤ 20", ours=Samples([18, 25, 19]), check=at_most(20))
    dear = Row("2a", "queries", "≤ 20", ours=Samples([21, 25, 19]), check=at_most(20))
    broken = Row("4", "orders/s", "≥ 0.6×", error="the workers did not start", check=ratio_at_least(0.6))
    slow = Row(
        "4",
        "orders/s",
        "≥ 0.6×",
        ours=Samples([1.0]),
        ratio=Samples([0.3, 0.5, 0.7], unit="×"),
        check=ratio_at_least(0.6),
    )

    assert cheap.passed is True
    assert dear.passed is False
    assert broken.passed is None
    assert slow.passed is False

    printed = table([cheap, broken, slow])
    header = [cell.strip() for cell in printed.splitlines()[0].split("|")[1:-1]]
    assert header == ["measure", "ours", "floor/peer", "ratio", "goal", "pass"]
    assert "error: the workers did not start" in printed
    assert "0.50 × (0.30–0.70)" in printed
    assert [line.split("|")[-2].strip() for line in printed.splitlines()[2:]] == ["PASS", "—", "FAIL"]


class _Site:
    """A stand-in for the conversation API on a real socket: answers turns as today (201) or as the turn
    contract (202, then `running`, then `done` when polled), or fails them (500)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.polls = 0
        self.posts = 0
        self.lock = threading.Lock()
        self.looks: list[tuple[float, str]] = []  # (when, the `wait` asked for) of every look at a turn url

    last: _Site | None = None

    def __enter__(self) -> str:
        site = _Site.last = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/api/v1/conversations/":
                    self._send(201, {"id": "c1", "messages": []})
                    return
                with site.lock:
                    site.posts += 1
                if site.mode == "201":
                    self._send(201, {"messages": [{"role": "assistant", "text": "hi"}]})
                elif site.mode in ("202", "long-poll", "busy"):
                    url = "/api/v1/conversations/c1/turns/7/"
                    self._send(202, {"turn": {"id": 7, "status": "queued", "url": url}, "messages": []})
                else:
                    self._send(500, {"error": "boom"})

            def do_GET(self) -> None:
                wait = parse_qs(urlsplit(self.path).query).get("wait", [""])[0]
                with site.lock:
                    site.polls += 1
                    site.looks.append((time.monotonic(), wait))
                    status = "done" if site.polls % 2 == 0 else "running"
                if site.mode == "long-poll":
                    time.sleep(0.2)  # the server held the look until the turn ended
                    status = "done"
                body = json.dumps({"turn": {"id": 7, "status": status, "url": self.path}, "messages": []}).encode()
                self.send_response(200)
                if site.mode == "busy":
                    self.send_header("Retry-After", "1")  # it could not hold the look: ask again in a second
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _SignedIn:
    cookie = "sessionid=x; csrftoken=y"
    csrf = "y"


@pytest.mark.parametrize("mode", ["201", "202"])
def test_the_load_client_completes_turns_answered_now_or_in_the_background(mode):
    with _Site(mode) as base_url:
        result = chat_load(base_url=base_url, sessions=[_SignedIn()] * 3, texts=["a", "b"], think=0, timeout=10)

    assert (result.turns, result.failed) == (6, 0)
    assert len(result.latencies) == 6


def test_the_load_client_long_polls_the_turn_url_as_the_widget_does():
    # a server that holds each look until the turn ends: one look per turn, each asking to wait
    with _Site("long-poll") as base_url:
        site = _Site.last
        result = chat_load(base_url=base_url, sessions=[_SignedIn()] * 2, texts=["a", "b"], think=0, timeout=30)

    assert (result.turns, result.failed) == (4, 0)
    assert site.polls == site.posts == 4
    assert {wait for _, wait in site.looks} == {"20"}
    assert (result.looks, result.busy_looks) == (4, 0)


def test_the_load_client_looks_at_most_twice_a_second_when_the_server_answers_at_once():
    # a server that answers every look at once (it cannot wait), the turn done on every second look
    with _Site("202") as base_url:
        site = _Site.last
        result = chat_load(base_url=base_url, sessions=[_SignedIn()], texts=["a", "b", "c"], think=0, timeout=30)

    assert (result.turns, result.failed) == (3, 0)
    times = [when for when, _ in site.looks]
    assert len(times) == 6
    # the first look of a turn goes at once; the second half a second after the first was sent (seen here a
    # little later or sooner, as the machine schedules the two requests), never straight after its answer
    assert all(second - first >= 0.35 for first, second in zip(times[0::2], times[1::2], strict=True)), times


def test_the_load_client_waits_as_long_as_a_busy_server_asks_before_looking_again():
    with _Site("busy") as base_url:
        site = _Site.last
        result = chat_load(base_url=base_url, sessions=[_SignedIn()], texts=["a", "b"], think=0, timeout=30)

    assert (result.turns, result.failed) == (2, 0)
    assert (result.looks, result.busy_looks) == (4, 4)  # every answer said Retry-After
    times = [when for when, _ in site.looks]
    assert len(times) == 4
    assert all(second - first >= 0.85 for first, second in zip(times[0::2], times[1::2], strict=True)), times


def test_the_load_client_counts_a_turn_the_server_refuses_as_failed():
    with _Site("500") as base_url:
        result = chat_load(base_url=base_url, sessions=[_SignedIn()] * 2, texts=["a"], think=0, timeout=10)

    assert (result.turns, result.failed, result.errors) == (2, 2, {"HTTP 500": 2})
    assert result.p95 is None


@pytest.mark.postgres
@pytest.mark.redis
def test_the_command_runs_a_tiny_configuration_end_to_end_and_reports_every_row(django_db_setup, tmp_path):
    from django.conf import settings

    # given the bench's settings on this run's PostgreSQL server and Redis index, with a database of its own
    out = tmp_path / "bench.json"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "BENCH_DATABASE": f"bench_harness_{os.getpid()}",
        "BENCH_REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
        # a copy of the suite's migrated template (tests/support/template_db.py, named by django_db_setup), if
        # there is one: the bench's migrate then has nothing left to apply, instead of ~2 s of CPU and PostgreSQL's
        # for the DDL
        "BENCH_DATABASE_TEMPLATE": settings.DATABASES["default"].get("TEST", {}).get("TEMPLATE") or "",
    }

    # when it runs the rows that need neither the peer's virtualenv nor the load servers (row 9's writers for a
    # fifth of a second: 11 writer processes keep both cores busy for as long as they write)
    argv = ["manage.py", "bench", "--rows", "2,3,8,9", "--repeat", "1", "--audit-seconds", "0.2"]
    completed = subprocess.run(
        [sys.executable, *argv, "--json", str(out)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )

    # then it prints each of those rows with its goal and a verdict, and measured every one
    assert completed.returncode == 0, completed.stderr[-3000:]
    printed = completed.stdout
    for measure, goal in [
        ("database queries per turn: add-to-cart turn", "≤ 20"),
        ("database queries per turn: confirm", "≤ 8"),
        ("merchant calls per add-to-cart turn", "≤ 2"),
        ("LLM requests for the seed turn", "≤ 2"),
        ("audit events/s", "≥ 5,000 and growing"),
    ]:
        line = next((line for line in printed.splitlines() if measure in line), None)
        assert line is not None, printed
        assert goal in line and ("PASS" in line or "FAIL" in line), line
    rows = json.loads(out.read_text())["rows"]
    assert [row["key"] for row in rows] == ["2a", "2b", "3", "8", "9"]
    assert all(row["ours"]["values"] and not row["error"] for row in rows), rows
    assert all(isinstance(row["pass"], bool) for row in rows)
    # and it left no database behind
    assert not _databases_named(environment["BENCH_DATABASE"])


def _databases_named(prefix: str) -> list[str]:
    from django.conf import settings

    with services.postgres_admin_connection(settings.DATABASES["default"]) as admin:
        rows = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"]).fetchall()
    return [row[0] for row in rows]
