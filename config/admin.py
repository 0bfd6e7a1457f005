from django_otp.admin import OTPAdminSite


class StaffAdminSite(OTPAdminSite):
    """The staff console: support queue and audit log. Staff must verify a TOTP device to enter."""

    site_header = "Ordering assistant: staff console"
    site_title = "Staff console"
    index_title = "Support and audit"
