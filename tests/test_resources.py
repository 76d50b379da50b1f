"""Server pools and working calendars behave as queues and rotas should."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import simpy

from sim.config.schema import Calendar
from sim.core.calendar import Clock, WorkingCalendar
from sim.core.resources import ServerPool, ServicePool


def _customer(env, pool, name, hold, log):
    yield pool.acquire()
    log.append((env.now, name, "start"))
    yield env.timeout(hold)
    pool.release()


def test_pool_serves_first_come_first_served() -> None:
    """With one server, customers start in arrival order, each after the previous."""
    env = simpy.Environment()
    pool = ServerPool(env, 1)
    log: list = []
    for i in range(3):
        env.process(_customer(env, pool, i, 2.0, log))
    env.run()
    assert [(t, n) for t, n, _ in log] == [(0, 0), (2, 1), (4, 2)]


def test_raising_capacity_starts_waiters_and_lowering_does_not_preempt() -> None:
    """A rota change: extra staff start waiting patients; fewer staff finish their work."""
    env = simpy.Environment()
    pool = ServerPool(env, 1)
    log: list = []
    for i in range(3):
        env.process(_customer(env, pool, i, 5.0, log))

    def rota():
        yield env.timeout(1)
        pool.set_capacity(3)  # two waiting customers start at t=1
        yield env.timeout(1)
        pool.set_capacity(0)  # nobody is interrupted

    env.process(rota())
    env.run()
    starts = sorted(t for t, _, _ in log)
    assert starts == [0, 1, 1]
    assert pool.busy == 0


def test_zero_capacity_never_serves() -> None:
    env = simpy.Environment()
    pool = ServerPool(env, 0)
    log: list = []
    env.process(_customer(env, pool, 0, 1.0, log))
    env.run(until=100)
    assert log == [] and pool.waiting == 1
    with pytest.raises(ValueError):
        ServerPool(env, -1)


def _random_rota_run(pool_cls: type, seed: int) -> list[tuple[float, int, str]]:
    """Poisson arrivals, random holds and an hourly rota; log of service ends."""
    env = simpy.Environment()
    pool = pool_cls(env, 2)
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(0.3, 400)).tolist()
    holds = rng.exponential(0.8, 400).tolist()
    rota = rng.integers(0, 5, 200).tolist()
    log: list[tuple[float, int, str]] = []

    def staff():
        for n in rota:
            pool.set_capacity(n)
            yield env.timeout(1.0)

    def done(call):
        log.append((env.now, call.p, "end"))
        pool.release()

    def arrive(i):
        yield env.timeout(arrivals[i])
        if pool_cls is ServicePool:
            pool.serve(i, holds[i], done)
            return
        yield pool.acquire()
        yield env.timeout(holds[i])
        log.append((env.now, i, "end"))
        pool.release()

    env.process(staff())
    for i in range(len(arrivals)):
        env.process(arrive(i))
    env.run(until=200)
    return log


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_service_pool_serves_as_the_request_pool_does(seed: int) -> None:
    """The callback pool (no request events) finishes every customer at exactly the
    time the process-style pool does, under a changing rota with queues."""
    assert _random_rota_run(ServicePool, seed) == _random_rota_run(ServerPool, seed)


def test_calendar_wait_until_open() -> None:
    """Weekdays 08-18 from a Monday: open, closed overnight, closed at weekends."""
    clock = Clock(dt.date(2019, 4, 1))  # a Monday
    cal = WorkingCalendar.from_config(clock, Calendar(("Mon", "Tue", "Wed", "Thu", "Fri"), 8, 18))
    assert cal.wait_until_open(9.5) == 0
    assert cal.wait_until_open(6.0) == pytest.approx(2.0)
    assert cal.wait_until_open(18.25) == pytest.approx(13.75)
    friday_evening = 4 * 24 + 19.0
    assert cal.wait_until_open(friday_evening) == pytest.approx(24 * 3 + 8 - 19)
    assert cal.open_hours_per_week() == 50
