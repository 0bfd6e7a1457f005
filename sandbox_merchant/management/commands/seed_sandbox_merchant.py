from django.core.management.base import BaseCommand

from sandbox_merchant.demo import demo_data_seed


class Command(BaseCommand):
    help = (
        "Load the sandbox merchant's demo catalog, customers, cards, saved items and promotions. "
        "Idempotent: running it again converges on the same rows and restores demo prices and stock."
    )

    def handle(self, *args, **options) -> None:
        counts = demo_data_seed()
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"Sandbox merchant seeded: {summary}.")
