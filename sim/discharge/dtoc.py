"""Delayed discharges, in the two ways England has counted them.

**The view planners are judged on now (from 2020).** A patient's *discharge-ready
date* (DRD) is the day they stop meeting the criteria to reside (NHS Data
Dictionary, criteria to reside codes 01-12; recording asked of every inpatient
from April 2023, NHS England PRN00312). NHS England's daily acute discharge
SitRep counts patients who no longer meet the criteria to reside and are still
in a bed, by discharge pathway (P0-P3) and, for long stays, by one of its
grouped reasons (:data:`CURRENT_REASONS`); the monthly "Timeliness of Acute
Hospital Discharges" statistic counts, for each discharge, the whole days from
the DRD to the discharge date (0 for a same-day discharge) in bands 0, 1, 2-3,
4-6, 7-13, 14-20 and 21+, with the mean including and excluding 0-day
delays. In the model the DRD is the moment the ward round declares the
patient fit; every patient then counts until they leave the bed, whatever
they wait for, including a pathway-0 patient waiting for the ward to
discharge (the ward's own process, which the old collection left out).

**The seed documents' view (2010-2020).** A *delayed transfer of care* (DTOC)
ran from the day a patient was ready for transfer until they left the acute
bed, while they waited for another service. Each delayed day had one of the
monthly collection's reasons A to I (:data:`~sim.config.schema.DELAY_REASONS`)
and was attributed to the NHS, to social care or to both, by who was
responsible for what the patient was waiting for: further non-acute NHS care
is the NHS's; a home-care package or a care-home placement arranged by the
council is social care's; jointly funded packages are both's. A patient's
reason and attribution can change while they wait (assessment first, then a
place), and each day counts under the reason and attribution of that day.
Before April 2017 the published figure was a monthly snapshot of patients
delayed at midnight on the last Thursday; from then, delayed days.

Both views come from the same records: a patient's wait has one DTOC reason
and attribution at a time, and :data:`CURRENT_REASON_OF` names the current
SitRep group of each DTOC reason. The tracker keeps levels per attribution,
per DTOC reason, per current reason and per pathway, so delayed days are
integrals over time and the daily census gives the patients delayed at each
midnight; and one sample per discharge (its whole days from the DRD) per
pathway. Patients are counted once in all, and once under each attribution
their delay had, on the day it first applied.
"""

from __future__ import annotations

from typing import Final

from sim.config.schema import ATTRIBUTIONS, DELAY_REASONS
from sim.core.level import Level
from sim.core.recorder import DailyCount, Recorder
from sim.patient import Patient

ASSESSMENT: Final = "completion_of_assessment"
#: a pathway-0 patient waiting for the ward to discharge them: counted past the
#: DRD, never a delayed transfer of care
DISCHARGE_PROCESS: Final = "discharge_process"
_BIT: Final = {a: 1 << i for i, a in enumerate(ATTRIBUTIONS)}

#: NHS England's acute discharge SitRep reasons for patients who no longer meet
#: the criteria to reside, as the model can tell them apart (the SitRep numbers
#: in brackets; docs/evidence.md, "Two views of delay")
CURRENT_REASONS: tuple[str, ...] = (
    "discharge_process",  # (ii, v, vi) decision, discharge summary, medicines, transport
    "transfer_of_care_hub",  # (iv, vii) referral to and action by the transfer of care hub
    "pathway_1",  # (viii) resource to assess and start care at home
    "pathway_2",  # (ix) a rehabilitation bed
    "pathway_3",  # (x) a care-home bed, likely permanent
    "funding_decision",  # community SitRep: outcome of a CHC (or council) funding decision
    "equipment_and_adaptations",  # (xi)
    "not_in_agreement",  # (xii) individual or family not in agreement with the plan
    "no_place_to_go",  # (xiii) homeless, no recourse to public funds
    "not_recorded",  # a patient past the DRD with no wait yet (takes no time)
)
#: the current SitRep group of each reason the model records (DTOC A-I, and the
#: pathway-0 wait the old collection did not count)
CURRENT_REASON_OF: Final[dict[str, str]] = {
    "completion_of_assessment": "transfer_of_care_hub",  # A
    "public_funding": "funding_decision",  # B
    "further_non_acute_nhs_care": "pathway_2",  # C
    "residential_home": "pathway_3",  # D(i)
    "nursing_home": "pathway_3",  # D(ii)
    "care_package_in_own_home": "pathway_1",  # E
    "community_equipment_and_adaptations": "equipment_and_adaptations",  # F
    "patient_or_family_choice": "not_in_agreement",  # G
    "disputes": "not_in_agreement",  # H: the nearest current group
    "housing": "no_place_to_go",  # I
    DISCHARGE_PROCESS: "discharge_process",
}
#: the DRD publication's bands of whole days from the DRD to discharge: (label, first day)
DRD_BANDS: tuple[tuple[str, int], ...] = (
    ("0", 0),
    ("1", 1),
    ("2_3", 2),
    ("4_6", 4),
    ("7_13", 7),
    ("14_20", 14),
    ("21_plus", 21),
)
PATHWAY_NAMES: tuple[str, ...] = ("p0", "p1", "p2", "p3")


class DelayTracker:
    """Tracks every patient past their discharge-ready date: pathway, current
    reason, and (for waits the old collection counted) DTOC reason and attribution."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        # the seed documents' view: delayed transfers of care
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
        # today's view: past the discharge-ready date
        self.nctr = rec.level("nctr")
        self.nctr_by_pathway: list[Level] = [rec.level(f"nctr_{pw}") for pw in PATHWAY_NAMES]
        self.nctr_by_reason: dict[str, Level] = {
            r: rec.level(f"nctr_reason:{r}") for r in CURRENT_REASONS
        }
        # patient id -> (DRD in hours, pathway, current reason)
        self._ready: dict[int, tuple[float, int, str]] = {}
        #: whole days from the DRD to discharge, one sample per discharge, by pathway
        self.drd_days: list[list[tuple[float, float]]] = [
            rec.sample_list(f"drd_delay_days_{pw}") for pw in PATHWAY_NAMES
        ]

    # ------------------------------------------------------------ DRD view
    def ready(self, p: Patient, pathway: int, t: float) -> None:
        """Patient ``p`` on ``pathway`` no longer meets the criteria to reside."""
        self._ready[p.id] = (t, pathway, "not_recorded")
        self.nctr.add(1, t)
        self.nctr_by_pathway[pathway].add(1, t)
        self.nctr_by_reason["not_recorded"].add(1, t)

    def _reason_now(self, p: Patient, current: str, t: float) -> None:
        state = self._ready.get(p.id)
        if state is None or state[2] == current:
            return
        self.nctr_by_reason[state[2]].add(-1, t)
        self.nctr_by_reason[current].add(1, t)
        self._ready[p.id] = (state[0], state[1], current)

    def discharge_wait(self, p: Patient, t: float) -> None:
        """A pathway-0 patient waits for the ward to discharge them (not a DTOC)."""
        self._reason_now(p, "discharge_process", t)

    def left_bed(self, p: Patient, t: float) -> None:
        """``p`` leaves the acute bed: the DTOC delay (if any) and the time past
        the DRD end, and the whole days from the DRD date are recorded."""
        self.stop(p, t)
        state = self._ready.pop(p.id, None)
        if state is None:  # left before the DRD (early supported discharge)
            return
        drd, pathway, current = state
        self.nctr.add(-1, t)
        self.nctr_by_pathway[pathway].add(-1, t)
        self.nctr_by_reason[current].add(-1, t)
        # calendar days: the run starts at midnight, so day k is [24k, 24k + 24)
        days = int(t // 24.0) - int(drd // 24.0)
        self.drd_days[pathway].append((t, float(days)))

    # ----------------------------------------------------------- DTOC view
    def start(self, p: Patient, reason: str, attribution: str, t: float) -> None:
        """Patient ``p`` becomes delayed (if already delayed: the reason changes)."""
        self._reason_now(p, CURRENT_REASON_OF[reason], t)
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
        """The DTOC delay ends (the patient leaves the bed, or is no longer waiting)."""
        state = self._current.pop(p.id, None)
        if state is None:
            return
        reason, attribution, _, _ = state
        self.total.add(-1, t)
        self.by_attr[attribution].add(-1, t)
        self.by_reason[reason].add(-1, t)
        self.rec.log(t, p.id, p.person, "delay_end")
