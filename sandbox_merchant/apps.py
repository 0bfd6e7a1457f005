from django.apps import AppConfig


class SandboxMerchantConfig(AppConfig):
    """The built-in sandbox ACP merchant: a real merchant server the demo and the tests talk to over HTTP."""

    name = "sandbox_merchant"
    label = "sandbox_merchant"
    verbose_name = "Sandbox merchant"
