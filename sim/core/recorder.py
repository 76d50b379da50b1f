"""The recorder: counts, levels, samples and the daily census of a replication.

Components report to one recorder rather than keeping their own statistics:

* **counts** - events by simulation day and neighbourhood (attendances,
  admissions, ...); a KPI sums the days after warm-up;
* **levels** - numbers in a state over time (beds occupied, patients delayed by
  attribution), integrated to give bed days and delayed days;
* **samples** - one value per patient at an event (time in A&E at departure,
  length of stay at discharge), kept with the event time so the warm-up can be cut;
* **exits** - how each patient left the system, for the conservation check;
* an optional patient-level **event log**.

A monitor process reads every level at each midnight: the census values give the
daily time series, the integrals give daily means, and the readings at the end of
warm-up and at the end of the run give the measured totals.
"""

from __future__ import annotations

from collections.abc import Generator
from operator import itemgetter
from typing import Any, Final

import numpy as np
import simpy

from sim.core.event_queue import Environment
from sim.core.level import DeferredLevel, Level

HOURS_PER_DAY: Final = 24.0


class DailyCount:
    """Events by simulation day and neighbourhood, kept in a flat list for speed."""

    __slots__ = ("cells", "days", "n")

    def __init__(self, days: int, n_neighbourhoods: int) -> None:
        self.days = days
        self.n = n_neighbourhoods
        self.cells: list[int] = [0] * (days * n_neighbourhoods)

    def add(self, t: float, neighbourhood: int, k: int = 1) -> None:
        day = int(t // HOURS_PER_DAY)
        if day < self.days:
            cells = self.cells
            i = day * self.n + neighbourhood
            cells[i] = cells[i] + k  # (compiled: an integer sum, where += is generic)

    def array(self) -> np.ndarray:
        """Counts as an array of shape (days, neighbourhoods)."""
        return np.asarray(self.cells, dtype=np.int64).reshape(self.days, self.n)


class Recorder:
    """Collects everything a replication measures."""

    def __init__(
        self,
        env: Environment,
        days: int,
        warmup_days: int,
        n_neighbourhoods: int,
        event_log: bool = False,
    ) -> None:
        self.env = env
        self.days = days
        self.warmup_days = warmup_days
        self.n_neighbourhoods = n_neighbourhoods
        self.counters: dict[str, DailyCount] = {}
        self.levels: dict[str, Level] = {}
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self.exits: dict[str, int] = {}  # patients out of the system, by route
        self.created = 0
        self.events: list[tuple[float, int, int, str, str]] | None = [] if event_log else None
        # daily census, filled by the monitor: rows = midnights 0..days
        self.census_value: list[list[float]] = []
        self.census_area: list[list[float]] = []
        self.census_peak: list[list[float]] = []
        self._level_names: list[str] = []
        self._deferred: list[DeferredLevel] = []

    # ------------------------------------------------------------------ registration
    def level(self, name: str, initial: float = 0.0) -> Level:
        """Register (or fetch) a level; must be done before the run starts."""
        lv = self.levels.get(name)
        if lv is None:
            lv = self.levels[name] = Level(initial, self.env.now)
            self._level_names.append(name)
        return lv

    def deferred_level(self, name: str) -> DeferredLevel:
        """Register a level that also takes changes booked for later times."""
        if name in self.levels:
            raise ValueError(f"level {name!r} is already registered")
        lv = DeferredLevel(0.0, self.env.now)
        self.levels[name] = lv
        self._level_names.append(name)
        self._deferred.append(lv)
        return lv

    def counter(self, name: str) -> DailyCount:
        """Register (or fetch) a daily count by neighbourhood."""
        c = self.counters.get(name)
        if c is None:
            c = self.counters[name] = DailyCount(self.days, self.n_neighbourhoods)
        return c

    def sample_list(self, name: str) -> list[tuple[float, float]]:
        lst = self.samples.get(name)
        if lst is None:
            lst = self.samples[name] = []
        return lst

    # ------------------------------------------------------------------ recording
    def log(self, t: float, pid: int, person: int, event: str, detail: str = "") -> None:
        if self.events is not None:
            self.events.append((t, pid, person, event, detail))

    def exit(self, route: str) -> None:
        # a plain dict: compiled code indexes it directly (a Counter goes through
        # Python's generic item protocol)
        exits = self.exits
        exits[route] = exits.get(route, 0) + 1

    # ------------------------------------------------------------------ census
    @property
    def level_names(self) -> list[str]:
        return list(self._level_names)

    def snapshot(self, t: float) -> None:
        """Read every level at time ``t`` (a midnight) and start a new daily peak."""
        for deferred in self._deferred:
            deferred.settle(t)
        levels = [self.levels[n] for n in self._level_names]
        self.census_value.append([lv.value for lv in levels])
        self.census_area.append([lv.area_at(t) for lv in levels])
        self.census_peak.append([lv.peak for lv in levels])
        for lv in levels:
            lv.reset_peak()

    def monitor(self) -> Generator[simpy.Event, Any, None]:
        """SimPy process: snapshot at every midnight from day 0 to the last day."""
        for day in range(self.days):
            self.snapshot(day * HOURS_PER_DAY)
            yield self.env.timeout(HOURS_PER_DAY)

    def finish(self) -> None:
        """Take the closing snapshot at the end of the horizon.

        Samples and log entries booked for a later time (see
        :class:`~sim.core.level.DeferredLevel`) were appended early; a stable sort
        by time puts every list in the order the events happened.
        """
        self.snapshot(self.days * HOURS_PER_DAY)
        by_time = itemgetter(0)
        for samples in self.samples.values():
            samples.sort(key=by_time)
        if self.events is not None:
            self.events.sort(key=by_time)

    # ------------------------------------------------------------------ views
    def count_arrays(self) -> dict[str, np.ndarray]:
        """Every daily count as an array (days x neighbourhoods)."""
        return {name: c.array() for name, c in self.counters.items()}

    def census(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrays (midnights x levels): census value, integral so far, peak of the day before."""
        return (
            np.asarray(self.census_value, dtype=float),
            np.asarray(self.census_area, dtype=float),
            np.asarray(self.census_peak, dtype=float),
        )
