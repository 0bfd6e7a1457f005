"""A URLconf for the tracing tests: a view that logs and enqueues a task, as real views will."""

import logging

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from config.celery import ping

logger = logging.getLogger("tests.tracing")


def enqueue_ping(request: HttpRequest) -> JsonResponse:
    logger.info("enqueueing ping")
    result = ping.delay()
    return JsonResponse({"task_id": result.id})


urlpatterns = [
    path("enqueue-ping", enqueue_ping),
    path("", include("config.urls")),
]
