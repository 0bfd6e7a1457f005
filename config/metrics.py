import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_prometheus.exports import ExportToDjangoView


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition; behind a bearer token when METRICS_BEARER_TOKEN is set."""
    expected = settings.METRICS_BEARER_TOKEN
    if expected:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return HttpResponse("metrics need Authorization: Bearer <METRICS_BEARER_TOKEN>\n", status=401)
    return ExportToDjangoView(request)
