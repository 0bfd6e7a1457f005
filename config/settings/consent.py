"""Consent, spend-cap ceilings and step-up (consent). Filled in by the consent app."""

# Customers sign in here (the consent app's login page); staff use /admin/login/ with OTP.
LOGIN_URL = "/accounts/login/"
