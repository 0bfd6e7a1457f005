from django.core.management.base import BaseCommand, CommandParser

from sandbox_merchant.benchmark import bench_customers_seed, bench_stock_plenty


class Command(BaseCommand):
    help = (
        "For `make bench`: sandbox shoppers cus_<name> (address, approving card, a liked item) for the given "
        "names, and/or every variant's stock set to plenty. Not for a real shop."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="customer names, e.g. bench00000")
        parser.add_argument("--stock-plenty", action="store_true", help="set every variant's stock to 1,000,000")

    def handle(self, *args, **options) -> None:
        if options["stock_plenty"]:
            bench_stock_plenty()
        if options["names"]:
            bench_customers_seed(list(options["names"]))
