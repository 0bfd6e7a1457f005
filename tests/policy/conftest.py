"""Policy tests: a policy directory of their own (copies of the shipped file plus variants), a clean stamp."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from consent.policies import policy_cache_reset
from consent.policies.active import STAMP_KEY
from tests.ordering.conftest import shop  # noqa: F401 - reused as it is

SHIPPED = Path(django_settings.BASE_DIR) / "policies" / "risk-v2.toml"


def variant(directory: Path, version: str, **changes: str) -> Path:
    """A copy of the shipped policy as `version`, with `key = value` lines replaced (`risk__review_score="20"`)."""
    text = SHIPPED.read_text().replace('version = "risk-v2"', f'version = "{version}"')
    for dotted, value in changes.items():
        key = dotted.split("__")[-1]
        lines = text.splitlines()
        matches = [i for i, line in enumerate(lines) if line.split("=")[0].strip() == key]
        assert len(matches) == 1, f"{key} is not one line of the shipped policy"
        lines[matches[0]] = f"{key} = {value}"
        text = "\n".join(lines) + "\n"
    path = directory / f"{version}.toml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _clean_policy_state():
    # The stamp lives in the shared cache and the parsed policy in this process: neither may leak into
    # another test (which would then decide under a version that is not even in its directory).
    cache.delete(STAMP_KEY)
    policy_cache_reset()
    yield
    cache.delete(STAMP_KEY)
    policy_cache_reset()


@pytest.fixture
def policy_dir(tmp_path, settings):
    """A policy directory with the shipped risk-v2, `strict` (step-up from 25, review from 30) and `frugal`
    (a per-order ceiling of $20, no auto-checkout)."""
    directory = tmp_path / "policies"
    directory.mkdir()
    shutil.copy(SHIPPED, directory / "risk-v2.toml")
    variant(directory, "strict", step_up_score="25", review_score="30")
    variant(directory, "frugal", per_order="2_000", auto_checkout_ceiling="0")
    settings.ORDERING_POLICY_DIR = str(directory)
    settings.ORDERING_POLICY_VERSION = "risk-v2"
    # Read the published version on every call, so a test sees its activation at once; the delay itself
    # is tested in test_refresh.py.
    settings.ORDERING_POLICY_REFRESH_SECONDS = 0
    return directory
