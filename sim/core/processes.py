"""Processes and timeouts: SimPy's, with their hot paths compiled.

A SimPy *process* is a generator that yields the events it waits for; the
process resumes it each time the awaited event happens (``Process._resume``),
and a *timeout* is the event a process waits on to let time pass. In the model
these are the patients' admissions and hospital stays and the services' daily
routines: thousands of processes and tens of thousands of resumptions a
simulated month. SimPy runs that machinery as interpreted Python, so once the
model itself is compiled it was a fair share of what was left.

The classes here are SimPy's own (subclasses of ``simpy.Process``,
``simpy.Timeout`` and SimPy's process-starting event), so everything SimPy
offers still works on them: yielding them, interrupting a process, waiting for
one to end, ``is_alive``, ``target``. Only their construction and the resume
loop are written here, to the same contract, so that compiled they run as C.
The events are created and scheduled in the same order as SimPy's, so results
are unchanged. :class:`~sim.core.event_queue.Environment` makes these from its
``process`` and ``timeout`` methods.

Why it exists (``benchmarks/core_pieces.py``, ``processes``): with SimPy's own
``Process`` and ``Timeout`` the compiled model ran 11% more instructions (36.5
days of ``integrated``: 599 M against 538 M); in pure Python the two are the
same code and cost the same. Like SimPy's own ``Timeout``, the constructors
here set the new event's state (``_ok``, ``_value``) themselves. The resume
loop reads an event's outcome (``_ok``, ``_value``) as SimPy's own loop does,
since the public ``ok`` and ``value`` are Python properties, a call each on
every resumption; it changes state only through SimPy's public API
(``defused``, ``succeed``, ``fail``), and the process running now is the
environment's own field (``active``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy
from simpy.events import PENDING, Initialize

from sim.core.priorities import NORMAL, URGENT

if TYPE_CHECKING:
    from sim.core.event_queue import Environment


class Timeout(simpy.Timeout):
    """An event that happens ``delay`` hours from now (SimPy's Timeout)."""

    # SimPy's attributes, declared so that compiled, they are fields of the
    # object (set and read directly, not through its dictionary)
    env: Environment
    callbacks: list[Any] | None  # type: ignore[assignment]
    _value: Any
    _delay: float
    _ok: bool

    def __init__(self, env: Environment, delay: float, value: Any = None) -> None:
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        self.env = env
        self.callbacks = []
        self._value = value
        self._delay = delay
        self._ok = True
        env.schedule_at(self, env.t + delay, NORMAL)


class _Start(Initialize):
    """The urgent event that starts a new process (SimPy's Initialize)."""

    env: Environment
    callbacks: list[Any] | None  # type: ignore[assignment]
    _value: Any
    _ok: bool

    def __init__(self, env: Environment, process: Process) -> None:
        self.env = env
        self.callbacks = [process._resume]
        self._value = None
        # urgent, as SimPy's: a process is started before it can be interrupted
        self._ok = True
        env.schedule_at(self, env.t, URGENT)


class Process(simpy.Process):
    """A generator run as a SimPy process (see ``simpy.Process``)."""

    env: Environment
    callbacks: list[Any] | None  # type: ignore[assignment]
    _value: Any
    _ok: bool
    _generator: Generator[Any, Any, Any]
    _target: Any

    def __init__(self, env: Environment, generator: Generator[Any, Any, Any]) -> None:
        if not hasattr(generator, "throw"):
            raise ValueError(f"{generator} is not a generator.")
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self._generator = generator
        self._target = _Start(env, self)

    def _resume(self, event: Any) -> None:
        """Send the value of ``event`` into the generator (or throw its failure in),
        until the generator waits on an event not yet processed or ends; an ending
        triggers the process itself with the return value or the exception."""
        env = self.env
        env.active = self
        generator = self._generator
        while True:
            try:
                if isinstance(event, Timeout):  # the usual wait (never fails): fields read directly
                    timeout: Timeout = event
                    event = generator.send(timeout._value)
                elif event._ok:  # (read as SimPy's own loop does: no property call)
                    event = generator.send(event._value)
                else:
                    # the process handles the failure (or fails with it): its
                    # own copy, so other processes' tracebacks stay apart
                    event.defused = True
                    failure = event.value
                    exc = type(failure)(*failure.args)
                    exc.__cause__ = failure
                    event = generator.throw(exc)
            except StopIteration as stop:
                event = None
                self.succeed(stop.value)
                break
            except BaseException as failure:
                event = None
                self.fail(failure)  # type: ignore[arg-type]  # (SimPy takes any)
                break
            if isinstance(event, Timeout):
                timeout = event
                callbacks = timeout.callbacks
            else:
                try:
                    callbacks = event.callbacks
                except AttributeError:
                    raise RuntimeError(f'Invalid yield value "{event}"') from None
            if callbacks is not None:
                callbacks.append(self._resume)
                break
        self._target = event
        env.active = None
