"""Row 6's CPU by role (ordering/benchmark/cpu.py): read from /proc, counted per process group."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ordering.benchmark.cpu import CpuByRole, per_turn_text


def test_a_role_is_charged_the_cpu_its_process_group_spent_while_sampled():
    # given a process of its own group that burns about 0.3 s of CPU and then waits, alive, to be let go (so the
    # sampler's last sample sees all of it however loaded the machine is: on a busy machine it used to exit between
    # two samples and be charged nothing), and one that only sleeps
    burn = (
        "import sys, time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
        "print('burnt', flush=True)\nsys.stdin.read()"
    )
    busy = subprocess.Popen(
        [sys.executable, "-c", burn], start_new_session=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"], start_new_session=True)
    sampler = CpuByRole(groups={busy.pid: "busy", idle.pid: "idle"}, database="bench_nothing_here")
    sampler.start()
    assert busy.stdout is not None and busy.stdin is not None
    assert busy.stdout.readline().strip() == "burnt"
    idle.wait()
    time.sleep(0.3)
    seconds = sampler.stop()
    busy.stdin.close()
    busy.wait(timeout=30)

    # then the busy group is charged its CPU, counted up to its last sample, and the sleeping one about nothing
    assert 0.1 <= seconds["busy"] <= 0.6, seconds
    assert seconds.get("idle", 0.0) < 0.1, seconds
    assert os.getpgid(os.getpid()) not in sampler.groups  # this process (the load client) is no role


def test_per_turn_text_orders_the_roles_and_sums_them():
    text = per_turn_text({"sandbox": 1.0, "web": 2.0, "postgres": 0.5}, turns=100, sessions=7)

    assert text == (
        "ms of CPU per turn: web 20.0, sandbox 10.0, postgres 5.0, summed 35; 0.07 new PostgreSQL sessions per turn"
    )
    assert per_turn_text({}, turns=100, sessions=0) == "CPU per turn: not measured (no /proc)"


def test_row_4_names_its_unit_and_leaves_out_sessions_it_did_not_count():
    text = per_turn_text({"worker": 0.6, "sandbox": 0.3}, turns=30, sessions=-1, unit="placed order")

    assert text == "ms of CPU per placed order: worker 20.0, sandbox 10.0, summed 30"
    assert per_turn_text({}, turns=0, sessions=-1, unit="chain") == "CPU per chain: not measured (no /proc)"
