"""The conversation and flow JSON API, mounted under /api/v1/."""

urlpatterns: list = []
