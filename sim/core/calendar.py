"""Simulation clock conventions and service working calendars.

Simulation time is measured in hours from midnight at the start of the run's
first day (``run.start_date``). A :class:`WorkingCalendar` answers the question a
discharge team or a care provider asks all day long: *are we open now, and if
not, when do we next open?* It precomputes, for each of the 168 hours of a week,
how long it is until the next open hour, so the answer costs O(1).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Final

import numpy as np

from sim.config.schema import WEEKDAYS, Calendar

HOURS_PER_DAY: Final = 24.0
HOURS_PER_WEEK: Final = 168


class Clock:
    """Maps simulation hours to calendar facts (weekday, month, hour of day)."""

    def __init__(self, start: _dt.date) -> None:
        self.start = start
        self.start_weekday = start.weekday()  # Monday = 0

    def weekday(self, day: int) -> int:
        """Weekday (Mon=0) of simulation day ``day``."""
        return (self.start_weekday + day) % 7

    def month(self, day: int) -> int:
        """Month (Jan=0) of simulation day ``day``."""
        return (self.start + _dt.timedelta(days=day)).month - 1

    def hour_of_week(self, t: float) -> int:
        """Hour of the week (Mon 00:00 = 0) at simulation time ``t``."""
        return (self.start_weekday * 24 + int(t)) % HOURS_PER_WEEK

    def date(self, day: int) -> _dt.date:
        return self.start + _dt.timedelta(days=day)


class WorkingCalendar:
    """Opening hours of a service over a week.

    Args:
        clock: The run's clock.
        mask: 168 booleans, one per hour of the week from Monday 00:00.
    """

    def __init__(self, clock: Clock, mask: np.ndarray) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (HOURS_PER_WEEK,):
            raise ValueError("calendar mask must have 168 hours")
        self.clock = clock
        self.mask = mask
        self.always_open = bool(mask.all())
        self.never_open = not mask.any()
        # hours from the start of each hour-of-week to the next open hour: one
        # backward sweep over two weeks handles the wrap-around
        wait = [math.inf] * HOURS_PER_WEEK
        if not self.never_open:
            nxt = math.inf
            for k in range(2 * HOURS_PER_WEEK - 1, -1, -1):
                h = k % HOURS_PER_WEEK
                nxt = 0 if mask[h] else nxt + 1
                if k < HOURS_PER_WEEK:
                    wait[h] = nxt
        self._wait = wait

    @classmethod
    def from_config(cls, clock: Clock, cal: Calendar) -> WorkingCalendar:
        """The days a service works at full capacity."""
        return cls(clock, _mask(cal.days, cal.start_hour, cal.end_hour))

    def __and__(self, other: WorkingCalendar) -> WorkingCalendar:
        return WorkingCalendar(self.clock, self.mask & other.mask)

    def wait_until_open(self, t: float) -> float:
        """Hours from ``t`` until the service is next open (0 if open now; inf if never)."""
        if self.always_open:
            return 0.0
        k = self._wait[self.clock.hour_of_week(t)]
        if k == 0:
            return 0.0
        return k - (t - math.floor(t))

    def open_hours_per_week(self) -> int:
        return int(self.mask.sum())


def _mask(days: tuple[str, ...], start: int, end: int) -> np.ndarray:
    mask = np.zeros(HOURS_PER_WEEK, dtype=bool)
    for day in days:
        d = WEEKDAYS.index(day)
        mask[d * 24 + start : d * 24 + end] = True
    return mask


class ServiceHours:
    """A service's working time: full-capacity days plus weekend hours at a share.

    ``full`` is open on the listed days; ``extended`` also on Saturdays and Sundays
    not listed, at the same hours, when ``weekend_share`` > 0. A staffed service
    runs ``staff_share(t)`` of its staff; a patient passes a discharge or
    admission gate at the weekend if their own uniform number is below the share
    (:meth:`for_patient`), so on average that share of weekday capacity works.
    """

    def __init__(self, clock: Clock, cal: Calendar) -> None:
        self.full = WorkingCalendar.from_config(clock, cal)
        weekend = tuple(d for d in ("Sat", "Sun") if d not in cal.days)
        self.partial_mask = _mask(weekend, cal.start_hour, cal.end_hour)
        self.extended = WorkingCalendar(clock, self.full.mask | self.partial_mask)
        self.weekend_share = cal.weekend_share
        self.clock = clock
        # hours from the start of each hour-of-week until the staffing class
        # (full / weekend share / closed) next changes; inf if it never does
        kind = self.full.mask.astype(int) * 2 + self.partial_mask.astype(int)
        change = [math.inf] * HOURS_PER_WEEK
        for h in range(HOURS_PER_WEEK):
            for k in range(1, HOURS_PER_WEEK + 1):
                if kind[(h + k) % HOURS_PER_WEEK] != kind[h]:
                    change[h] = k
                    break
        self._change = change

    def hours_to_change(self, t: float) -> float:
        """Hours from ``t`` until staffing can next change (inf if never)."""
        k = self._change[self.clock.hour_of_week(t)]
        return k - (t - math.floor(t)) if k < math.inf else math.inf

    def on_duty(self, staff: int, t: float, weekend_share: float | None = None) -> int:
        """Staff on duty at ``t``, of ``staff`` on a working day; rounded half up
        (not Python's half-to-even): 5 staff at a 0.5 weekend share -> 3."""
        return int(staff * self.staff_share(t, weekend_share) + 0.5)

    def next_check(self, t: float) -> float:
        """Hours from ``t`` until a roster should look again: the next change of
        working hours, and at least daily (a weekend share set at a midnight,
        as seven-day working does, is then picked up in time)."""
        return min(self.hours_to_change(t), 24.0)

    def staff_share(self, t: float, weekend_share: float | None = None) -> float:
        """Share of staff on duty at ``t`` (1 on working days, the share at weekends)."""
        h = self.clock.hour_of_week(t)
        if self.full.mask[h]:
            return 1.0
        if self.partial_mask[h]:
            return self.weekend_share if weekend_share is None else weekend_share
        return 0.0

    def for_patient(self, u: float, weekend_share: float | None = None) -> WorkingCalendar:
        """The calendar that applies to a patient with uniform ``u``."""
        share = self.weekend_share if weekend_share is None else weekend_share
        return self.extended if u < share else self.full
