"""The one base of every app's domain errors.

A domain error says what went wrong in the domain's words: a stable `code` for programs, a `message` a
person understands (shown as is on pages and in the API), `details` (extra facts for the client, e.g.
`retry_after_seconds` or `checkout_url`), and `http_status`, the status the JSON API answers it with
(config.api's exception handler). The status sits on the class, next to the code, so a new error cannot
be raised without one and no separate table can drift from the classes.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
