"""Start a run from a known state rather than from an empty hospital.

Planners know how many beds are occupied today and how many patients are
delayed. :class:`InitialState` puts that many patients into acute beds at time 0:

* their strata are drawn in proportion to each stratum's share of bed use
  (admissions x mean length of stay);
* the rest of each stay is the *residual* stay of a hospital in steady state:
  stays are picked in proportion to their length (long stays are more likely to
  be in progress) and a uniform share of each remains;
* the first ``delayed`` of them are already medically fit on a pathway that needs
  support (P1-P3) and go straight to the discharge flow - assessment, then a
  place - keeping their bed meanwhile.

With ``acute_occupied: steady_state`` the number is the expected occupancy of
the core flow before any delay (:mod:`sim.flows`). Patients discharged in the
readmission window before the start who will come back are scheduled too.
Downstream services are filled by their own ``initial_occupancy``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.acute import AcuteBeds
from sim.components import Component
from sim.discharge.team import DischargeTeam
from sim.patient import Draw, PatientFactory
from sim.readmission import Readmissions

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import BedsConfig, InitialStateConfig


class InitialState(Component):
    """Patients already in beds (and already delayed) at time 0."""

    name = "initial_state"
    uses = ("acute", "discharge", "readmission")
    acute: AcuteBeds
    discharge: DischargeTeam
    readmission: Readmissions

    def __init__(self, site: Site, cfg: InitialStateConfig, beds: BedsConfig) -> None:
        super().__init__(site, cfg)
        self.cfg = cfg
        self.beds = beds.acute

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.acute = self.link("acute", AcuteBeds)
        self.discharge = self.link("discharge", DischargeTeam)
        self.readmission = self.link("readmission", Readmissions)

    def occupied(self) -> int:
        """Patients in acute beds at time 0."""
        n = self.cfg.acute_occupied
        if n == "steady_state":
            busy = self.site.flow.flows().services["acute_beds"].busy
            return min(self.beds, round(busy))
        return int(n)

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        if self.occupied() == 0:
            return ()
        return (self.populate(),)

    def _bed_use_weights(self) -> np.ndarray:
        """Each stratum's share of bed use: admissions (readmissions included, or
        direct admissions) x mean stay, from the expected flows."""
        w = self.site.flow.flows().admissions_by_stratum * self.acute.mean_los_hours()
        return w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))

    def populate(self) -> Generator[Any, Any, None]:
        site, flow = self.site, self.site.flow
        rng = site.streams.get("initial_state")
        factory = PatientFactory(site.strata, site.streams, self._draws(), prefix="initial/")
        n, n_delayed = self.occupied(), self.cfg.delayed
        weights = self._bed_use_weights()
        discharge = self.discharge
        # delayed patients come from strata that can need support on discharge
        p0 = np.array([c[0] for c in discharge.cum_pathway])
        delayed_w = weights * (1 - p0)
        strata = np.concatenate(
            [
                rng.choice(len(weights), size=n_delayed, p=delayed_w / delayed_w.sum())
                if n_delayed
                else np.empty(0, dtype=int),
                rng.choice(len(weights), size=n - n_delayed, p=weights),
            ]
        ).astype(int)
        self._pending_readmissions()
        draws = factory.draw_block(strata)
        residual_h = self._residual_stays(strata, rng)
        u_path = rng.random(n)
        for i, s in enumerate(strata.tolist()):
            pid = flow.next_id()
            p = factory.make(pid, pid, s, 0.0, draws, i)
            flow.enter(p)
            self.acute.occupy(p)
            if i < n_delayed:
                c0 = discharge.cum_pathway[s][0]
                discharge.u_pathway.set(p, c0 + u_path[i] * (1 - c0))  # a pathway other than P0
                # already declared fit: straight to the discharge flow
                self.env.process(discharge.leave_hospital(p, reviewed=True))
            else:
                self.acute.los_h.set(p, residual_h[i])
                self.env.process(flow.inpatient(p))
        yield self.env.timeout(0)

    def _pending_readmissions(self) -> None:
        """Readmissions of patients discharged in the window before the start.

        Patients in beds imply patients discharged in the days before, some of
        whom come back: without them admissions start about a tenth low and
        take months, through the longest stays, to recover. In a steady state
        the returns still to come at time 0 number (readmissions a day) x (mean
        time to readmission), their times follow the survival curve of the time
        to readmission (the equilibrium residual), and their strata those of the
        patients who are readmitted.
        """
        site = self.site
        if not self.readmission.enabled:
            return
        per_day = site.flow.flows().readmitted_by_stratum
        total = float(per_day.sum())
        if total <= 0:
            return
        rng = site.streams.get("initial_state.readmissions")
        w, m = self.readmission.window_days, self.readmission.mean_days
        grid = np.linspace(0.0, w, 2001)
        # survival of an exponential truncated to the window (sim.readmission)
        surv = 1.0 - np.expm1(-grid / m) / np.expm1(-w / m)
        area = np.concatenate([[0.0], np.cumsum((surv[1:] + surv[:-1]) / 2 * np.diff(grid))])
        n = int(rng.poisson(total * area[-1]))
        days = np.sort(np.interp(rng.random(n), area / area[-1], grid))
        strata = rng.choice(len(per_day), size=n, p=per_day / total)
        factory = PatientFactory(
            site.strata, site.streams, self._draws(), prefix="initial_readmission/"
        )
        for day, s in zip(days.tolist(), strata.tolist(), strict=True):
            self.env.process(self._readmission(factory, int(s), day * 24.0))

    def _readmission(
        self, factory: PatientFactory, stratum: int, delay: float
    ) -> Generator[Any, Any, None]:
        yield self.env.timeout(delay)
        pid = self.site.flow.next_id()
        q = factory.make_one(pid, pid, stratum, self.env.now)
        q.readmission = True
        self.rec.log(self.env.now, q.id, q.person, "readmission_return", "discharged before start")
        self.readmission.arrive(q)

    def _draws(self) -> list[Draw]:
        """Every component's draws, as the model's own patient factory has them."""
        factory = self.site.factory
        assert factory is not None  # set by the model before the run
        return factory.draws

    def _residual_stays(self, strata: np.ndarray, rng: np.random.Generator) -> list[float]:
        """Remaining stays (hours) of patients found in bed in a steady state: the
        length-biased stay of their stratum's distribution, a uniform share of it
        left (:meth:`~sim.core.distributions.UnitSampler.residual`)."""
        from sim.core.distributions import sampler

        n = len(strata)
        u = rng.random((n, 2))  # a pair per patient: patient i keeps its stay if n changes
        unit = sampler(self.acute.cfg.los_shape).residual(u[:, 0], u[:, 1])
        mean_h = self.acute.mean_los_hours()[strata]
        return (unit * mean_h).tolist()
