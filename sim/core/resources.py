"""Servers shared by patients: staff on a rota, beds, places in a service.

A :class:`ServerPool` is a first-come-first-served multi-server queue, the
behaviour of ``simpy.Resource``, built for speed. SimPy's resource makes a
``Request`` event and a ``Release`` event for every use, each of which goes
through the event queue. Here, a patient who finds a free server gets an event
that is *already processed*, which SimPy resumes at once without queueing
anything, and a release hands the server straight to the next waiter. Only
patients who actually wait cost an event, and none at all in a
:class:`ServicePool`, for steps written as callbacks. The queueing behaviour is
unchanged: FIFO, ``capacity`` servers, and tests check it against Erlang's formulas.

The number of servers can change while the model runs (:meth:`set_capacity`),
which is how rotas work: raising capacity starts waiting patients at once;
lowering it never interrupts work in progress - staff finish their current
patient and new patients wait until the number busy falls below the new
capacity (a non-preemptive shift change).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import Event

from sim.core.calls import Call
from sim.core.level import Level


class ServerPool:
    """FIFO pool of ``capacity`` identical servers.

    Usage inside a SimPy process::

        yield pool.acquire()
        ...                      # hold the server
        pool.release()
    """

    __slots__ = ("_granted", "busy", "busy_level", "capacity", "capacity_level", "env", "queue")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        self.env = env
        self.capacity = capacity
        self.busy = 0
        # requests (Events), or in a ServicePool (patient, hours, callback)
        self.queue: deque[Any] = deque()
        self.busy_level: Level | None = None
        self.capacity_level: Level | None = None
        granted = Event(env)
        granted._ok = True
        granted._value = None
        granted.callbacks = None  # processed: a process yielding it continues at once
        self._granted = granted

    def track(self, busy: Level, capacity: Level) -> None:
        """Keep ``busy`` and ``capacity`` levels up to date (for utilisation)."""
        self.busy_level, self.capacity_level = busy, capacity
        busy.add(self.busy - busy.value, self.env.now)
        capacity.add(self.capacity - capacity.value, self.env.now)

    def acquire(self) -> Event:
        """An event that fires when a server is free (now, if one is)."""
        if self.busy < self.capacity and not self.queue:
            self.busy += 1
            if self.busy_level is not None:
                self.busy_level.add(1, self.env.now)
            return self._granted
        ev = Event(self.env)
        self.queue.append(ev)
        return ev

    def release(self) -> None:
        """Free one server; the longest waiter (if any) takes it."""
        if self.queue and self.busy <= self.capacity:
            self._hand_over(self.queue.popleft())  # the server passes straight on
            return
        self.busy -= 1
        if self.busy_level is not None:
            self.busy_level.add(-1, self.env.now)

    def cancel(self, ev: Event) -> bool:
        """Withdraw a waiting request; False if it was already granted (then release)."""
        try:
            self.queue.remove(ev)
        except ValueError:
            return False
        return True

    def set_capacity(self, capacity: int) -> None:
        """Change the number of servers from now on."""
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        if self.capacity_level is not None:
            self.capacity_level.add(capacity - self.capacity, self.env.now)
        self.capacity = capacity
        queue = self.queue
        while queue and self.busy < capacity:
            self.busy += 1
            if self.busy_level is not None:
                self.busy_level.add(1, self.env.now)
            self._hand_over(queue.popleft())

    def _hand_over(self, waiter: Any) -> None:
        """A server is now the waiter's: its request succeeds."""
        waiter.succeed()

    @property
    def waiting(self) -> int:
        return len(self.queue)


class ServicePool(ServerPool):
    """A :class:`ServerPool` for steps written as callbacks rather than processes.

    :meth:`serve` holds a server for a known time and then calls back, without
    an event for the request: a patient who finds a server free has the end of
    service scheduled at once; one who waits has it scheduled by the release
    that hands the server over. The callback must :meth:`release` the server.
    Same FIFO queue, same capacity rules, two fewer events per patient who waits.
    """

    __slots__ = ()

    def serve(self, p: Any, hours: float, then: Callable[[Call], None]) -> None:
        """Serve ``p`` for ``hours`` as soon as a server is free, then call ``then``."""
        if self.busy < self.capacity and not self.queue:
            self.busy += 1
            if self.busy_level is not None:
                self.busy_level.add(1, self.env.now)
            Call(self.env, hours, then, p)
        else:
            self.queue.append((p, hours, then))

    def _hand_over(self, waiter: tuple[Any, float, Callable[[Call], None]]) -> None:
        p, hours, then = waiter
        Call(self.env, hours, then, p)
