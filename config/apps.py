from django.contrib.admin.apps import AdminConfig


class OrderingAdminConfig(AdminConfig):
    """The Django admin, with the OTP-verified site as `admin.site` so every app registers on it."""

    default_site = "config.admin.StaffAdminSite"

    def ready(self) -> None:
        super().ready()
        # The project's own system checks (`check --deploy` reports dangerous production settings), and
        # the sign-in hook that starts a staff session's working-day clock.
        from config import checks, staff_sessions  # noqa: F401
