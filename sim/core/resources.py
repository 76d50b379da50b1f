"""Servers shared by patients: staff on a rota, beds, places in a service.

A :class:`ServerPool` is a first-come-first-served multi-server queue, the
behaviour of ``simpy.Resource``, built for speed. SimPy's resource makes a
``Request`` event and a ``Release`` event for every use, each of which goes
through the event queue. Here, a patient who finds a free server gets an event
that is *already processed*, which SimPy resumes at once without queueing
anything, and a release hands the server straight to the next waiter. Only
patients who actually wait cost an event. The queueing behaviour is unchanged:
FIFO, ``capacity`` servers, and tests check it against Erlang's formulas.

The number of servers can change while the model runs (:meth:`set_capacity`),
which is how rotas work: raising capacity starts waiting patients at once;
lowering it never interrupts work in progress - staff finish their current
patient and new patients wait until the number busy falls below the new
capacity (a non-preemptive shift change).

A :class:`RotaQueue` is the same queue for staff whose rota is fixed in advance
(A&E's triage nurses and clinicians): it works out each customer's start time
when they join, so it needs no events at all.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Final

from simpy.events import Event

from sim.core.event_queue import Environment
from sim.core.level import DeferredLevel, Level

HOURS_PER_WEEK: Final = 168


class ServerPool:
    """FIFO pool of ``capacity`` identical servers.

    Usage inside a SimPy process::

        yield pool.acquire()
        ...                      # hold the server
        pool.release()
    """

    __slots__ = ("_granted", "busy", "busy_level", "capacity", "capacity_level", "env", "queue")

    def __init__(self, env: Environment, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self.queue: deque[Event] = deque()  # waiting requests
        self.busy_level: Level | None = None
        self.capacity_level: Level | None = None
        granted = Event(env)
        granted._ok = True
        granted._value = None
        # processed: a process yielding it continues at once (SimPy's own test
        # of an event is `callbacks is None`; its type hints leave None out)
        granted.callbacks = None  # type: ignore[assignment]
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
            self.queue.popleft().succeed()  # the server passes straight on
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
            queue.popleft().succeed()

    @property
    def waiting(self) -> int:
        return len(self.queue)


class RotaQueue:
    """A first-come-first-served queue whose staff follow a weekly rota, solved on arrival.

    With first-come-first-served service and a rota known in advance, when a
    customer starts depends only on the customers before them, so it can be
    worked out the moment they join: the earliest time, from their arrival and
    not before the previous customer's start, at which fewer customers are in
    service than staff are on duty. That time can only be an arrival, the end
    of a service or the start of an hour. The answer is the one a
    :class:`ServerPool` driven hour by hour from the same rota gives (tests
    check it), without a single event: a rota change never interrupts a
    service, and extra staff start waiting customers at once.

    One rule is explicit here where an event-driven pool leaves it to the order
    of simultaneous events: a service that ends exactly on the hour frees its
    member of staff under the new hour's numbers. This only matters for service
    times that are whole hours apart (fixed durations).

    Args:
        staff: Staff on duty in each hour of the week, from hour 0 of the run.
        busy: Level of customers in service, updated by booked changes.
        until: End of the run: a customer who would start then or later is not
            served within it (``start`` returns ``inf`` and books nothing), so
            an overloaded queue costs no work beyond the run.
    """

    __slots__ = ("_ends", "_last_start", "busy", "staff", "until")

    def __init__(
        self, staff: list[int], busy: DeferredLevel | None = None, until: float = math.inf
    ) -> None:
        if len(staff) != HOURS_PER_WEEK or min(staff) < 0:
            raise ValueError(f"staff must be {HOURS_PER_WEEK} numbers >= 0")
        self.staff = staff
        self.busy = busy
        self.until = until
        # when the customers in service finish, earliest first: a few entries
        # (about the staff on duty), so a sorted list, not a heap
        self._ends: list[float] = []
        # nobody is ever served when nobody is ever on duty
        self._last_start = 0.0 if max(staff) > 0 else math.inf

    def start(self, t: float, hours: float) -> float:
        """When a customer who joins at ``t`` and needs ``hours`` starts service."""
        ends = self._ends
        s = t if t > self._last_start else self._last_start
        if s == math.inf:
            return s
        _drop_until(ends, s)
        if len(ends) >= self.staff[int(s) % HOURS_PER_WEEK]:
            s = self._wait(s)
        if s >= self.until:
            self._last_start = math.inf  # nobody after this one starts in the run either
            return math.inf
        self._last_start = s
        end = s + hours
        _insert_sorted(ends, end)
        if self.busy is not None:
            self.busy.book(s, end)
        return s

    def _wait(self, s: float) -> float:
        """The first chance after ``s`` with a member of staff free (or the end of the run)."""
        ends, staff, until = self._ends, self.staff, self.until
        while s < until:
            # the next chance: a service ends or a new hour's staff come on
            nxt = float(int(s) + 1)
            s = ends[0] if ends and ends[0] < nxt else nxt
            _drop_until(ends, s)
            if len(ends) < staff[int(s) % HOURS_PER_WEEK]:
                return s
        return s


def _drop_until(ends: list[float], t: float) -> None:
    """Remove the ends at or before ``t`` from the ascending list ``ends``."""
    k = 0
    while k < len(ends) and ends[k] <= t:
        k += 1
    if k == 1:  # the usual case, without making a slice
        ends.pop(0)
    elif k:
        del ends[:k]


def _insert_sorted(ends: list[float], end: float) -> None:
    """Insert ``end`` into the ascending list ``ends`` (after any equal entries)."""
    i = len(ends)
    ends.append(end)
    # entries move up as the objects they are (compiled, reading them as floats
    # would unbox each one and box it again)
    moved: list[Any] = ends
    while i > 0 and ends[i - 1] > end:
        moved[i] = moved[i - 1]
        i -= 1
    moved[i] = end
