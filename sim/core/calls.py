"""Scheduled calls: the lightest thing SimPy's event loop can run.

Much of the model is not a process at all but a chain of steps, each of which
only has to happen at a known time: a candidate crisis arising, an A&E triage
ending. A ``simpy.Timeout`` does that job but carries what a process needs (an
environment, a value, a delay, a failure state, a list of callbacks) and goes
through ``Environment.schedule``. A :class:`Call` is itself the queue's
:class:`~sim.core.event_queue.Entry`: its time, priority and number, the
function to call and the patient it is about, and nothing more.

Its place in the queue is exactly that of a ``Timeout`` made at the same moment
(the same time, priority and event number), so which of two events at the same
time runs first, and so every result, is unchanged. A call may also be made for
a time worked out in advance; it is numbered when made, so among events at
exactly the same time it runs earlier than a Timeout made later would. Nothing
can ``yield`` a Call: processes keep using ``env.timeout``.

Why it exists (``benchmarks/core_pieces.py``, ``call_timeout``): with each
Call a plain SimPy timeout carrying the callback instead, the compiled model
ran 18% more instructions (36.5 days of ``integrated``: 637 M against 538 M).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.core.event_queue import Entry, Environment
from sim.core.priorities import NORMAL


class Call(Entry):
    """Run ``then(call)`` at time ``t`` (now or later); the call is about patient ``p``.

    Like a ``simpy.Timeout``, a Call is scheduled when it is made. ``u`` is a
    spare slot for one number the callback needs (the demand's thinning uniform).
    ``in_order``: the caller makes its calls in time order (see
    :meth:`~sim.core.event_queue.Environment.enter_in_order`).
    A call ``delay`` hours from now is ``Call(env, env.now + delay, ...)``: the
    time a Timeout of ``delay`` would get, to the last bit.
    """

    __slots__ = ("p", "then", "u")

    def __init__(
        self,
        env: Environment,
        t: float,
        then: Callable[[Call], None],
        p: Any,
        u: float = 0.0,
        in_order: bool = False,
    ) -> None:
        # numbered now, as a Timeout made now would be
        super().__init__(t, NORMAL, env.number(), None)
        self.then = then
        self.p = p
        self.u = u
        if in_order:
            env.enter_in_order(self)
        else:
            env.enter(self)

    def fire(self, env: Environment) -> None:
        self.then(self)
