"""Time-weighted counters: how many are in a state, integrated over time.

Bed occupancy, patients boarding in A&E and patients delayed by attribution are
all *levels*: numbers that step up and down at event times. Their integrals give
bed days, boarding hours and delayed days; their maxima give peaks. A level is
cheap to update (a few float operations) and can be snapshotted at the end of a
warm-up period and at each midnight.
"""

from __future__ import annotations


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
