"""The merchant's lexicon is built from its catalog over the contract (the sandbox over real HTTP) and
kept for a short time, so a turn does not fetch the catalog again."""

from __future__ import annotations

import threading
import time

import pytest
from celery import signals
from django.db import connection

from catalog_adapters.registry import reset_merchants
from ordering.agent.understand import catalog_lexicon, catalog_lexicon_forget
from ordering.agent.understand.lexicon import catalog_lexicons_warm
from ordering.evaluation.messages import demo_lexicon
from tests.support.services import CeleryWorker, database_url_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def sandbox_catalog(sandbox_merchant, settings):
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "sandbox": {**settings.MERCHANTS["sandbox"], "BASE_URL": sandbox_merchant.base_url},
    }
    reset_merchants()
    catalog_lexicon_forget()
    yield sandbox_merchant
    catalog_lexicon_forget()
    reset_merchants()


def test_lexicon_from_the_merchants_catalog_matches_the_demo_data(sandbox_catalog):
    lexicon = catalog_lexicon("sandbox")
    demo = demo_lexicon()
    assert {entry.id for entry in lexicon.products} == {entry.id for entry in demo.products}
    assert set(lexicon.variant_products) == set(demo.variant_products)
    assert lexicon.shoe_sizes == ("40", "41", "42", "43", "44", "45")
    assert lexicon.find("blue runer").product_ids == ("prod_blue_runner",)


def test_lexicon_is_cached_for_its_ttl(sandbox_catalog, settings):
    settings.ORDERING_LEXICON_TTL_SECONDS = 300
    first = catalog_lexicon("sandbox")
    searches = len(sandbox_catalog.received_requests("/products"))
    assert catalog_lexicon("sandbox") is first
    assert len(sandbox_catalog.received_requests("/products")) == searches

    settings.ORDERING_LEXICON_TTL_SECONDS = 0
    fresh = catalog_lexicon("sandbox")
    assert fresh is not first
    assert len(sandbox_catalog.received_requests("/products")) == searches + 1


def test_a_worker_process_warms_every_merchants_lexicon_before_its_first_turn(sandbox_catalog, settings):
    settings.MERCHANTS = {
        **settings.MERCHANTS,
        "gone": {**settings.MERCHANTS["sandbox"], "ID": "gone", "BASE_URL": "http://127.0.0.1:9", "MAX_ATTEMPTS": 1},
    }
    reset_merchants()
    searches = len(sandbox_catalog.received_requests("/products"))
    # An unreachable merchant is skipped, not fatal: its first turn fetches the catalog as before.
    assert catalog_lexicons_warm() == ["sandbox"]
    assert len(sandbox_catalog.received_requests("/products")) == searches + 1
    catalog_lexicon("sandbox")  # the turn's read: from the cache, no request
    assert len(sandbox_catalog.received_requests("/products")) == searches + 1


@pytest.mark.redis
def test_each_new_process_of_a_real_worker_fetches_the_catalog_before_any_task(sandbox_catalog, tmp_path):
    # given a worker of two pool processes with the warm-up on, and no task sent to it
    searches = len(sandbox_catalog.received_requests("/products"))
    worker = CeleryWorker(
        database_url=database_url_for(connection.settings_dict),
        log_path=tmp_path / "worker.log",
        concurrency=2,
        extra_env={
            "ORDERING_WARM_LEXICON": "1",
            "MERCHANT_SANDBOX_BASE_URL": sandbox_catalog.base_url,
            "MERCHANT_SANDBOX_RATE_LIMIT": "0",
        },
    )

    # when it starts (ordering's AppConfig.ready connected the warm-up to worker_process_init)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while len(sandbox_catalog.received_requests("/products")) < searches + 2 and time.monotonic() < deadline:
            time.sleep(0.2)

        # then each pool process fetched the sandbox's catalog once, by itself
        assert len(sandbox_catalog.received_requests("/products")) == searches + 2, worker.log()
    finally:
        worker.stop()


def test_the_warm_up_is_connected_to_new_worker_processes_and_can_be_switched_off(sandbox_catalog, settings):
    def warming() -> list[threading.Thread]:
        return [thread for thread in threading.enumerate() if thread.name == "warm-lexicon"]

    searches = len(sandbox_catalog.received_requests("/products"))

    # switched off (as in the test settings): a new process fetches nothing
    settings.ORDERING_WARM_LEXICON = False
    signals.worker_process_init.send(sender=None)
    assert warming() == []

    # on: the process fetches the catalog in the background
    settings.ORDERING_WARM_LEXICON = True
    signals.worker_process_init.send(sender=None)
    for thread in warming():
        thread.join(timeout=30)
    assert len(sandbox_catalog.received_requests("/products")) == searches + 1
    catalog_lexicon("sandbox")  # cached by the warm-up: no request
    assert len(sandbox_catalog.received_requests("/products")) == searches + 1


@pytest.mark.parametrize(
    ("word", "meant"),
    [
        # Everyday English is what the customer meant: these were corrected into a colour or a product word.
        ("read", "read"), ("while", "while"), ("grew", "grew"), ("blank", "blank"), ("purpose", "purpose"),
        ("swell", "swell"), ("mate", "mate"), ("golf", "golf"), ("greek", "greek"), ("strange", "strange"),
        # Typos are still corrected.
        ("runer", "runner"), ("gery", "grey"), ("balck", "black"), ("hodie", "hoodie"), ("jaket", "jacket"),
        # The plural of a typo of a word the catalog has in the singular: "sokcs" is socks ("sokc" one swap from sock).
        ("sokcs", "sock"),
    ],
)  # fmt: skip
def test_an_english_word_is_never_corrected_into_a_catalog_word_and_a_typo_still_is(word, meant):
    from ordering.agent.understand.generator import GENERATOR_WORDS

    assert demo_lexicon().correct(word, GENERATOR_WORDS) == meant
