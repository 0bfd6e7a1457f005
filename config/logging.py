"""JSON log lines: one object per line, with the trace id and any `extra` fields.

python-json-logger does the work; this module only fixes the names and the shape of a line:
`time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`, `trace_id` (None outside a
request or task), every `extra=` field under its own name, and `exception` when there is one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

_FIELDS = ["asctime", "levelname", "name", "message", "trace_id"]
_NAMES = {"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "exception"}


class JsonFormatter(_LibraryJsonFormatter):
    def __init__(self) -> None:
        # `str` for what JSON cannot hold, as our lines always did: the library's richer encoder would
        # write every field of a dataclass passed in `extra`, including those kept out of its repr.
        super().__init__(_FIELDS, rename_fields=_NAMES, json_default=str)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
