"""Delayed transfers of care: who is waiting, for what, and who is responsible.

NHS England counted a delay from the day a patient was ready for transfer
(clinically fit, and an MDT decision that transfer is safe) until they left the
acute bed. Each delayed day had one reason - the monthly collection's codes A
to I (:data:`~sim.config.schema.DELAY_REASONS`) - and was attributed to the NHS,
to social care or to both, by who was responsible for what the patient was
waiting for: further non-acute NHS care is the NHS's; a home-care package or a
care-home placement arranged by the council is social care's; jointly funded
packages are both's. A patient's reason and attribution can change while they
wait (assessment first, then a place), and each day counts under the reason
and attribution of that day.

The tracker keeps one level per attribution and per reason, so delayed *days*
are integrals over time (the published measure from April 2017 was delayed
days, and "delayed beds": delayed days / days), and the daily census gives the
patients delayed at midnight (the measure before: a snapshot of patients
delayed on the last Thursday of the month, under their reason then). Patients
are counted once in all, and once under each attribution their delay had, on
the day it first applied: a patient waiting first for an NHS assessment and
then for a council care package counts once for the NHS and once for social
care, and once in the total.
"""

from __future__ import annotations

from typing import Final

from sim.config.schema import ATTRIBUTIONS, DELAY_REASONS
from sim.core.level import Level
from sim.core.recorder import DailyCount, Recorder
from sim.patient import Patient

ASSESSMENT: Final = "completion_of_assessment"
_BIT: Final = {a: 1 << i for i, a in enumerate(ATTRIBUTIONS)}


class DelayTracker:
    """Tracks every delayed patient by attribution and reason."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.total = rec.level("delayed")
        self.by_attr: dict[str, Level] = {a: rec.level(f"delayed_{a}") for a in ATTRIBUTIONS}
        self.by_reason: dict[str, Level] = {
            r: rec.level(f"delayed_reason:{r}") for r in DELAY_REASONS
        }
        # patient id -> (reason, attribution, delayed since, attributions so far as bits)
        self._current: dict[int, tuple[str, str, float, int]] = {}
        self.n_delayed = rec.counter("delayed_patients")
        self.n_delayed_by_attr: dict[str, DailyCount] = {
            a: rec.counter(f"delayed_patients_{a}") for a in ATTRIBUTIONS
        }

    def start(self, p: Patient, reason: str, attribution: str, t: float) -> None:
        """Patient ``p`` becomes delayed (if already delayed: the reason changes)."""
        if p.id in self._current:
            self.change(p, reason, attribution, t)
            return
        bit = _BIT[attribution]
        self._current[p.id] = (reason, attribution, t, bit)
        self.total.add(1, t)
        self.by_attr[attribution].add(1, t)
        self.by_reason[reason].add(1, t)
        if not p.ever_delayed:
            p.ever_delayed = True
            self.n_delayed.add(t, p.neighbourhood)
        self.n_delayed_by_attr[attribution].add(t, p.neighbourhood)
        self.rec.log(t, p.id, p.person, "delay_start", f"{attribution}: {reason}")

    def change(self, p: Patient, reason: str, attribution: str, t: float) -> None:
        """The reason (or attribution) of an ongoing delay changes."""
        old_reason, old_attr, since, seen = self._current[p.id]
        if old_reason == reason and old_attr == attribution:
            return
        bit = _BIT[attribution]
        if not seen & bit:
            self.n_delayed_by_attr[attribution].add(t, p.neighbourhood)
        self._current[p.id] = (reason, attribution, since, seen | bit)
        if old_attr != attribution:
            self.by_attr[old_attr].add(-1, t)
            self.by_attr[attribution].add(1, t)
        if old_reason != reason:
            self.by_reason[old_reason].add(-1, t)
            self.by_reason[reason].add(1, t)
        self.rec.log(t, p.id, p.person, "delay_reason", f"{attribution}: {reason}")

    def stop(self, p: Patient, t: float) -> None:
        """The delay ends (the patient leaves the bed, or is no longer waiting)."""
        state = self._current.pop(p.id, None)
        if state is None:
            return
        reason, attribution, _, _ = state
        self.total.add(-1, t)
        self.by_attr[attribution].add(-1, t)
        self.by_reason[reason].add(-1, t)
        self.rec.log(t, p.id, p.person, "delay_end")
