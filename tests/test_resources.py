"""Server pools and working calendars behave as queues and rotas should."""

from __future__ import annotations

import datetime as dt

import pytest
import simpy

from sim.config.schema import Calendar
from sim.core.calendar import Clock, WorkingCalendar
from sim.core.resources import ServerPool


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
