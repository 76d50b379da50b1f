"""Scheduled calls: the lightest thing SimPy's event loop can run.

Much of the model is not a process at all but a chain of steps, each of which
only has to happen at a known time: a candidate crisis arising, an A&E triage
ending. A ``simpy.Timeout`` does that job but carries what a process needs (an
environment, a value, a delay, a failure state) and goes through
``Environment.schedule``. A :class:`Call` is a slotted object with the two
attributes SimPy's ``step`` reads (``callbacks`` and ``_ok``) and the patient it
is about, pushed straight onto SimPy's event queue.

Its place in the queue is exactly that of a ``Timeout`` made at the same moment
(the same time, priority and event number), so which of two events at the same
time runs first, and so every result, is unchanged. :meth:`Call.at` schedules a
time worked out in advance; it is numbered when made, so among events at exactly
the same time it runs earlier than a Timeout made later would. Nothing can
``yield`` a Call: processes keep using ``env.timeout``.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.core import NORMAL


class Call:
    """Run ``then(call)`` after ``delay`` hours; the call is about patient ``p``.

    Like a ``simpy.Timeout``, a Call is scheduled when it is made. ``u`` is a
    spare slot for one number the callback needs (the demand's thinning uniform).
    """

    __slots__ = ("callbacks", "p", "u")
    #: SimPy's step checks that an event did not fail after running its callbacks
    _ok = True

    def __init__(
        self,
        env: simpy.Environment,
        delay: float,
        then: Callable[[Call], None],
        p: Any,
        u: float = 0.0,
    ) -> None:
        self.callbacks: list[Callable[[Call], None]] | None = [then]
        self.p = p
        self.u = u
        # where Environment.schedule would put a Timeout made now
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))

    @classmethod
    def at(cls, env: simpy.Environment, t: float, then: Callable[[Call], None], p: Any) -> Call:
        """A call at time ``t`` exactly (now or later), for times worked out in advance."""
        call = cls.__new__(cls)
        call.callbacks = [then]
        call.p = p
        call.u = 0.0
        heappush(env._queue, (t, NORMAL, next(env._eid), call))
        return call
