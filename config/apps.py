from django.contrib.admin.apps import AdminConfig


class OrderingAdminConfig(AdminConfig):
    """The Django admin, with the OTP-verified site as `admin.site` so every app registers on it."""

    default_site = "config.admin.StaffAdminSite"

    def ready(self) -> None:
        super().ready()  # registers every app's admin pages, django.contrib.auth's among them
        from django.contrib import admin

        # The project's own system checks (`check --deploy` reports dangerous production settings), and
        # the sign-in hooks that start a staff session's working-day clock and clear one's own failures.
        from config import checks, sign_in, staff_sessions  # noqa: F401
        from config.admin_accounts import accounts_register

        accounts_register(admin.site)
