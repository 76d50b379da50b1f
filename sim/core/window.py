"""Readings of the recorder over a replication's measured period.

A component computes its KPIs from a :class:`KpiWindow`: counts, time-integrals,
peaks and samples between the end of warm-up (``run.warmup_days``) and the end of
the run. It belongs with the recorder in the model layer, so components can use it
without importing the records layer above them.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Iterable
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.core.recorder import Recorder
    from sim.model import CareSystemModel


def window_samples(samples: list[tuple[float, float]], start_h: float) -> np.ndarray:
    """Values of the ``(time, value)`` samples from ``start_h`` on; ``samples`` must be
    in time order, as the recorder's ``finish`` leaves them."""
    first = bisect_left(samples, (start_h,))  # (t, v) >= (start_h,) exactly when t >= start_h
    n = len(samples) - first
    # one column through fromiter: ~5x quicker than np.asarray on a list of tuples
    return np.fromiter(map(itemgetter(1), islice(samples, first, None)), dtype=float, count=n)


def mean_or_nan(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("nan")


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no {kind} {name!r} was registered by any component{hint}"


class KpiWindow:
    """Readings of the recorder over the measured period, for KPI calculations."""

    def __init__(self, rec: Recorder, warmup_days: int, total_days: int) -> None:
        self.W, self.T = warmup_days, total_days
        self.days = self.T - self.W
        self.years = self.days / 365.0
        self.start_h = self.W * 24.0
        self._census_value, self._area, self._peak = rec.census()
        self._col = {n: i for i, n in enumerate(rec.level_names)}
        self._counts = rec.count_arrays()
        self.rec = rec

    @staticmethod
    def of(model: CareSystemModel) -> KpiWindow:
        """The window of a model's run: its measured period, after warm-up."""
        run = model.cfg.run
        return KpiWindow(model.recorder, run.warmup_days, run.total_days)

    def count(self, name: str) -> float:
        """Events counted after warm-up by the counter ``name``.

        A name no component registered is an error, not a zero: a misspelt
        counter would otherwise read as a plausible "nothing happened".
        """
        arr = self._counts.get(name)
        if arr is None:
            raise KeyError(_unknown("counter", name, self._counts))
        return float(arr[self.W :].sum())

    def integral_days(self, level: str) -> float:
        """Integral of a level over the period, in days (e.g. bed days)."""
        i = self._column(level)
        return float(self._area[self.T, i] - self._area[self.W, i]) / 24.0

    def _column(self, level: str) -> int:
        i = self._col.get(level)
        if i is None:
            raise KeyError(_unknown("level", level, self._col))
        return i

    def mean(self, level: str) -> float:
        """Time-average of a level over the period."""
        return self.integral_days(level) / self.days if self.days else float("nan")

    def peak(self, level: str) -> float:
        if self.T <= self.W:
            return float("nan")
        return float(self._peak[self.W + 1 : self.T + 1, self._column(level)].max())

    def trend_per_day(self, level: str) -> float:
        """Least-squares slope of the midnight census over the period (per day)."""
        values = self._census_value[self.W : self.T + 1, self._column(level)]
        if values.size < 3:
            return 0.0
        return float(np.polyfit(np.arange(values.size), values, 1)[0])

    def utilisation(self, busy: str, capacity: str) -> float:
        """Busy time / staffed (or available) time over the period."""
        cap = self.integral_days(capacity)
        return self.integral_days(busy) / cap if cap > 0 else float("nan")

    def samples(self, name: str) -> np.ndarray:
        """Values of the samples ``name`` taken in the measured period.

        Read after the run: the recorder's ``finish`` puts samples in time order
        (during a run, A&E appends some ahead of their time), and this relies on it.
        """
        if name not in self.rec.samples:
            raise KeyError(_unknown("sample list", name, self.rec.samples))
        return window_samples(self.rec.samples[name], self.start_h)
