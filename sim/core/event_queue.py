"""The event queue: SimPy's order of events, kept by the model's own code.

A discrete-event simulation keeps the events it has scheduled in time order
and, at each step, takes the first and runs what waits on it. SimPy keeps them
in a binary heap of ``(time, priority, event number, event)`` tuples: among
events at the same time *urgent* ones (a process starting, an interruption)
go before *normal* ones, and otherwise the order of scheduling decides (the
event number). A replication-year of the model takes some 400,000 events from
a queue of several hundred, so this queue is one of the largest costs of a run.

:class:`Environment` is SimPy's environment with that queue kept here. Each
place in the queue is an :class:`Entry` holding the time, priority and number
as plain fields (C doubles and integers when compiled), and the sift loops
(:func:`sift_push`, :func:`sift_pop`) compare those fields directly, where
``heapq`` compares Python tuples through their generic comparison. The order is
SimPy's exactly: every event number is unique, so events leave in the order
``heapq`` would give, and tests compare traces with plain SimPy. Two more places
keep the heap that is used most small: events due days ahead (stays in
hospital and in services) wait in a second heap, and crises, made a few days at
a time in time order, wait in a plain list; each step takes the earliest of
the three (:meth:`Environment.step`). A :class:`~sim.core.calls.Call` is an
entry itself.

Compiled and pure-Python builds run this same code but for the three small
functions that add to a heap and take from it (:func:`push`, :func:`pop`,
:func:`first`). In plain Python, ``heapq``'s C code beats any Python loop, so
there the heaps hold ``(time, priority, number, entry)`` tuples kept by
``heapq``, SimPy's own way; compiled, they hold the entries themselves, kept by
the sift loops.

Why it exists (``benchmarks/core_pieces.py``, 36.5 days of ``integrated``):
with SimPy's own heap of tuples instead, one heap and no lane (``one_heap``),
the compiled model ran 38% more instructions (742 M against 538 M); with the
compiled sift loops, heaps and lane run as plain Python too (``one_path``),
the pure-Python model ran 28% more (2,304 M against 1,800 M).

Monitoring: SimPy's recipe replaces ``env.step`` on an instance and reads
``env._queue[0]``; neither works here (compiled, ``run`` calls ``step``
directly, and the queue is not SimPy's ``_queue``). Set
:attr:`Environment.monitor` instead: it is called with SimPy's
``(time, priority, event number, event)`` for every event, just before the
event is processed, in both builds.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from heapq import heappop, heappush
from typing import Any, Final

import simpy
from simpy.core import EmptySchedule, Infinity, StopSimulation

from sim.core.priorities import NORMAL, URGENT
from sim.core.processes import Process, Timeout

#: True when this module runs as compiled code
COMPILED: Final = not __file__.endswith(".py")

#: events further ahead than this (hours) wait in a heap of their own (see
#: Environment.step): mostly hospital and service stays, days or weeks long
FAR_AHEAD_HOURS: Final = 24.0

#: what :attr:`Environment.monitor` is called with: time, priority, event
#: number and the event (a :class:`~sim.core.calls.Call` for a call)
Monitor = Callable[[float, int, int, Any], None]


class Entry:
    """A scheduled event's place in the queue: when, at what priority, which.

    ``t`` is the time, ``priority`` SimPy's (URGENT before NORMAL), ``eid`` the
    event number (its order of scheduling, unique), ``event`` the SimPy event.
    """

    __slots__ = ("eid", "event", "priority", "t")

    def __init__(self, t: float, priority: int, eid: int, event: Any) -> None:
        self.t = t
        self.priority = priority
        self.eid = eid
        self.event = event

    def fire(self, env: Environment) -> None:
        """The event happens: run its callbacks, as SimPy's ``step`` does."""
        event = self.event
        # the commonest event, whose fields compiled code reads directly; it never fails
        is_timeout = isinstance(event, Timeout)
        if is_timeout:
            timeout: Timeout = event
            callbacks: Any = timeout.callbacks
            timeout.callbacks = None
        else:
            callbacks = event.callbacks
            event.callbacks = None
        i = 0
        try:
            for callback in callbacks:
                i += 1
                callback(event)
        except StopSimulation:
            # as SimPy: the rest of the callbacks run when the simulation resumes
            event.callbacks = callbacks[i:]
            env.schedule(event, -1)
            raise
        # (SimPy's own step reads ``_ok`` too: the public ``ok`` is a Python
        # property, a call on every event that is not a timeout)
        if not is_timeout and not event._ok and not event.defused:
            # as SimPy: a failure nobody handled ends the run, with a copy of it
            failure = event.value
            exc = type(failure)(*failure.args)
            exc.__cause__ = failure
            raise exc


class _Stop(Entry):
    """The end of ``run(until=time)``: ahead of every other event at that time."""

    __slots__ = ()

    def fire(self, env: Environment) -> None:
        # as SimPy, whose stop event is queued again (first, with nothing left
        # to run) for when the run resumes: the event numbers stay SimPy's
        env.enter(_Spent(self.t, -1, env.number(), None))
        raise StopSimulation(None)


class _Spent(Entry):
    """A stop already reached: nothing to do."""

    __slots__ = ()

    def fire(self, env: Environment) -> None:
        pass


def push(queue: list[Any], entry: Entry) -> None:
    """Add ``entry`` to the heap ``queue`` (by ``heapq``'s C code in plain Python)."""
    if COMPILED:
        sift_push(queue, entry)
    else:
        heappush(queue, (entry.t, entry.priority, entry.eid, entry))


def pop(queue: list[Any]) -> Entry:
    """Remove and return the first entry of the heap ``queue`` (IndexError if empty)."""
    if COMPILED:
        return sift_pop(queue)
    entry: Entry = heappop(queue)[3]
    return entry


def first(queue: list[Any]) -> Entry:
    """The first entry of the non-empty heap ``queue``."""
    if COMPILED:
        return _first(queue)
    entry: Entry = queue[0][3]
    return entry


def _first(queue: list[Entry]) -> Entry:
    return queue[0]


def sift_push(queue: list[Entry], entry: Entry) -> None:
    """Add ``entry`` to the heap ``queue``."""
    queue.append(entry)
    _sift_up(queue, len(queue) - 1, entry)


def sift_pop(queue: list[Entry]) -> Entry:
    """Remove and return the first entry of the heap ``queue`` (IndexError if empty)."""
    last = queue.pop()
    if not queue:
        return last
    first = queue[0]
    # as heapq does: move the earlier child up, level by level, to a leaf (one
    # comparison a level), then the last entry up from there to its place
    n = len(queue)
    pos = 0
    child = 1
    while child < n:
        right = child + 1
        if right < n and not _before(queue[child], queue[right]):
            child = right
        queue[pos] = queue[child]
        pos = child
        child = 2 * pos + 1
    _sift_up(queue, pos, last)
    return first


def _sift_up(queue: list[Entry], pos: int, entry: Entry) -> None:
    """Put ``entry`` at ``pos`` or above, past every parent that comes after it."""
    while pos > 0:
        parent = (pos - 1) >> 1
        up = queue[parent]
        if not _before(entry, up):
            break
        queue[pos] = up
        pos = parent
    queue[pos] = entry


def _before(a: Entry, b: Entry) -> bool:
    """True if ``a`` is taken before ``b``: by time, then priority, then event number."""
    if a.t != b.t:
        return a.t < b.t
    if a.priority != b.priority:
        return a.priority < b.priority
    return a.eid < b.eid


class Environment(simpy.Environment):
    """SimPy's environment with its queue kept by this module.

    Scheduling, stepping and the run loop are written here; what they do is
    SimPy's (callbacks in order, a failed event that nobody defused crashes the
    run, ``run(until=...)`` stops before events at that time). The clock, the
    queue and the active process are this class's own fields, so SimPy's
    private ones (``_now``, ``_queue``, ``_active_proc``) stay as SimPy's
    ``__init__`` made them; read the public ``now``, ``active_process`` and
    :meth:`peek`. Compiled, it is a native class: the model reads the clock
    directly instead of through a Python property, and ``run`` calls
    :meth:`step` directly, so replacing ``env.step`` on an instance has no
    effect; use :attr:`monitor`.
    """

    #: called with ``(time, priority, event number, event)`` just before each
    #: event is processed (SimPy's monitoring recipe, built in); None: not called
    monitor: Monitor | None
    #: the process running now (SimPy's ``active_process``), set by its resume loop
    active: Any

    def __init__(self, monitor: Monitor | None = None) -> None:
        super().__init__(0.0)
        self.monitor = monitor
        self.active = None
        # the clock: times are floats from the start
        self.t = 0.0
        #: events numbered so far (a native integer, where SimPy counts with
        #: ``itertools.count``): the event number breaks ties
        self.numbered = 0
        # events due within FAR_AHEAD_HOURS when scheduled: the heap used most
        # (entries compiled, heapq's tuples in plain Python: see push)
        self.heap: list[Any] = []
        # events further ahead: a second heap
        self._far: list[Any] = []
        # entries queued in order (enter_in_order): a plain list and the
        # position of the first not yet taken
        self._lane: list[Entry] = []
        self._lane_next = 0

    @property
    def now(self) -> float:
        """The current simulation time (hours)."""
        return self.t

    @property
    def active_process(self) -> Any:
        """The process running now (None between processes), as SimPy's."""
        return self.active

    def schedule(self, event: simpy.Event, priority: int = NORMAL, delay: float = 0) -> None:
        self.schedule_at(event, self.t + delay, priority)

    def schedule_at(self, event: Any, t: float, priority: int = NORMAL) -> None:
        """Put ``event`` in the queue for time ``t`` (now or later), numbered now."""
        self.enter(Entry(t, priority, self.number(), event))

    def enter(self, entry: Entry) -> None:
        """Put ``entry`` (made with :meth:`number` for its event number) in the queue."""
        if entry.t - self.t > FAR_AHEAD_HOURS:
            push(self._far, entry)
        else:
            push(self.heap, entry)

    def enter_in_order(self, entry: Entry) -> None:
        """Put ``entry`` in the queue, knowing it comes after every entry put in
        this way before it (a stream of arrivals made in time order).

        Such entries wait in a plain list beside the heaps, so adding and taking
        one costs no heap work, and the heaps stay smaller. Each step takes the
        first of the firsts (see :meth:`step`), so the order of events is exactly
        as if all were in one heap. An entry out of order goes to a heap instead.
        """
        lane = self._lane
        if lane and _before(entry, lane[-1]):
            self.enter(entry)
        else:
            lane.append(entry)

    def number(self) -> int:
        """The next event number: the order of scheduling, which breaks ties."""
        eid = self.numbered
        self.numbered = eid + 1
        return eid

    def process(self, generator: Generator[Any, Any, Any]) -> Process:
        """Start ``generator`` as a process (SimPy's, resumed by compiled code)."""
        return Process(self, generator)

    def timeout(self, delay: float = 0, value: Any = None) -> Timeout:  # type: ignore[override]
        """An event ``delay`` hours from now (SimPy's Timeout, made by compiled code)."""
        return Timeout(self, delay, value)

    def peek(self) -> float:
        """The time of the next event (infinity if there is none)."""
        t = first(self.heap).t if self.heap else Infinity
        if self._far:
            t = min(t, first(self._far).t)
        if self._lane_next < len(self._lane):
            t = min(t, self._lane[self._lane_next].t)
        return t

    def run(self, until: float | simpy.Event | None = None) -> Any:
        """Process events until ``until``: a time (the run stops before events at
        that time), an event (its value is returned), or None (no events left).

        SimPy's own contract; the loop is here so that, compiled, each step is a
        direct call rather than an interpreted loop around a method call.
        """
        waited: simpy.Event | None = None
        if isinstance(until, simpy.Event):
            waited = until
            if waited.processed:
                return waited.value
            waited.callbacks.append(StopSimulation.callback)
        elif until is not None:
            at = float(until)
            if at <= self.t:
                raise ValueError(f"until ({at}) must be after the current time ({self.t})")
            # ahead of every other event at that time, numbered as SimPy numbers its own
            self.enter(_Stop(at, URGENT, self.number(), None))
        try:
            while True:
                self.step()
        except StopSimulation as done:
            return done.args[0]
        except EmptySchedule:
            if waited is not None:
                raise RuntimeError(
                    f"no events left, but the event to run until never happened: {waited}"
                ) from None
        return None

    def step(self) -> None:
        """Take the first event and run it.

        Events wait in three places: the heap of events due within
        FAR_AHEAD_HOURS of when they were scheduled, a heap of those further
        ahead, and the list of entries queued in order (:meth:`enter_in_order`).
        The first of the three firsts is the first event overall, so the order
        is exactly one heap's; the heap taken from most often stays small, and
        so quick.
        """
        queue = self.heap
        src = queue
        far = self._far
        if far and (not queue or _before(first(far), first(queue))):
            src = far
        lane = self._lane
        k = self._lane_next
        if k < len(lane) and (not src or _before(lane[k], first(src))):
            entry = lane[k]
            if k + 1 < len(lane):
                self._lane_next = k + 1
            else:  # all taken: start the list afresh
                lane.clear()
                self._lane_next = 0
        elif src:
            entry = pop(src)
        else:
            raise EmptySchedule()
        self.t = entry.t
        monitor = self.monitor
        if monitor is not None:
            monitor(
                entry.t, entry.priority, entry.eid, entry if entry.event is None else entry.event
            )
        entry.fire(self)


def new_environment() -> Environment:
    """The model's SimPy environment, starting at time 0.0."""
    return Environment()
