"""PostgreSQL and Redis servers of a test's own, to stop and start at will (a pytest plugin).

Outage tests must never stop the servers the rest of the suite (and other runs) share. These start a
private `redis-server` (no persistence) and a private PostgreSQL cluster (`initdb` into a temporary
directory) on free ports; the test stops them to make an outage and starts them again, on the same
port with the same data, to show recovery.

`private_redis` -> `PrivateRedis`
    `.url(db=0)`, `.stop(kill=True)` (SIGKILL: gone at once, as a crashed server), `.start()`,
    `.running`. Data does not survive a stop (`--save ""`, no AOF), as a Redis that lost its memory.

`private_postgres` -> `PrivatePostgres`
    `.url(database)`, `.create_database(name)`, `.stop(mode="immediate")` (pg_ctl's crash-like stop;
    "fast" for a clean one), `.start()`, `.running`. Data survives a stop. As root, the cluster runs as
    the `postgres` user (PostgreSQL refuses root); the binaries come from PG_BINDIR, else the newest
    /usr/lib/postgresql/<version>/bin, else `pg_config --bindir`.

`private_site` -> `PrivateSite` (a factory: `private_site(turns_inline=False, threads=4, **env)`)
    Our site under gunicorn with production settings (`tests.support.private_site_settings`) on a
    private PostgreSQL and a private Redis (cache, sessions, throttles, Celery broker), migrated and
    seeded with the demo shop (the sandbox merchant served by the same server, as in the test settings)
    and the demo customers. Migrating and seeding is done once per run (`private_site_template`, shared
    by the xdist workers): each test's PostgreSQL starts from its own copy of that cluster's files. The
    site's environment is the run's without its database, cache, broker, API, web and app settings:
    only what the test passes. `.url`, `.redis`, `.postgres`, `.server` (its `ServerProcess`), `.log()`,
    `.manage(*args)` (a management command against the site's servers), and `.sign_in(username)`: a
    `requests.Session` signed in through the real login form, sending X-CSRFToken on writes.

Each is stopped and its files removed when the test ends. The classes are also usable directly (each
is a context manager) for fixtures of a wider scope.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.support import zygote
from tests.support.services import PROJECT_DIR, ServerProcess, free_port, stop_process_group

# The variables of the test run that must not leak into a private site: it gets its own of each.
_SITE_ENV_DROPPED_PREFIXES = (
    "MERCHANT_",
    "SANDBOX_MERCHANT_",
    "CELERY_",
    "CACHE_",
    "LLM_",
    "DEMO_",
    "ORDERING_",
    "DATABASE_",
    "API_",
    "WEB_",
)
_SITE_ENV_DROPPED = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DEBUG", "DJANGO_ROOT_URLCONF", "VAR_DIR"}


def _private_directory(prefix: str, *, owner: str | None = None) -> Path:
    # Not under pytest's tmp_path: that is private to root (0700), and the PostgreSQL user must reach it.
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if owner:
        shutil.chown(directory, user=owner, group=owner)
    return directory


# -- Redis ---------------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    directory: Path = field(default_factory=lambda: _private_directory("private-redis-"))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15) -> PrivateRedis:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server)", pytrace=False)
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=(self.directory / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_answering(timeout)
        return self

    def _wait_until_answering(self, timeout: float) -> None:
        import redis

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}: {self.log()}")
            try:
                redis.Redis.from_url(self.url(), socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"redis-server on {self.port} did not answer in {timeout}s") from None
                time.sleep(0.05)

    def stop(self, *, kill: bool = True) -> None:
        if self.process is not None:
            stop_process_group(self.process, sig=signal.SIGKILL if kill else signal.SIGTERM)

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PrivateRedis:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()


# -- PostgreSQL ----------------------------------------------------------------------------------


def postgres_bindir() -> Path:
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(re.sub(r"\D", "", path) or 0))
    if versions:
        return Path(versions[-1]).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        return Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout.strip())
    pytest.fail("no PostgreSQL server binaries (initdb): install postgresql or set PG_BINDIR", pytrace=False)


def _as_postgres_user() -> list[str]:
    # PostgreSQL refuses to run as root; a test running as root runs the cluster as the postgres user.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PrivatePostgres:
    directory: Path = field(
        default_factory=lambda: _private_directory("private-pg-", owner="postgres" if os.geteuid() == 0 else None)
    )
    port: int = field(default_factory=free_port)
    bindir: Path = field(default_factory=postgres_bindir)
    # A stopped cluster's data directory to start from (a copy of it) instead of an empty `initdb`.
    template: Path | None = None
    initialised: bool = False

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *argv: str, timeout: float = 60) -> str:
        result = subprocess.run(
            [*_as_postgres_user(), *argv], capture_output=True, text=True, timeout=timeout, cwd=self.directory
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    @property
    def running(self) -> bool:
        if not self.initialised:
            return False
        status = subprocess.run(
            [*_as_postgres_user(), str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            cwd=self.directory,
        )
        return status.returncode == 0

    def start(self, timeout: float = 60) -> PrivatePostgres:
        if not self.initialised:
            if self.template is not None:
                # `cp -a` keeps the files' owner (the postgres user when the tests run as root) and modes
                subprocess.run(["cp", "-a", str(self.template), str(self.data)], check=True, capture_output=True)
            else:
                initdb = str(self.bindir / "initdb")
                self._run(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
            self.initialised = True
        # fsync=off loses nothing when only PostgreSQL stops (the kernel keeps its writes); synchronous_commit
        # stays on, so a commit the site acknowledged survives an immediate (crash-like) stop.
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "postgres.log"),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 10,
        )
        return self

    def stop(self, *, mode: str = "immediate") -> None:
        if self.running:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def save_data(self, destination: Path) -> Path:
        """Stop cleanly and copy the data directory to `destination` (a template for `PrivatePostgres(template=…)`)."""
        self.stop(mode="fast")
        subprocess.run(["cp", "-a", str(self.data), str(destination)], check=True, capture_output=True)
        return destination

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log(self) -> str:
        path = self.directory / "postgres.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()


# -- our site on them --------------------------------------------------------------------------------


@dataclass
class PrivateSite:
    """Our site under gunicorn, production settings, on a private PostgreSQL and Redis (see the module)."""

    postgres: PrivatePostgres
    redis: PrivateRedis
    turns_inline: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    # The postgres server already holds the database "site", migrated and seeded (a copy of the run's template).
    prepared: bool = False
    threads: int = 4
    var_dir: Path = field(default_factory=lambda: _private_directory("private-site-"))
    port: int = field(default_factory=free_port)
    server: ServerProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(_SITE_ENV_DROPPED_PREFIXES) and key not in _SITE_ENV_DROPPED
        }
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "tests.support.private_site_settings",
                "DATABASE_URL": self.postgres.url("site"),
                "REDIS_URL": self.redis.url(),
                "VAR_DIR": str(self.var_dir),
                "MERCHANT_SANDBOX_BASE_URL": f"{self.url}/sandbox-merchant",
                "SANDBOX_MERCHANT_WEBHOOK_URL": f"{self.url}/webhooks/merchants/sandbox/",
                "ORDERING_TURNS_INLINE": "1" if self.turns_inline else "0",
                "ORDERING_WARM_LEXICON": "0",
                "LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
                **self.extra_env,
            }
        )
        return env

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = zygote.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_DIR,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self) -> PrivateSite:
        if not self.redis.running:
            self.redis.start()
        if not self.postgres.running:
            self.postgres.start()
        if not self.prepared:
            self.prepare()
        self.server = ServerProcess(
            env=self.env(), log_path=self.var_dir / "server.log", port=self.port, threads=self.threads
        ).start()
        return self

    def prepare(self) -> None:
        """The database "site" on the postgres server, migrated and seeded with the demo shop and customers."""
        self.postgres.create_database("site")
        # one process for the three commands: each Django start-up costs a second or more on a busy machine
        self.manage(
            "shell",
            "-c",
            "from django.core.management import call_command; "
            "call_command('migrate', interactive=False, verbosity=0); "
            "call_command('seed_sandbox_merchant'); "
            "call_command('seed_demo', force=True)",
        )
        self.prepared = True

    def log(self) -> str:
        path = self.var_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def sign_in(self, username: str = "alice", password: str | None = None) -> requests.Session:
        """A browser-like session signed in through /accounts/login/, sending X-CSRFToken on writes."""
        from consent.demo import DEMO_CUSTOMERS

        password = password or DEMO_CUSTOMERS[username]["password"]
        session = requests.Session()
        page = session.get(f"{self.url}/accounts/login/", timeout=30)
        page.raise_for_status()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = session.post(
            f"{self.url}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.url}/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 302, f"sign-in failed ({response.status_code}): {response.text[:500]}"
        session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
        return session

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.var_dir, ignore_errors=True)

    def __enter__(self) -> PrivateSite:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()


# -- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture
def private_redis():
    with PrivateRedis() as server:
        yield server


@pytest.fixture
def private_postgres():
    with PrivatePostgres() as server:
        yield server


def _run_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base temporary directory of the whole run: under pytest-xdist, the one every worker's is in."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def private_site_template(tmp_path_factory) -> Path:
    """A stopped PostgreSQL cluster's data directory holding the site's database, migrated and seeded.

    Made once per test run (the first worker to need it makes it; the others wait on a file lock and reuse
    it): migrating and seeding took 5 to 12 s of each outage test. Each private site starts from its own copy,
    so the tests stay independent (nothing one does reaches another's cluster)."""
    import fcntl

    run_directory = _run_directory(tmp_path_factory)
    template = run_directory / "private-site-template"
    with (run_directory / "private-site-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (run_directory / "private-site-template.ready").exists():
            with PrivatePostgres() as postgres, PrivateRedis() as redis_server:
                site = PrivateSite(postgres=postgres, redis=redis_server)
                try:
                    site.prepare()
                finally:
                    site.close()
                shutil.rmtree(template, ignore_errors=True)
                postgres.save_data(template)
            (run_directory / "private-site-template.ready").touch()
    return template


@pytest.fixture
def private_site(private_site_template, private_redis):
    """A factory: `private_site(turns_inline=False, threads=4, **env)` starts our site on this test's own servers (its
    PostgreSQL a copy of the run's migrated and seeded template)."""
    sites: list[PrivateSite] = []
    with PrivatePostgres(template=private_site_template) as postgres:

        def start(*, turns_inline: bool = False, threads: int = 4, **env: str) -> PrivateSite:
            site = PrivateSite(
                postgres=postgres,
                redis=private_redis,
                turns_inline=turns_inline,
                threads=threads,
                extra_env=env,
                prepared=True,
            )
            sites.append(site)
            return site.start()

        yield start
        for site in sites:
            site.close()
