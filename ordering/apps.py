import importlib
import threading

from django.apps import AppConfig


class OrderingConfig(AppConfig):
    name = "ordering"
    verbose_name = "Ordering assistant"

    def ready(self) -> None:
        from celery import signals
        from django.conf import settings

        from catalog_adapters import hooks as merchant_hooks
        from config.admin import ConsolePages, staff_console
        from consent import hooks
        from ordering import account, handlers, metrics
        from ordering.ops.views import ops_app_entry, ops_urls

        merchant_hooks.merchant_order_event.register(handlers.apply_merchant_order_event)

        hooks.grant_revoked.register(handlers.stop_flows_on_revocation)
        hooks.customer_notice.register(handlers.tell_customer_in_chat)
        hooks.spend_reservations_held.register(handlers.spend_reservations_of_placing_flows)
        # "Your orders" on the customer's settings page (consent's page; the orders are ours).
        hooks.account_sections.register(account.orders_section)

        # The ops page and trace lookup in the staff console, with their section at the top of its index.
        staff_console().register_pages(
            name="ordering.ops", pages=ConsolePages(urls=ops_urls, index_entry=ops_app_entry)
        )

        signals.worker_init.connect(
            import_turn_modules_before_fork, weak=False, dispatch_uid="ordering.import_turn_modules"
        )
        signals.worker_process_init.connect(
            warm_lexicons_in_new_worker_process, weak=False, dispatch_uid="ordering.warm_catalog_lexicons"
        )

        # The series the alert rules read exist at 0 from the start, so rate() sees the first event.
        metrics.metrics_create_known_series(merchant_ids=list(settings.MERCHANTS))


# What a chat turn imports on first use (the pipeline, the LLM generator and its client, the offline reader).
TURN_MODULES = ("ordering.agent.pipeline", "ordering.agent.llm", "openai", "ordering.agent.understand")


def import_turn_modules_before_fork(**_: object) -> None:
    """A Celery worker's main process imports what a chat turn imports on first use, before it forks its pool,
    so every process of the pool shares them instead of importing them in its first turn: about a second of CPU
    per process (openai's types are most of it), eight processes at once as a load starts. The money formatter's
    locale data is loaded the same way."""
    from consent.formatting import format_money

    for name in TURN_MODULES:
        importlib.import_module(name)
    format_money(100, "USD")


def warm_lexicons_in_new_worker_process(**_: object) -> None:
    """Each new Celery worker process fetches the merchants' catalogs for the turn planner's lexicon as it
    starts, in the background (worker_process_init must return within seconds), so the first turn the
    process runs does not pay for the catalog under its deadline: when eight processes start at once on a
    busy machine, that first fetch is what pushed turns past it. ORDERING_WARM_LEXICON=0 turns it off."""
    from django.conf import settings

    from ordering.agent.understand.lexicon import catalog_lexicons_warm

    if getattr(settings, "ORDERING_WARM_LEXICON", True):
        threading.Thread(target=catalog_lexicons_warm, name="warm-lexicon", daemon=True).start()
