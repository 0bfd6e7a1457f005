from django.contrib.admin.apps import AdminConfig


class OrderingAdminConfig(AdminConfig):
    """The Django admin, with the OTP-verified site as `admin.site` so every app registers on it."""

    default_site = "config.admin.StaffAdminSite"
