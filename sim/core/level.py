"""Time-weighted counters: how many are in a state, integrated over time.

Bed occupancy, patients boarding in A&E and patients delayed by attribution are
all *levels*: numbers that step up and down at event times. Their integrals give
bed days, boarding hours and delayed days; their maxima give peaks. A level is
cheap to update (a few float operations) and can be snapshotted at the end of a
warm-up period and at each midnight.
"""

from __future__ import annotations

import numpy as np


class Level:
    """A piecewise-constant count with its running integral and peak."""

    __slots__ = ("area", "last_t", "peak", "value")

    def __init__(self, value: float = 0.0, t: float = 0.0) -> None:
        self.value = value
        self.area = 0.0
        self.last_t = t
        self.peak = value

    def add(self, delta: float, t: float) -> None:
        self.area += self.value * (t - self.last_t)
        self.last_t = t
        self.value += delta
        if self.value > self.peak:
            self.peak = self.value

    def area_at(self, t: float) -> float:
        """Integral from time 0 to ``t`` (``t`` not before the last change)."""
        return self.area + self.value * (t - self.last_t)

    def reset_peak(self) -> None:
        self.peak = self.value


class DeferredLevel(Level):
    """A level whose changes are written down when known and applied at readings.

    A&E knows when a patient will start and end each stage, and when one who is
    going home will leave, as soon as the stage before ends: it *books* those
    changes (:meth:`book`, :meth:`book_exit`) instead of scheduling an event
    for each. A change made now (:meth:`add`) is booked the same way. Before a
    reading at time ``t``, :meth:`settle` applies every change booked for
    before ``t`` in time order (at equal times, in the order booked). The value,
    integral and peak are then exactly those of the same changes made one by one
    at their times: the arithmetic is the same, in the same order, only done on
    a day's changes at once as arrays. So the value is only up to date after
    :meth:`settle` (the recorder settles at every midnight and at the end).
    """

    __slots__ = ("_deltas", "_times")

    def __init__(self, value: float = 0.0, t: float = 0.0) -> None:
        super().__init__(value, t)
        self._times: list[float] = []
        self._deltas: list[float] = []

    def add(self, delta: float, t: float) -> None:
        self._times.append(t)
        self._deltas.append(delta)

    def book(self, start: float, end: float) -> None:
        """One more in the level from ``start`` to ``end``."""
        # at a hand-over the end goes first: the earlier customer booked it first
        self._times += (start, end)
        self._deltas += (1.0, -1.0)

    def book_exit(self, end: float) -> None:
        """One fewer in the level from ``end`` (now or later)."""
        self._times.append(end)
        self._deltas.append(-1.0)

    def settle(self, t: float) -> None:
        """Apply the changes booked for before ``t``, ready for a reading at ``t``."""
        if not self._times:
            return
        times = np.asarray(self._times)
        deltas = np.asarray(self._deltas)
        due = times < t
        self._times, self._deltas = times[~due].tolist(), deltas[~due].tolist()
        times, deltas = times[due], deltas[due]
        if not len(times):
            return
        order = np.argsort(times, kind="stable")
        times, deltas = times[order], deltas[order]
        # value and integral exactly as Level.add builds them, change by change
        values = np.cumsum(np.concatenate(([self.value], deltas)))
        steps = values[:-1] * np.diff(times, prepend=self.last_t)
        self.area = float(np.cumsum(np.concatenate(([self.area], steps)))[-1])
        self.value = float(values[-1])
        self.last_t = float(times[-1])
        self.peak = max(self.peak, float(values[1:].max()))
