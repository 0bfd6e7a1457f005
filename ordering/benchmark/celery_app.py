"""The Celery app of the bench's workers: the project's app, plus the chain the saga is compared with.

`celery -A ordering.benchmark.celery_app worker` runs every task of the project (the saga included)
and the six `bench.chain_step` tasks of the comparison (ordering/benchmark/orders.py).
"""

from config.celery import app
from ordering.benchmark import chain  # noqa: F401 - registers bench.chain_step

__all__ = ["app"]
