import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from tests.support import services


@pytest.mark.django_db
def test_metrics_expose_http_and_database_query_metrics(client):
    client.get("/readyz")  # one request that runs a query

    body = client.get("/metrics").content.decode()

    assert "django_http_requests_total_by_method_total" in body
    # the database engine is wrapped, so queries are counted per vendor
    assert "django_db_execute_total{" in body


def test_metrics_require_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_BEARER_TOKEN = "scrape-secret-123"

    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"}).status_code == 200


@pytest.mark.django_db
def test_with_several_gunicorn_workers_metrics_are_merged_and_database_gauges_still_appear(
    client, monkeypatch, tmp_path
):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    response = client.get("/metrics")

    assert response.status_code == 200
    assert "escalations_open" in response.content.decode()


def _get_requests(metrics: str) -> float:
    found = re.search(r'^django_http_requests_total_by_method_total\{method="GET"\} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_the_readmes_web_command_sums_its_processes_counters_without_being_told_where(tmp_path):
    # given the README's web command with two processes and no PROMETHEUS_MULTIPROC_DIR, and a file a previous run
    # of the same server left behind
    port = services.free_port()
    directory = tmp_path / "assistant-web-metrics" / f"127.0.0.1_{port}"
    directory.mkdir(parents=True)
    stale = MmapedDict(str(directory / "counter_999999.db"))
    stale.write_value(mmap_key("stale_total", "stale_total", [], [], ""), 42.0, 0.0)
    stale.close()
    environment = services.child_env(
        PROMETHEUS_MULTIPROC_DIR=None,
        TMPDIR=str(tmp_path),
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        WEB_THREADS="2",
        METRICS_BEARER_TOKEN="scrape-secret-123",
        VAR_DIR=str(tmp_path),
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=services.PROJECT_DIR,
        env=environment,
        stdout=(tmp_path / "web.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        services.wait_for_http(f"{url}/healthz", timeout=60, process=server)
        # when both processes answer requests, each on a connection of its own
        for _ in range(30):
            with pytest.raises(urllib.error.HTTPError):  # a 404, counted as any page (probes are not)
                urllib.request.urlopen(f"{url}/no-such-page", timeout=10)
        scrapes = []
        for _ in range(6):
            request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": "Bearer scrape-secret-123"})
            with urllib.request.urlopen(request, timeout=10) as response:
                scrapes.append(response.read().decode())
    finally:
        services.stop_process_group(server)

    # then every scrape, whichever process took it, counts every GET so far (30, and the scrapes before), and the
    # stale file was removed when the server started
    counted = [_get_requests(scrape) for scrape in scrapes]
    assert counted == sorted(counted), counted  # a counter never went down between scrapes
    assert counted[0] >= 30, counted
    assert all("stale_total" not in scrape for scrape in scrapes)
