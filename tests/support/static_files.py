"""WhiteNoise's table of static files, built once per test process (a pytest plugin).

Django's test client builds its middleware at its first request, and with it WhiteNoise, which under the
test settings (`WHITENOISE_USE_FINDERS`, as in development) walks every app's static files, stats each one
and works out its headers: ~12 ms of CPU each time, for the ~180 files the apps ship. Most tests use a new
client, so a run paid that about a thousand times for the same table. The static files do not change during
a run, so the first middleware of the process keeps what it found and later ones copy it, as long as the
settings that shape a file's answer are the same (otherwise it is built again, and kept under those settings).
What a request for a static file gets is unchanged: the same `StaticFile` objects, which read the file at
each request. Production builds the table once per process anyway, from STATIC_ROOT.
"""

from __future__ import annotations

import pytest


def _key(middleware) -> tuple:
    from django.conf import settings

    return (
        middleware.static_prefix,
        tuple(
            sorted((name, repr(getattr(settings, name))) for name in dir(settings) if name.startswith("WHITENOISE_"))
        ),
        tuple(settings.INSTALLED_APPS),
        tuple(map(str, getattr(settings, "STATICFILES_DIRS", ()))),
        tuple(getattr(settings, "STATICFILES_FINDERS", ())),
    )


def _install() -> None:
    from whitenoise.middleware import WhiteNoiseMiddleware

    if getattr(WhiteNoiseMiddleware.add_files_from_finders, "_kept_per_process", False):
        return
    build = WhiteNoiseMiddleware.add_files_from_finders
    tables: dict[tuple, dict] = {}

    def add_files_from_finders(self) -> None:
        key = _key(self)
        table = tables.get(key)
        if table is None:
            before = dict(self.files)
            build(self)
            table = tables[key] = {url: file for url, file in self.files.items() if before.get(url) is not file}
        else:
            # What the finders found comes after STATIC_ROOT's and WHITENOISE_ROOT's files, as in `build`.
            self.files.update(table)

    add_files_from_finders._kept_per_process = True  # type: ignore[attr-defined]
    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders  # type: ignore[method-assign]


@pytest.hookimpl
def pytest_configure(config: pytest.Config) -> None:
    _install()
