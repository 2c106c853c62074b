"""Background jobs: they run off the GUI thread, report progress, cancel, fail politely and queue."""

from __future__ import annotations

import threading
import time

import pytest

from app.jobs import JobRunner
from core.progress import report


@pytest.fixture
def runner(qapp):
    jobs = JobRunner()
    yield jobs
    jobs.shutdown()


def _record(runner: JobRunner) -> list:
    events = []
    runner.finished.connect(lambda name, result: events.append(("finished", name, result)))
    runner.failed.connect(lambda name, error: events.append(("failed", name, error)))
    runner.cancelled.connect(lambda name: events.append(("cancelled", name)))
    runner.progress.connect(lambda fraction, message: events.append(("progress", fraction, message)))
    return events


def _endless(started: threading.Event):
    """A job that works until cancelled, setting ``started`` first."""
    def job(progress, cancel, cache):
        started.set()
        while True:
            report(progress, 0.1, "working", cancel)
            time.sleep(0.01)

    return job


def test_job_runs_in_the_worker_thread_with_progress(qtbot, runner):
    events = _record(runner)

    def job(progress, cancel, cache):
        report(progress, 0.5, "half way", cancel)
        return threading.current_thread() is threading.main_thread()

    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit("work", job)
    assert ("progress", 0.5, "half way") in events
    assert events[-1] == ("finished", "work", False)  # not the GUI thread
    assert not runner.busy


def test_cancel_stops_a_running_job(qtbot, runner):
    events = _record(runner)
    started = threading.Event()
    runner.submit("slow", _endless(started))
    assert started.wait(5)
    start = time.perf_counter()
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.cancel()
    assert time.perf_counter() - start < 0.5
    assert events[-1] == ("cancelled", "slow") and not runner.busy


def test_failure_is_reported_and_the_worker_keeps_working(qtbot, runner):
    events = _record(runner)

    def broken(progress, cancel, cache):
        raise RuntimeError("boom")

    with qtbot.waitSignal(runner.failed, timeout=5000):
        runner.submit("broken", broken)
    assert isinstance(events[-1][2], RuntimeError)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit("fine", lambda p, c, cache: 42)
    assert events[-1] == ("finished", "fine", 42)


def test_new_job_cancels_the_running_one_and_runs_next(qtbot, runner):
    events = _record(runner)
    started = threading.Event()
    runner.submit("first", _endless(started))
    assert started.wait(5)
    runner.submit("second", lambda p, c, cache: "a")
    runner.submit("third", lambda p, c, cache: "b")  # replaces the queued second
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    outcomes = [e for e in events if e[0] != "progress"]
    assert outcomes == [("cancelled", "second"), ("cancelled", "first"), ("finished", "third", "b")]


def test_cache_lives_across_jobs(qtbot, runner):
    def remember(progress, cancel, cache):
        cache["count"] = cache.get("count", 0) + 1
        return cache["count"]

    for expected in (1, 2):
        with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
            runner.submit("count", remember)
        assert blocker.args == ["count", expected]


def test_the_jobs_own_callback_gets_its_result_and_only_when_it_finished(qtbot, runner):
    received = []
    started = threading.Event()

    def broken(progress, cancel, cache):
        raise RuntimeError("boom")

    runner.submit("slow", _endless(started), on_finished=lambda result: received.append(("slow", result)))
    assert started.wait(5)
    runner.submit("broken", broken, on_finished=lambda result: received.append(("broken", result)))
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert received == []  # cancelled and failed jobs never call back
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit("fine", lambda p, c, cache: 7, on_finished=lambda result: received.append(("fine", result)))
    assert received == [("fine", 7)]
