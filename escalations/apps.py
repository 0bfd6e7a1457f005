from django.apps import AppConfig


class EscalationsConfig(AppConfig):
    name = "escalations"
    verbose_name = "Escalations"

    def ready(self) -> None:
        from config.metrics import register_scrape_collector
        from escalations.metrics import OpenEscalationsCollector

        register_scrape_collector(name="escalations_open", collector=OpenEscalationsCollector())
