"""Enhanced health in care homes: fewer A&E conveyances and admissions.

A care-home support team (training in pressure care and dementia, GP and nurse
in-reach; Barnet's Integrated Quality in Care Homes team in the seeds) lets more
crises be managed in the home, so fewer residents are conveyed to A&E
(``conveyance_rate_ratio``), and fewer of those who attend are admitted, so that
admissions fall by ``admission_rate_ratio`` overall. The team covers at most
``residents_covered`` residents; if there are more in the neighbourhoods it
serves, a share of them (at random, per crisis) gets the programme.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from sim.interventions.base import Intervention
from sim.patient import Draw, Patient

if TYPE_CHECKING:
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks
    from sim.model import CareSystemModel


class CareHomeSupport(Intervention):
    """Care-home programme acting on residents' conveyance and admission."""

    name = "care_homes"

    def __init__(self, model: CareSystemModel) -> None:
        super().__init__(model)
        cfg = self.cfg
        strata = model.strata
        served = [self.schedule.ever_live(int(nb)) for nb in strata.neighbourhood]
        residents = float(
            sum(
                sz
                for sz, ch, sv in zip(strata.size, strata.care_home, served, strict=True)
                if ch and sv
            )
        )
        self.residents = residents
        self.coverage = min(1.0, cfg.residents_covered / residents) if residents > 0 else 0.0
        # share of attenders admitted, relative to before: admissions fall by the
        # admission ratio overall, of which the conveyance ratio is already fewer
        # attendances
        self.admit_given_attend = cfg.admission_rate_ratio / cfg.conveyance_rate_ratio
        self.u_cover = Draw("u_care_home_cover", "care_homes.cover")
        self.u_admit = Draw("u_care_home_admit", "care_homes.admission")

    def draws(self) -> list[Draw]:
        return [self.u_cover, self.u_admit]

    def install(self, hooks: Hooks) -> None:
        hooks.community.append(self.conveyance)
        hooks.before_admission.append(self.admission)

    def covered(self, p: Patient) -> bool:
        return (
            p.care_home
            and self.schedule.live(p.neighbourhood, self.env.now)
            and self.u_cover.of(p) < self.coverage
        )

    def conveyance(self, p: Patient) -> bool | None:
        if not self.covered(p):
            return None
        community = self.model.community
        base = community.base_share(p)
        kept_home = 1.0 - (1.0 - base) * self.cfg.conveyance_rate_ratio
        # crises the base rule sends to A&E, of which the programme keeps some home
        if not community.managed_below(p, base) and community.managed_below(p, kept_home):
            self.rec.count("care_home_conveyances_avoided", p.arrival, p.neighbourhood)
            return True
        return None

    def admission(self, p: Patient) -> Generator[Any, Any, bool]:
        if self.covered(p) and self.u_admit.of(p) >= self.admit_given_attend:
            self.rec.count("care_home_admissions_avoided", self.env.now, p.neighbourhood)
            self.model.exit(p, "care_home_admission_avoided")
            return True
        return False
        yield  # a generator: the hook protocol runs it with `yield from`

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        return {
            "care_home_conveyances_avoided": window.count("care_home_conveyances_avoided"),
            "care_home_admissions_avoided": window.count("care_home_admissions_avoided"),
            "care_home_coverage": self.coverage,
        }
