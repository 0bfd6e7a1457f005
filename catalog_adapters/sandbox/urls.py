"""The sandbox merchant's URLs, mounted under /sandbox-merchant/."""

urlpatterns: list = []
