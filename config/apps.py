from django.contrib.admin.apps import AdminConfig


class OrderingAdminConfig(AdminConfig):
    """The Django admin, with the OTP-verified site as `admin.site` so every app registers on it."""

    default_site = "config.admin.StaffAdminSite"

    def ready(self) -> None:
        super().ready()  # registers every app's admin pages, django.contrib.auth's among them
        from django.contrib import admin

        from config.admin_accounts import accounts_register

        accounts_register(admin.site)
