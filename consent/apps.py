from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent and spend caps"

    def ready(self) -> None:
        # System checks on the policy files, and the policy cache's reset on settings changes.
        from consent.policies import active, checks  # noqa: F401
