from django.apps import AppConfig


class OrderingConfig(AppConfig):
    name = "ordering"
    verbose_name = "Ordering assistant"

    def ready(self) -> None:
        from django.conf import settings

        from catalog_adapters import hooks as merchant_hooks
        from consent import hooks
        from ordering import handlers, metrics

        merchant_hooks.merchant_order_event.register(handlers.apply_merchant_order_event)

        hooks.grant_revoked.register(handlers.stop_flows_on_revocation)
        hooks.customer_notice.register(handlers.tell_customer_in_chat)
        hooks.spend_reservations_held.register(handlers.spend_reservations_of_placing_flows)

        # The series the alert rules read exist at 0 from the start, so rate() sees the first event.
        metrics.metrics_create_known_series(merchant_ids=list(settings.MERCHANTS))
