import pytest


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
