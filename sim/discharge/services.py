"""Downstream services with finite places: reablement, intermediate care, care homes.

Each service has a number of places (home-care/reablement packages, intermediate
care beds, care-home beds), takes new patients only on its working days and
hours, and keeps each patient for a random stay. At the start of a run a share
of places can already be taken by people who arrived before the run (with the
residual stays of a service in steady state), because a care home does not start
empty on the first day of the financial year.

A readmission to hospital ends a stay in a short-term service (reablement,
intermediate care): the place goes to the next patient. A long-stay service
(``keeps_place_when_admitted``: care homes) keeps the resident's place, occupied
and paid for, while they are in hospital; the readmitted episode goes back to it
on pathway 0 (:mod:`sim.readmission`), and the residence runs on to the end of
its stay, unless the resident dies in hospital (:meth:`DownstreamService.give_up`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
from simpy.events import Event

from sim.config.schema import DownstreamServiceConfig
from sim.core.calendar import ServiceHours
from sim.core.calls import Call
from sim.core.distributions import sampler
from sim.core.event_queue import Environment
from sim.core.level import Level
from sim.core.recorder import Recorder
from sim.core.resources import ServerPool
from sim.patient import Draw, Patient


class DownstreamService:
    """A post-acute service: a pool of places with an admissions calendar."""

    def __init__(
        self,
        env: Environment,
        name: str,
        pathway: int,
        cfg: DownstreamServiceConfig,
        admits: ServiceHours,
        rec: Recorder,
    ) -> None:
        self.env = env
        self.name = name
        self.pathway = pathway
        self.cfg = cfg
        self.capacity = cfg.capacity
        self.places = ServerPool(env, cfg.capacity)
        self.admits = admits
        self.mean_stay_hours = cfg.stay_days.mean * 24.0
        self.unit = sampler(cfg.stay_days)
        self.arrange_unit = sampler(cfg.arrange_days)
        self.mean_arrange_hours = cfg.arrange_days.mean * 24.0
        #: each patient's uniform for a stay here, drawn for every patient (CRN)
        #: and converted to hours only for those who come
        self.u_stay = Draw(f"u_stay_{name}", f"discharge.stay.{name}")
        #: NHS England reason while waiting for a place here; ``nursing_share`` of
        #: patients wait for a nursing home instead (care homes)
        self.reason: str = cfg.delay_reason
        self.nursing_share = cfg.nursing_share
        self.attribution = cfg.attribution
        self.occupied: Level = rec.level(f"service:{name}")
        self.patients: Level = rec.level(f"service_patients:{name}")
        #: patients here weighted by the share of their care the NHS funds
        #: (continuing healthcare), to charge those days to the NHS
        self.nhs_funded: Level = rec.level(f"service_nhs_funded:{name}")
        #: called with the patient when a stay ends (set by the discharge team)
        self.on_leave: Callable[[Patient, DownstreamService], None] = _nowhere
        # the callback ending a stay, bound once
        self._after_stay: Callable[[Call], None] = self._end_stay
        #: stays that last at least until an event (an assessment in the place)
        self._until: dict[int, Event] = {}
        #: a readmission keeps the resident's place (long-stay services)
        self.keeps_place = cfg.keeps_place_when_admitted
        #: the episode holding each resident's place, by person (if keeps_place)
        self._residents: dict[int, Patient] = {}

    def start_stay(self, p: Patient, back_in: float | None, until: Event | None = None) -> None:
        """Start ``p``'s stay, in the place ``p`` holds (already counted in
        :attr:`occupied` from when it was reserved); it ends without a process,
        after the stay or at a readmission ``back_in`` hours from now if sooner
        (unless the service keeps places through readmissions: then the stay
        runs its length, see :meth:`holds_place_for`).
        With ``until`` (an assessment in the place, discharge to assess) the stay
        lasts at least until that event has happened."""
        self.patients.add(1, self.env.now)
        if p.nhs_funded > 0.0:
            self.nhs_funded.add(p.nhs_funded, self.env.now)
        stay = self.stay_hours(p)
        if back_in is not None and back_in < stay and not self.keeps_place:
            stay = back_in  # readmitted from the service: the place is freed
        elif until is not None:
            self._until[p.id] = until
        if self.keeps_place:
            before = self._residents.get(p.person)
            if before is not None:  # already a resident here: the old place goes
                self._leave(before)
            self._residents[p.person] = p
        Call(self.env, self.env.now + stay, self._after_stay, p)

    def holds_place_for(self, person: int) -> bool:
        """Whether the service holds a place for ``person`` now: a resident of a
        service that keeps places through readmissions, at home or in hospital."""
        return person in self._residents

    def give_up(self, person: int) -> None:
        """``person`` will not come back (died in hospital): their residence ends
        now and the place is freed. Nothing happens if none is held for them."""
        p = self._residents.get(person)
        if p is not None:
            self._leave(p)

    def _end_stay(self, call: Call) -> None:
        p: Patient = call.p  # typed, so compiled code reads its fields directly
        if self._until:
            until = self._until.pop(p.id, None)
            if until is not None and not until.processed:  # not happened yet
                until.callbacks.append(lambda _ev: self._leave(p))
                return
        self._leave(p)

    def _leave(self, p: Patient) -> None:
        if self.keeps_place:
            if self._residents.get(p.person) is not p:
                return  # the residence has already ended (given up, or moved)
            del self._residents[p.person]
        now = self.env.now
        self.places.release()
        self.occupied.add(-1, now)
        self.patients.add(-1, now)
        if p.nhs_funded > 0.0:
            self.nhs_funded.add(-p.nhs_funded, now)
        self.on_leave(p, self)

    def stay_hours(self, p: Patient) -> float:
        """Length of ``p``'s stay here in hours."""
        return self.unit.one(self.u_stay.of(p)) * self.mean_stay_hours

    def arrange_hours(self, u: float) -> float:
        """Time from finding a place to the patient being able to move, in hours."""
        if self.mean_arrange_hours == 0:
            return 0.0
        return self.arrange_unit.one(u) * self.mean_arrange_hours

    def reason_for(self, u_nursing: float) -> str:
        """The delay reason of a patient waiting for a place here."""
        return "nursing_home" if u_nursing < self.nursing_share else self.reason

    def initial_places(self, steady_state_busy: float) -> int:
        """Places taken at time 0: a share of capacity, or the steady state's
        expected busy places (at most all of them)."""
        occ = self.cfg.initial_occupancy
        if occ == "steady_state":
            return min(self.capacity, round(steady_state_busy))
        return round(float(occ) * self.capacity)

    def initial_occupants(
        self, rng: np.random.Generator, n: int
    ) -> Generator[Any, Any, None] | None:
        """Process holding ``n`` places taken at time 0, each for a residual stay."""
        if n == 0:
            return None
        # residual life of a renewal process in steady state: length-biased
        # stays, a uniform share of each left
        # a pair of uniforms per occupant, so occupant i keeps its stay if n changes
        u = rng.random((n, 2))
        residual = np.sort(self.unit.residual(u[:, 0], u[:, 1]) * self.mean_stay_hours)
        return self._hold(residual.tolist())

    def _hold(self, residuals: list[float]) -> Generator[Any, Any, None]:
        env = self.env
        for _ in residuals:
            yield self.places.acquire()
            self.occupied.add(1, env.now)
        for end in residuals:
            if end > env.now:
                yield env.timeout(end - env.now)
            self.places.release()
            self.occupied.add(-1, env.now)


def _nowhere(p: Patient, svc: DownstreamService) -> None:
    raise RuntimeError(f"{svc.name!r} is not connected to a discharge team")
