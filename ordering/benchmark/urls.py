"""The site's URLs plus the floor, for the bench's own settings only (config/settings/bench.py)."""

from django.urls import include, path

from ordering.benchmark.floor import FloorView

urlpatterns = [
    path("bench/floor/", FloorView.as_view(), name="bench-floor"),
    path("", include("config.urls")),
]
