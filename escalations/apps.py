from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = "Escalations"

    def ready(self) -> None:
        from config.metrics import register_scrape_collector
        from escalations import handlers, ops, selectors
        from escalations.metrics import OpenEscalationsCollector
        from ordering import hooks
        from ordering.ops.selectors import ops_panels_contribute

        # Ordering asks for a person and reads escalations through its hooks; it never imports this app.
        hooks.person_needed.register(handlers.open_escalation_for)
        hooks.escalation_records.register(selectors.escalation_records)
        ops_panels_contribute(*ops.OPS_PANELS)

        register_scrape_collector(name="escalations_open", collector=OpenEscalationsCollector())
