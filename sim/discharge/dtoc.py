"""Delayed transfers of care: who is waiting, for what, and who is responsible.

NHS England counted a delay from the day a patient was ready for transfer
(clinically fit, and an MDT decision that transfer is safe) until they left the
acute bed, and attributed each delayed day to the NHS, to social care, or to both,
with a reason. The defaults follow NHS England's reason codes, for example:

* awaiting a home-care package in the patient's own home - **social care**;
* awaiting a residential or nursing home placement - **social care**;
* awaiting further non-acute NHS care (intermediate care, rehabilitation) - **NHS**;
* awaiting completion of an assessment - whoever is responsible for the service
  the patient is being assessed for;
* jointly funded packages (e.g. continuing health care with social care) - **both**.

The tracker keeps one level per attribution and per reason, so delayed *days* are
integrals over time and the daily census gives patients delayed at midnight.
"""

from __future__ import annotations

from typing import Final

from sim.config.schema import ATTRIBUTIONS
from sim.core.level import Level
from sim.outputs.recorder import Recorder
from sim.patient import Patient

AWAITING_ASSESSMENT: Final = "awaiting completion of assessment"


def reason_key(reason: str) -> str:
    """Column-friendly key of a reason (``awaiting care package`` -> ``awaiting_care_package``)."""
    return "_".join(reason.lower().replace("-", " ").split())


class DelayTracker:
    """Tracks every delayed patient by attribution and reason."""

    def __init__(self, rec: Recorder, reasons: list[str]) -> None:
        self.rec = rec
        self.total = rec.level("delayed")
        self.by_attr: dict[str, Level] = {a: rec.level(f"delayed_{a}") for a in ATTRIBUTIONS}
        self.by_reason: dict[str, Level] = {}
        for r in reasons:
            self.by_reason.setdefault(r, rec.level(f"delayed_reason:{reason_key(r)}"))
        self._current: dict[int, tuple[str, str, float]] = {}
        self.n_delayed = rec.counter("delayed_patients")
        self.n_delayed_by_attr = {a: rec.counter(f"delayed_patients_{a}") for a in ATTRIBUTIONS}

    def start(self, p: Patient, reason: str, attribution: str, t: float) -> None:
        """Patient ``p`` becomes delayed (if not already delayed)."""
        if p.id in self._current:
            self.change(p, reason, attribution, t)
            return
        self._current[p.id] = (reason, attribution, t)
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
        old_reason, old_attr, since = self._current[p.id]
        if (old_reason, old_attr) == (reason, attribution):
            return
        self._current[p.id] = (reason, attribution, since)
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
        reason, attribution, since = state
        self.total.add(-1, t)
        self.by_attr[attribution].add(-1, t)
        self.by_reason[reason].add(-1, t)
        p.delay_hours += t - since
        self.rec.log(t, p.id, p.person, "delay_end")

    def is_delayed(self, p: Patient) -> bool:
        return p.id in self._current
