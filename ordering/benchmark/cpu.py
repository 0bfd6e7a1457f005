"""CPU time by role during a load run, read from /proc (Linux): where row 6's CPU goes.

Each process the bench starts leads its own process group (environment.process_start), so a role (web,
turn-worker, worker, sandbox) is every process of that group: gunicorn's and Celery's children included.
`postgres` is the backends of the bench's database (their process title names the database), sampled a few times a
second, each counted from its first sample (or the start) to its last; `postgres-ended` is the rest of the CPU of
the sessions that ended during the load, read from the postmaster's reaped children, so a session shorter than a
sampling period is counted too. That one cannot tell databases apart: on a machine shared with other work it
includes theirs. New PostgreSQL sessions per turn are printed beside (each is a process started, authenticated
and given cold catalog caches: about 14 ms of CPU on this 2-core machine). Redis is left out (it is
shared by the bench's and everybody's work on the machine, and was 2-3 ms per turn).

Off Linux (no /proc) the breakdown is empty and the row says so.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

_PROC = Path("/proc")
_PERIOD_SECONDS = 0.2


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(process group, CPU seconds, start time in ticks) of a process, or None when it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # After the command: state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt, majflt, cmajflt,
    # utime, stime, cutime, cstime, priority, nice, threads, itrealvalue, starttime.
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / ticks, int(fields[19])


def _postgres_database(pid: int) -> str | None:
    """The database of a PostgreSQL backend from its process title (`postgres: 15/main: user db host state`)."""
    try:
        title = (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    parts = title.split()
    if len(parts) >= 4 and parts[0] == "postgres:":
        return parts[3]
    return None


@dataclass
class CpuByRole:
    """Start it before the load and stop it after; `seconds` is then CPU seconds by role."""

    groups: dict[int, str]  # process group id -> role
    database: str  # PostgreSQL backends of this database
    seconds: dict[str, float] = field(default_factory=dict)
    _first: dict[tuple[int, int], float] = field(default_factory=dict)
    _last: dict[tuple[int, int], tuple[str, float]] = field(default_factory=dict)
    _known: dict[tuple[int, int], str | None] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _ended_at_start: float = 0.0

    @property
    def available(self) -> bool:
        return (_PROC / "self" / "stat").exists()

    def start(self) -> None:
        if not self.available:
            return
        self._sample(first=True)
        self._ended_at_start = self._ended_backends()
        self._thread = threading.Thread(target=self._run, name="bench-cpu", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample(first=False)
        seconds: dict[str, float] = {}
        for key, (role, cpu) in self._last.items():
            seconds[role] = seconds.get(role, 0.0) + cpu - self._first.get(key, 0.0)
        if self._thread is not None:
            # Sessions that ended during the load, counted in full (and also partly above, up to their last
            # sample: that part is taken off); of any database, so on a machine shared with other work it
            # includes theirs.
            ended = self._ended_backends() - self._ended_at_start
            sampled = sum(
                cpu - self._first.get(key, 0.0)
                for key, (role, cpu) in self._last.items()
                if role == "postgres" and not self._alive(key)
            )
            seconds["postgres-ended"] = max(ended - sampled, 0.0)
        self.seconds = seconds
        return seconds

    def _run(self) -> None:
        while not self._stop.wait(_PERIOD_SECONDS):
            self._sample(first=False)

    def _role(self, pid: int, group: int) -> str | None:
        role = self.groups.get(group)
        if role is not None:
            return role
        database = _postgres_database(pid)
        if database is not None and database == self.database:
            return "postgres"
        return None

    @staticmethod
    def _alive(key: tuple[int, int]) -> bool:
        stat = _stat(key[0])
        return stat is not None and stat[2] == key[1]

    def _ended_backends(self) -> float:
        """CPU of PostgreSQL's ended sessions, any database: the postmaster's reaped children (cutime + cstime)."""
        total = 0.0
        ticks = os.sysconf("SC_CLK_TCK")
        for entry in _PROC.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if "(postgres)" not in text:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            if fields[1] == "1" or not (_PROC / fields[1]).exists():  # the postmaster
                total += (int(fields[13]) + int(fields[14])) / ticks
        return total

    def _sample(self, *, first: bool) -> None:
        for entry in _PROC.iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            stat = _stat(pid)
            if stat is None:
                continue
            group, cpu, started = stat
            key = (pid, started)
            if key not in self._known:
                self._known[key] = self._role(pid, group)
                if self._known[key] is not None:
                    # A process already running when sampling started counts from then; a new one from zero.
                    self._first[key] = cpu if first else 0.0
            role = self._known[key]
            if role is not None:
                self._last[key] = (role, cpu)


def postgres_sessions(database: str) -> int:
    """Sessions PostgreSQL has started on `database` since its statistics were reset (PostgreSQL 14+), or -1."""
    from django.db import connection

    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [database])
        except Exception:  # older servers have no `sessions` column
            return -1
        row = cursor.fetchone()
    return int(row[0]) if row else -1


def per_turn_text(seconds: dict[str, float], *, turns: int, sessions: int, unit: str = "turn") -> str:
    """`ms of CPU per turn: web 35.9, turn-worker 37.7, …, summed 129; 1.2 new PostgreSQL sessions per turn`
    (`unit` names what `turns` counts: row 4 says "order" and "chain")."""
    if not seconds or not turns:
        return f"CPU per {unit}: not measured (no /proc)"
    order = ["web", "turn-worker", "worker", "sandbox", "postgres", "postgres-ended"]
    roles = [role for role in order if role in seconds] + sorted(set(seconds) - set(order))
    parts = [f"{role} {seconds[role] * 1000 / turns:.1f}" for role in roles]
    total = sum(seconds.values()) * 1000 / turns
    text = f"ms of CPU per {unit}: {', '.join(parts)}, summed {total:.0f}"
    if sessions >= 0:
        text += f"; {sessions / turns:.2f} new PostgreSQL sessions per {unit}"
    return text
