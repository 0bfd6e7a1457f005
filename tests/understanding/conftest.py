"""What the reader's tests share: the offline reader on the demo shop's catalog (one per test module, as each module
had its own)."""

from __future__ import annotations

import pytest

from ordering.agent.understand import OfflineGenerator
from ordering.evaluation.messages import demo_lexicon


@pytest.fixture(scope="module")
def generator() -> OfflineGenerator:
    return OfflineGenerator(demo_lexicon())
