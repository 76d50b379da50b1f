"""The event queue: SimPy's, kept by compiled code when the model is compiled.

SimPy keeps the events it has scheduled in a binary heap ordered by time, then
priority, then event number (the order of scheduling), and takes the first one
at each step. Taking it means comparing a new root with about log2(n) others on
its way down. A replication-year of the model takes some 390,000 events from a
heap of several hundred, so in the compiled model these comparisons were one of
the largest costs left.

Here each place in the queue is an :class:`Entry` holding the time, priority
and number as plain fields (C doubles and integers when compiled), and the
compiled sift loops compare those fields directly, where ``heapq`` would compare
Python tuples through their generic comparison. The order is SimPy's exactly:
every event number is unique, so events leave the queue in the order ``heapq``
gives, and results are unchanged. A :class:`~sim.core.calls.Call` is an entry
itself, with nothing else to allocate. Two more places keep the heap that is
used most small: events due days ahead (stays in hospital and in services) wait
in a second heap, and crises, made a few days at a time in time order, wait in
a plain list; each step takes the earliest of the three (:meth:`Environment.step`).
In plain Python ``heapq``'s C code beats any Python loop, so the pure-Python
model keeps ``(time, priority, number, entry)`` tuples in ``heapq`` heaps
instead (:func:`push`, :func:`pop`).
"""

from __future__ import annotations

from collections.abc import Generator
from heapq import heappop, heappush
from itertools import count
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
        if not is_timeout and not event._ok and not hasattr(event, "_defused"):
            exc = type(event._value)(*event._value.args)
            exc.__cause__ = event._value
            raise exc


def push(queue: list[Any], entry: Entry) -> None:
    """Add ``entry`` to the heap ``queue`` (heapq's C code in plain Python)."""
    if COMPILED:
        sift_push(queue, entry)
    else:
        heappush(queue, (entry.t, entry.priority, entry.eid, entry))


def pop(queue: list[Any]) -> Entry:
    """Remove and return the first entry of the heap ``queue`` (heapq's C code in
    plain Python; IndexError if empty)."""
    if COMPILED:
        return sift_pop(queue)
    first: Entry = heappop(queue)[3]
    return first


def first(queue: list[Any]) -> Entry:
    """The first entry of the non-empty heap ``queue``."""
    if COMPILED:
        return _first(queue)
    entry: Entry = queue[0][3]
    return entry


def _first(queue: list[Entry]) -> Entry:
    return queue[0]


def sift_push(queue: list[Entry], entry: Entry) -> None:
    """Add ``entry`` to the heap ``queue`` by this module's own sift loop."""
    queue.append(entry)
    _sift_up(queue, len(queue) - 1, entry)


def sift_pop(queue: list[Entry]) -> Entry:
    """Remove and return the first entry of ``queue`` by this module's own sift loop."""
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
    """SimPy's environment with its queue kept by :func:`push` and :func:`pop`.

    Scheduling, stepping and the run loop are written here; what they do is
    SimPy's (callbacks in order, a failed event that nobody defused crashes the
    run, ``run(until=...)`` stops before events at that time). Compiled, it is a
    native class: the model reads the clock (:attr:`now`) directly instead of
    through a Python property, and ``run`` calls :meth:`step` directly, so
    replacing ``env.step`` on an instance (SimPy's monitoring recipe) has no
    effect there; a plain-Python subclass of it cannot be made either. SimPy's
    private ``_queue`` is not SimPy's heap of tuples any more: compiled, it is a
    heap of :class:`Entry` objects due within FAR_AHEAD_HOURS (the rest wait in
    ``_far`` and ``_lane``, see :meth:`step`); in plain Python, a heap of
    ``(time, priority, number, entry)`` tuples holding every event. Use
    :meth:`peek` for the time of the next event.
    """

    # SimPy's own state, declared so compiled code reaches it directly
    _now: float  # type: ignore[assignment]  # always a float here
    _queue: list[Any]  # type: ignore[assignment]  # of entries (tuples in plain Python)
    _eid: count[int]  # SimPy's event numbers, unused here (see numbered)
    _active_proc: Any

    def __init__(self) -> None:
        super().__init__(0.0)  # times are floats from the start
        #: events numbered so far (SimPy's count, kept as a native integer)
        self.numbered = 0
        # events more than FAR_AHEAD_HOURS ahead when scheduled: a second heap
        self._far: list[Any] = []
        # entries queued in order (enter_in_order): a plain list and the
        # position of the first not yet taken
        self._lane: list[Entry] = []
        self._lane_next = 0

    @property
    def now(self) -> float:
        """The current simulation time (hours)."""
        return self._now

    def schedule(self, event: simpy.Event, priority: int = NORMAL, delay: float = 0) -> None:
        self.schedule_at(event, self._now + delay, priority)

    def schedule_at(self, event: Any, t: float, priority: int = NORMAL) -> None:
        """Put ``event`` in the queue for time ``t`` (now or later), numbered now."""
        self.enter(Entry(t, priority, self.number(), event))

    def enter(self, entry: Entry) -> None:
        """Put ``entry`` (made with :meth:`number` for its event number) in the queue."""
        if COMPILED and entry.t - self._now > FAR_AHEAD_HOURS:
            push(self._far, entry)
        else:  # (in plain Python one heapq heap is quickest: see step)
            push(self._queue, entry)

    def enter_in_order(self, entry: Entry) -> None:
        """Put ``entry`` in the queue, knowing it comes after every entry put in
        this way before it (a stream of arrivals made in time order).

        Such entries wait in a plain list beside the heaps, so adding and taking
        one costs no heap work, and the heaps stay smaller. Each step takes the
        first of the firsts (see :meth:`step`), so the order of events is exactly
        as if all were in one heap. An entry out of order goes to a heap instead.
        """
        lane = self._lane
        if not COMPILED or (lane and _before(entry, lane[-1])):
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
        t = first(self._queue).t if self._queue else Infinity
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
        stop: simpy.Event | None = None
        if isinstance(until, simpy.Event):
            stop = until
            if stop.processed:
                return stop.value
        elif until is not None:
            at = float(until)
            if at <= self._now:
                raise ValueError(f"until ({at}) must be after the current time ({self._now})")
            # a stop event ahead of every other event at that time
            stop = simpy.Event(self)
            stop._ok = True
            stop._value = None
            self.schedule(stop, URGENT, at - self._now)
        if stop is not None:
            stop.callbacks.append(StopSimulation.callback)
        try:
            while True:
                self.step()
        except StopSimulation as done:
            return done.args[0]
        except EmptySchedule:
            if stop is not None:
                raise RuntimeError(
                    f"no events left, but the event to run until never happened: {stop}"
                ) from None
        return None

    def step(self) -> None:
        """Take the first event and run it.

        Events wait in three places: the heap of events due within
        FAR_AHEAD_HOURS of when they were scheduled (``_queue``, SimPy's), a
        heap of those further ahead (``_far``), and the list of entries queued
        in order (:meth:`enter_in_order`). The first of the three firsts is the
        first event overall, so the order is exactly one heap's; the heap
        taken from most often stays small, and so quick. In plain Python, where
        comparing entries is a Python call but heapq's is C, all events are in
        the one heap.
        """
        queue = self._queue
        src = queue
        far = self._far  # (empty in plain Python, as is the lane)
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
        self._now = entry.t
        entry.fire(self)


def new_environment() -> Environment:
    """The model's SimPy environment, starting at time 0.0."""
    return Environment()
