"""The suite's `eager_tasks` fixture: eager tasks in several threads leave the test's own `.get()` usable."""

from __future__ import annotations

import threading

from celery.result import denied_join_result

from config.celery import ping


def test_tasks_inside_and_outside_a_task_interleaved_across_threads_leave_the_test_thread_free_to_get(
    eager_tasks,
):
    # Two threads "inside a task" (Celery's own guard, as an eager run sets it) that end in the order
    # that, with one process-wide flag, restores it to "inside a task" for everyone.
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen_inside: list[bool] = []

    def first() -> None:
        with denied_join_result():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with denied_join_result():
            second_in.set()
            first_out.wait(5)
            try:
                ping.delay().get()
            except RuntimeError:
                seen_inside.append(True)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    # inside its task, the second thread is still refused a blocking `.get()`, as in a worker
    assert seen_inside == [True]
    # and the test's own thread, never inside a task, gets its result
    assert ping.delay().get()["pong"] is True
