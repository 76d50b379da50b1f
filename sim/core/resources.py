"""Servers shared by patients: staff on a rota, beds, places in a service.

A :class:`ServerPool` is a multi-server queue with ``capacity`` identical
servers, the behaviour of ``simpy.Resource``: a patient asks for a server, waits
if all are busy, holds the one granted, and hands it back. Waiters are served
first come, first served (or by priority, then arrival, as
``simpy.PriorityResource`` does without pre-emption), and tests check the queue
against Erlang's formulas and against SimPy's own resources.

The number of servers can change while the model runs (:meth:`set_capacity`),
which is how rotas work: raising capacity starts waiting patients at once;
lowering it never interrupts work in progress - staff finish their current
patient and new patients wait until the number busy falls below the new
capacity (a non-preemptive shift change).

A process uses a pool as it would a SimPy resource, with a request token::

    with pool.request() as req:
        yield req
        ...                      # hold the server

Leaving the ``with`` block releases the server if it was granted and withdraws
the request if it was not, so a process interrupted while waiting leaves no
claim behind. As in SimPy, a grant is an event that goes through the event
queue, so the process carries on in a later step at the same time. One
difference: a released server passes straight to the next waiter, where SimPy
first queues a ``Release`` event and grants when that is processed; the order
of service is the same (a test runs the same customers, ties and interrupts on
both and compares).

The model's own call sites use a shortcut, :meth:`ServerPool.acquire`: when a
server is free it is taken at once and the process carries on in the same step
(it gets an event that is already processed), with no event queued. That saves
an event per use, and keeps the order of events at equal times that the
model's stored back-test results were made with.
A waiter still gets a :class:`Request` and is granted in turn. SimPy has no
public way to make an event that is already processed, so the pool sets that
one event's state (``_ok``, ``_value``, no callbacks) as SimPy's step leaves it.

Why the pool exists (``benchmarks/core_pieces.py``, ``server_pool``, 36.5 days
of ``integrated``): with ``simpy.Resource`` in its place (a request event for
every use, granted through the event queue, and a release event), the model
ran 33% more instructions compiled (715 M against 538 M) and 15% more in pure
Python (2,065 M against 1,800 M). (That run's KPIs happened to be the same.)

A :class:`RotaQueue` is the same queue for staff whose rota is fixed in advance
(A&E's triage nurses and clinicians): it works out each customer's start time
when they join, so it needs no events at all.
"""

from __future__ import annotations

import math
from collections import deque
from types import TracebackType
from typing import Any, Final

from simpy.events import Event

from sim.core.event_queue import Environment
from sim.core.level import DeferredLevel, Level

HOURS_PER_WEEK: Final = 168


class Request(Event):
    """A request for one server of a :class:`ServerPool` (SimPy's request token).

    The event is triggered (value None) when a server is granted. Used as a
    context manager, leaving the block hands the server back, or withdraws the
    request if it was never granted; :meth:`cancel` withdraws it by hand.
    ``priority``: lower is served first; equal priorities in order of request.
    """

    pool: ServerPool
    priority: int
    #: granted and not yet released
    held: bool

    def __init__(self, pool: ServerPool, priority: int = 0) -> None:
        super().__init__(pool.env)
        self.pool = pool
        self.priority = priority
        self.held = False
        pool.join(self)

    def __enter__(self) -> Request:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # as SimPy: a generator being closed (GeneratorExit) does not release,
        # since its process is gone, but a request still waiting is withdrawn
        if not self.held:
            self.pool.cancel(self)
        elif exc_type is not GeneratorExit:
            self.pool.release(self)

    def cancel(self) -> None:
        """Withdraw the request if it is still waiting (as ``simpy.Resource``'s)."""
        self.pool.cancel(self)


class ServerPool:
    """Pool of ``capacity`` identical servers, served in order of request.

    ``busy`` servers are in use, ``queue`` holds the waiting requests in the
    order they will be served. See the module's description for the two ways to
    use it (:meth:`request`, and the model's :meth:`acquire` shortcut).
    """

    __slots__ = ("_granted", "busy", "busy_level", "capacity", "capacity_level", "env", "queue")

    def __init__(self, env: Environment, capacity: int) -> None:
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self.queue: deque[Request] = deque()  # waiting requests, first served first
        self.busy_level: Level | None = None
        self.capacity_level: Level | None = None
        # what acquire() hands out when a server is free: an event already
        # processed, so a process that yields it carries on in the same step
        # (see the module's description for why its state is set by hand)
        granted = Event(env)
        granted._ok = True
        granted._value = None
        granted.callbacks = None  # type: ignore[assignment]  # None: processed
        self._granted = granted

    def track(self, busy: Level, capacity: Level) -> None:
        """Keep ``busy`` and ``capacity`` levels up to date (for utilisation)."""
        self.busy_level, self.capacity_level = busy, capacity
        busy.add(self.busy - busy.value, self.env.now)
        capacity.add(self.capacity - capacity.value, self.env.now)

    def request(self, priority: int = 0) -> Request:
        """A request token for a server (see :class:`Request`)."""
        return Request(self, priority)

    def acquire(self) -> Event:
        """The model's shortcut: a server now, if one is free (an event already
        processed), else a :class:`Request` that is granted in turn. Hand the
        server back with :meth:`release`."""
        if self.busy < self.capacity and not self.queue:
            self._take()
            return self._granted
        return Request(self)

    def join(self, req: Request) -> None:
        """Grant ``req`` if a server is free, else queue it by priority, then
        order of request (what :class:`Request` does when it is made)."""
        if self.busy < self.capacity and not self.queue:
            self._take()
            req.held = True
            req.succeed()
            return
        queue = self.queue
        if not queue or queue[-1].priority <= req.priority:
            queue.append(req)  # the usual case: every request at one priority
            return
        i = len(queue) - 1
        while i > 0 and queue[i - 1].priority > req.priority:
            i -= 1
        queue.insert(i, req)

    def _take(self) -> None:
        self.busy += 1
        if self.busy_level is not None:
            self.busy_level.add(1, self.env.now)

    def release(self, req: Request | None = None) -> None:
        """Hand a server back; the first waiter (if any) takes it.

        ``req``: the request it was granted to. A request not granted (still
        waiting) is withdrawn instead, and one already released is ignored, as
        ``simpy.Resource.release`` does. Without it (the :meth:`acquire`
        shortcut) one server is handed back.
        """
        if req is not None:
            if not req.held:
                self.cancel(req)
                return
            req.held = False
        queue = self.queue
        if queue and self.busy <= self.capacity:
            nxt = queue.popleft()  # the server passes straight on
            nxt.held = True
            nxt.succeed()
            return
        self.busy -= 1
        if self.busy_level is not None:
            self.busy_level.add(-1, self.env.now)

    def cancel(self, ev: Event) -> bool:
        """Withdraw a waiting request; False if it was already granted (then release)."""
        try:
            self.queue.remove(ev)  # type: ignore[arg-type]  # (any event: False)
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
            self._take()
            nxt = queue.popleft()
            nxt.held = True
            nxt.succeed()

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

    Why it exists (``benchmarks/core_pieces.py``, ``rota_queue``, 36.5 days of
    ``integrated``): with A&E's two queues as event-driven pools instead (a
    process per attender waiting for triage and then a clinician, the pools'
    capacity set every hour), the compiled model ran 40% more instructions
    (755 M against 538 M).
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

    def first_start(self, t: float, latest: float) -> float:
        """When a customer joining at ``t`` would start service, or ``inf`` if not by
        ``latest``; the queue is left as it was.

        The rule of :meth:`start` (the earliest time from ``t``, not before the
        previous customer's start, at which fewer customers are in service than
        staff on duty; only an arrival, an end of service or the start of an hour
        can be that time), asked without joining: a service that accepts work only
        if it can start in time (UCR's triage) asks first, then joins.
        """
        last = self._last_start
        s = t if t > last else last
        if s > latest or s == math.inf:  # (inf: nobody is ever on duty)
            return math.inf
        staff = self.staff
        # services still under way at s, earliest end first (the list is kept sorted)
        busy = [e for e in self._ends if e > s]
        n, k = len(busy), 0
        if n < staff[int(s) % HOURS_PER_WEEK]:
            return s
        while True:
            nxt = float(int(s) + 1)
            s = busy[k] if k < n and busy[k] < nxt else nxt
            if s > latest:
                return math.inf
            while k < n and busy[k] <= s:
                k += 1
            if n - k < staff[int(s) % HOURS_PER_WEEK]:
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
