"""The storefront's own cart and checkout: the sandbox on a live socket with alice seeded (`shop`)."""

from tests.ordering.conftest import shop  # noqa: F401 - the fixture reused as it is
