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
the core flow before any delay (:mod:`sim.flows`). Downstream services are
filled by their own ``initial_occupancy``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.components import Component
from sim.patient import PatientFactory, per_stratum

if TYPE_CHECKING:
    from sim.model import CareSystemModel


class InitialState(Component):
    """Patients already in beds (and already delayed) at time 0."""

    name = "initial_state"

    def __init__(self, model: CareSystemModel) -> None:
        super().__init__(model)
        self.cfg = model.cfg.initial_state

    def occupied(self) -> int:
        """Patients in acute beds at time 0."""
        n = self.cfg.acute_occupied
        if n == "steady_state":
            busy = self.model.flows().services["acute_beds"].busy
            return min(self.model.cfg.beds.acute, round(busy))
        return int(n)

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        if self.occupied() == 0:
            return ()
        return (self.populate(),)

    def _bed_use_weights(self) -> np.ndarray:
        """Each stratum's share of bed use: attenders admitted x mean stay."""
        m, cfg, strata = self.model, self.model.cfg, self.model.strata
        admit = per_stratum(
            strata,
            cfg.ae.admit_probability.as_tuple(),
            care_home=cfg.ae.care_home_admit_probability,
        )
        attend = 1.0 - (np.asarray(m.community.share) if m.community.enabled else 0.0)
        w = m.demand.stratum_rate_per_year * attend * admit * m.acute.mean_los_hours()
        return w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))

    def populate(self) -> Generator[Any, Any, None]:
        model = self.model
        rng = model.streams.get("initial_state")
        factory = PatientFactory(
            model.strata, model.streams, model.factory.draws, prefix="initial/"
        )
        n, n_delayed = self.occupied(), self.cfg.delayed
        weights = self._bed_use_weights()
        discharge = model.discharge
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
        draws = factory.draw_block(strata)
        residual_h = self._residual_stays(strata, rng)
        u_path = rng.random(n)
        for i, s in enumerate(strata.tolist()):
            pid = model.next_id()
            p = factory.make(pid, pid, s, 0.0, draws, i)
            model.enter(p)
            model.acute.occupy(p)
            if i < n_delayed:
                c0 = discharge.cum_pathway[s][0]
                p.u_pathway = c0 + u_path[i] * (1 - c0)  # a pathway other than P0
                # already declared fit: straight to the discharge flow
                self.env.process(discharge.leave_hospital(p, reviewed=True))
            else:
                p.los_h = residual_h[i]
                self.env.process(model.inpatient(p))
        yield self.env.timeout(0)

    def _residual_stays(self, strata: np.ndarray, rng: np.random.Generator) -> list[float]:
        """Remaining stays (hours) of patients found in bed in a steady state.

        A patient found in bed is on a stay picked in proportion to its length
        (length bias); a uniform share of it remains. Each patient's stay is
        drawn from 32 candidates of their stratum's distribution weighted by length.
        """
        from sim.core.distributions import sampler

        acute = self.model.cfg.acute
        unit = sampler(acute.los_shape).from_uniform(rng.random((len(strata), 32)))
        cum = np.cumsum(unit, axis=1)
        pick = (cum < rng.random((len(strata), 1)) * cum[:, -1:]).sum(axis=1)
        chosen = unit[np.arange(len(strata)), np.minimum(pick, unit.shape[1] - 1)]
        mean_h = self.model.acute.mean_los_hours()[strata]
        return (chosen * rng.random(len(strata)) * mean_h).tolist()
