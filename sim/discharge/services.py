"""Downstream services with finite places: reablement, intermediate care, care homes.

Each service has a number of places (home-care/reablement packages, intermediate
care beds, care-home beds), takes new patients only on its working days and
hours, and keeps each patient for a random stay. At the start of a run a share
of places can already be taken by people who arrived before the run (with the
residual stays of a service in steady state), because a care home does not start
empty on the first day of the financial year.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np

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
        #: called with the patient when a stay ends (set by the discharge team)
        self.on_leave: Callable[[Patient, DownstreamService], None] = _nowhere
        # the callback ending a stay, bound once
        self._after_stay: Callable[[Call], None] = self._end_stay

    def start_stay(self, p: Patient, back_in: float | None) -> None:
        """Start ``p``'s stay, in the place ``p`` holds (already counted in
        :attr:`occupied` from when it was reserved); it ends without a process,
        after the stay or at a readmission ``back_in`` hours from now if sooner."""
        self.patients.add(1, self.env.now)
        stay = self.stay_hours(p)
        if back_in is not None and back_in < stay:
            stay = back_in  # readmitted from the service: the place is freed
        Call(self.env, self.env.now + stay, self._after_stay, p)

    def _end_stay(self, call: Call) -> None:
        p: Patient = call.p  # typed, so compiled code reads its fields directly
        now = self.env.now
        self.places.release()
        self.occupied.add(-1, now)
        self.patients.add(-1, now)
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
