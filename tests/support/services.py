"""Real services for tests: availability checks, a Celery worker process, a server process, Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.conf import settings

from tests.support import zygote

PROJECT_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts"


# -- availability ------------------------------------------------------------------------------


def postgres_problem() -> str | None:
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return "the default database is not PostgreSQL (set DATABASE_URL=postgres://…)"
    return None


def redis_problem() -> str | None:
    url = os.environ.get("REDIS_URL")
    if not url:
        return "REDIS_URL is not set"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {url} does not answer: {error}"
    return None


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def browser_problem() -> str | None:
    if not os.access(chromium_path(), os.X_OK):
        return f"no Chromium at {chromium_path()} (apt-get install chromium, or set CHROMIUM_PATH)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def promtool_problem() -> str | None:
    if shutil.which("promtool") is None:
        return "no promtool on PATH (apt-get install prometheus provides it; the service need not run)"
    return None


# Playwright (1.65, requirements.txt) launches Chromium with `--disable-features=<these>`; Chromium reads only
# the last --disable-features switch, so ours (below) repeats them (playwright-core's chromiumSwitches.ts;
# tests/foundation/test_browser_smoke.py checks the installed Playwright's list).
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
# Headless Chromium is the whole browser: every new window (one per Playwright context) loaded the address
# bar's suggestion popups (chrome://omnibox-popup.top-chrome/, two WebUI pages in renderers of their own)
# that no test sees, ~0.7 s of CPU per context. A spare renderer, started ahead for the next site, is never
# the one the next context uses (each context needs its own).
UNUSED_BROWSER_FEATURES = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "SpareRendererForSitePerProcess")


def chromium_args() -> list[str]:
    """Flags these machines need. Playwright adds --headless and a fresh --user-data-dir itself.

    There is no network beyond loopback here, so Chromium's background services would only time out.
    """
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + UNUSED_BROWSER_FEATURES),
    ]


# -- helpers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL that points another process at the database this process uses."""
    if "sqlite" in settings_dict["ENGINE"]:
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{settings_dict['NAME']}"


def postgres_admin_connection(settings_dict: dict, *, autocommit: bool = False):
    """A psycopg connection to the `postgres` maintenance database of the server `settings_dict` names (to
    create, copy, list or drop databases)."""
    import psycopg

    return psycopg.connect(
        dbname="postgres",
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
        autocommit=autocommit,
        connect_timeout=10,
    )


def child_env(**overrides: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def wait_for_http(url: str, *, timeout: float, process: subprocess.Popen | zygote.ForkedProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, even if not with 200
        except OSError as error:
            last_error = error
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout}s: {last_error}")


def stop_process_group(
    process: subprocess.Popen | zygote.ForkedProcess, *, sig: int = signal.SIGTERM, timeout: float = 20
) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@dataclass
class ServerProcess:
    """The WSGI app under gunicorn in its own process, for behaviour that needs its own settings."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    threads: int = 4
    process: subprocess.Popen | zygote.ForkedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        self.process = zygote.popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                str(self.threads),
                "--timeout",
                "60",
            ],
            cwd=PROJECT_DIR,
            env=self.env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_http(f"{self.url}/healthz", timeout=timeout, process=self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)


@dataclass
class CeleryWorker:
    """A real `celery worker` process consuming this test run's queue."""

    database_url: str
    log_path: Path
    queue: str = field(default_factory=lambda: settings.CELERY_TASK_DEFAULT_QUEUE)
    # Chat turns have their own queue (ORDERING_TURN_QUEUE); the worker consumes both, as in production.
    turn_queue: str = field(default_factory=lambda: settings.ORDERING_TURN_QUEUE)
    name: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:8]}@localhost")
    concurrency: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | zygote.ForkedProcess | None = None

    def start(self, timeout: float = 60) -> CeleryWorker:
        env = child_env(
            DATABASE_URL=self.database_url,
            CELERY_DEFAULT_QUEUE=self.queue,
            ORDERING_TURN_QUEUE=self.turn_queue,
            # Celery runs Django's system checks as a worker starts and drops what they find
            # (celery/fixups/django.py): a sixth of the start-up, for nothing.
            CELERY_SKIP_CHECKS="1",
            **self.extra_env,
        )
        self.process = zygote.popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "-Q",
                f"{self.queue},{self.turn_queue}",
                "-n",
                self.name,
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        from config.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            if app.control.ping(destination=[self.name], timeout=0.5):
                return
        raise TimeoutError(f"worker {self.name} not ready within {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool), as a crashed machine would."""
        stop_process_group(self.process, sig=signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
