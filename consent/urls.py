"""The account holder's settings page and the consent JSON API."""

urlpatterns: list = []
