"""The model's event queue takes events in exactly SimPy's order."""

from __future__ import annotations

import heapq
import random
from collections.abc import Generator
from typing import Any

import pytest
import simpy

from sim.core.event_queue import Entry, Environment, sift_pop, sift_push


def test_sift_loops_take_entries_in_heapq_order() -> None:
    """Interleaved pushes and pops, with many ties in time and priority, come out
    in the order heapq gives SimPy's tuples: time, then priority, then event number."""
    rnd = random.Random(5)
    ours: list[Entry] = []
    theirs: list[tuple[Any, ...]] = []
    out_ours, out_theirs = [], []
    for eid in range(5000):
        t, priority = float(rnd.randint(0, 60)), rnd.choice((0, 1, 1))
        sift_push(ours, Entry(t, priority, eid, None))
        heapq.heappush(theirs, (t, priority, eid))
        if rnd.random() < 0.45:
            out_ours.append(sift_pop(ours))
            out_theirs.append(heapq.heappop(theirs))
    while theirs:
        out_ours.append(sift_pop(ours))
        out_theirs.append(heapq.heappop(theirs))
    assert [(e.t, e.priority, e.eid) for e in out_ours] == out_theirs
    assert not ours
    with pytest.raises(IndexError):
        sift_pop(ours)


def test_peek_gives_the_next_event_time_as_simpy_does() -> None:
    """``peek`` reads the time of the next event, infinity when there is none."""
    for env in (Environment(), simpy.Environment(0.0)):
        assert env.peek() == float("inf")
        env.timeout(3)
        env.timeout(2)
        assert env.peek() == 2.0
        env.step()
        assert env.peek() == 3.0


def _trace(env: simpy.Environment) -> list[tuple[float, str]]:
    """Processes with timeouts that tie, an event succeeded from another process,
    and a run stopped part way and resumed: what happened, in order."""
    log: list[tuple[float, str]] = []
    signal = env.event()

    def worker(name: str, delays: list[float]) -> Generator[simpy.Event, Any, None]:
        for d in delays:
            yield env.timeout(d)
            log.append((env.now, name))
        if name == "a":
            signal.succeed("from a")

    def waiter() -> Generator[simpy.Event, Any, None]:
        value = yield signal
        log.append((env.now, f"waiter got {value}"))

    for name, delays in (("a", [1, 1, 2]), ("b", [2, 2]), ("c", [0, 4, 0])):
        env.process(worker(name, delays))
    env.process(waiter())
    env.run(until=3)
    log.append((env.now, "paused"))
    env.run()
    return log


def test_environment_runs_processes_as_simpy_does() -> None:
    """The same processes give the same trace, ties and a paused run included."""
    assert _trace(Environment()) == _trace(simpy.Environment(0.0))


def test_environment_crashes_on_an_undefused_failure_as_simpy_does() -> None:
    """A failed event nobody handles stops the run with its exception."""

    def failing(env: simpy.Environment) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1)
        raise ValueError("boom")

    for env in (Environment(), simpy.Environment(0.0)):
        env.process(failing(env))
        with pytest.raises(ValueError, match="boom"):
            env.run()


def test_environment_runs_until_an_event_or_reports_it_never_came() -> None:
    """Run until an event returns its value (at once if already processed); a run
    until an event that never happens stops with SimPy's error."""
    for env in (Environment(), simpy.Environment(0.0)):
        done = env.timeout(5, value="five")
        assert env.run(until=done) == "five" and env.now == 5
        assert env.run(until=done) == "five"
        never = env.event()
        env.timeout(1)
        with pytest.raises(RuntimeError):
            env.run(until=never)
        with pytest.raises(ValueError):
            env.run(until=env.now)


def test_interrupts_and_calls_keep_simpy_order() -> None:
    """An interrupted process, and a Call made for the same moment as a Timeout,
    run in the order plain SimPy gives (a Call is placed as a Timeout made at
    that moment would be)."""
    from sim.core.calls import Call

    def trace(env: simpy.Environment) -> list[tuple[float, str]]:
        log: list[tuple[float, str]] = []

        def sleeper() -> Generator[simpy.Event, Any, None]:
            try:
                yield env.timeout(10)
            except simpy.Interrupt as why:
                log.append((env.now, f"interrupted: {why.cause}"))

        def waker(target: simpy.Process) -> Generator[simpy.Event, Any, None]:
            yield env.timeout(2)
            target.interrupt("wake up")
            env.timeout(1).callbacks.append(lambda _: log.append((env.now, "timeout")))
            if isinstance(env, Environment):  # a Call made after the Timeout, same time
                Call(env, env.now + 1, lambda _: log.append((env.now, "call")), None)
            else:
                env.timeout(1).callbacks.append(lambda _: log.append((env.now, "call")))

        env.process(waker(env.process(sleeper())))
        env.run()
        return log

    ours, simpy_trace = trace(Environment()), trace(simpy.Environment(0.0))
    assert ours == simpy_trace == [(2.0, "interrupted: wake up"), (3.0, "timeout"), (3.0, "call")]


def test_entries_queued_in_order_keep_the_order_of_one_heap() -> None:
    """Calls queued in order beside the heap (as the demand queues its crises)
    run interleaved with heap events exactly as if all were in one heap: by
    time, then by the order made (the event number), ties included; one queued
    out of order still runs at its time; ``peek`` sees both."""
    from sim.core.calls import Call

    def trace(in_order: bool) -> list[tuple[float, int]]:
        env = Environment()
        log: list[tuple[float, int]] = []
        rnd = random.Random(11)
        made = 0

        def make(t: float, lane: bool) -> None:
            nonlocal made
            Call(env, t, lambda c: log.append((env.now, c.p)), made, in_order=lane)
            made += 1

        times = sorted(float(rnd.randint(0, 40)) for _ in range(300))
        for i, t in enumerate(times):
            make(t, in_order)
            if i % 3 == 0:  # heap calls at times that tie with lane calls
                make(float(rnd.randint(0, 40)), False)
        make(5.5, in_order)  # out of order: earlier than the last queued in order
        assert env.peek() == times[0]
        env.run()
        assert len(log) == made == 401
        return log

    ordered = trace(True)
    assert ordered == sorted(ordered)  # (time, order made): one heap's order
    assert ordered == trace(False)


def test_priorities_are_simpys() -> None:
    """The queue's inlined priorities are SimPy's own values."""
    import simpy.core

    from sim.core import priorities

    assert (priorities.URGENT, priorities.NORMAL) == (simpy.core.URGENT, simpy.core.NORMAL)


def test_a_process_yielding_a_non_event_fails_as_in_simpy() -> None:
    """Yielding something that is not an event is SimPy's RuntimeError."""

    def bad(env: simpy.Environment) -> Generator[Any, Any, None]:
        yield 42

    for env in (Environment(), simpy.Environment(0.0)):
        env.process(bad(env))
        with pytest.raises(RuntimeError, match="Invalid yield value"):
            env.run()


def test_near_far_and_in_order_events_run_in_one_order() -> None:
    """Events due soon, events due days ahead (a heap of their own) and events
    queued in order all run by time, then by when they were made, as from one
    heap: also when callbacks make more of each kind as the run goes."""
    from sim.core.calls import Call

    env = Environment()
    rnd = random.Random(3)
    made = 0
    log: list[tuple[float, int]] = []

    def happen(call: Call) -> None:
        log.append((env.now, call.p))
        if len(log) < 3000:  # make one more: soon, days ahead, or tied with now
            make(env.now + rnd.choice((0.0, 0.5, float(rnd.randint(1, 200)))))

    def make(t: float, in_order: bool = False) -> None:
        nonlocal made
        Call(env, t, happen, made, in_order=in_order)
        made += 1

    for t in sorted(float(rnd.randint(0, 300)) for _ in range(400)):
        make(t, in_order=True)
    for _ in range(400):
        make(float(rnd.randint(0, 300)))
    env.run()
    assert len(log) == made
    assert log == sorted(log)  # by time, ties by the order made (the event number)


def _kind(event: Any) -> str:
    """What an event is, in terms both environments share."""
    from simpy.events import Initialize

    for kind in (Initialize, simpy.Timeout, simpy.Process):
        if isinstance(event, kind):
            return kind.__name__
    return "other"


def monitored_trace(ours: bool) -> list[tuple[float, int, int, str]]:
    """Every event of ``_trace``'s processes (a paused run included) as the
    environment's monitor sees it (ours) or as SimPy's monitoring recipe, which
    wraps ``env.step``, sees it (plain SimPy)."""
    seen: list[tuple[float, int, int, str]] = []

    def note(t: float, priority: int, eid: int, event: Any) -> None:
        seen.append((t, priority, eid, _kind(event)))

    if ours:
        env: simpy.Environment = Environment(monitor=note)
    else:
        env = simpy.Environment(0.0)
        step = env.step

        def traced_step() -> None:  # SimPy's recipe
            if env._queue:
                note(*env._queue[0])
            step()

        env.step = traced_step  # type: ignore[method-assign]
    _trace(env)
    return seen


def test_the_monitor_sees_every_event_as_simpys_recipe_does() -> None:
    """The monitor is called once per event, before it is processed, with SimPy's
    time, priority, event number and (the same kind of) event."""
    ours = monitored_trace(ours=True)
    assert ours == monitored_trace(ours=False)
    assert len(ours) > 15 and {k for *_, k in ours} >= {"Initialize", "Timeout", "Process"}


def test_the_monitor_works_in_the_other_build_too() -> None:
    """The same trace from the build not running these tests (pure Python when the
    model is compiled): the monitor is part of the environment in both."""
    import json
    import os
    import subprocess
    import sys

    from sim import build_info
    from tests.conftest import ROOT

    if not build_info.compiled():
        pytest.skip("the model is not compiled in this install: only one build to test")
    env = {**os.environ, "PYTHONPATH": str(ROOT), build_info.PURE_PYTHON: "1"}
    code = (
        "import json; from sim import build_info; "
        "from tests.test_event_queue import monitored_trace as m; "
        "print(json.dumps([build_info.compiled(), m(True)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    compiled, trace = json.loads(out.stdout)
    assert compiled is False
    assert [tuple(x) for x in trace] == monitored_trace(ours=False)
