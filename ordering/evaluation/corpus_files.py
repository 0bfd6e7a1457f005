"""Reading the evaluation's YAML corpora (corpus/tasks.yaml, corpus/messages.yaml)."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's parser when PyYAML has it (its wheels do): the same documents read with SafeLoader's own constructors
# and resolvers, so the same values, for about a seventh of the CPU of the pure-Python parser (the task corpus:
# 14 ms instead of 98).
_SAFE_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def corpus_yaml_load(text: str) -> Any:
    """A YAML document as `yaml.safe_load` reads it (plain data only)."""
    return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader, C or Python
