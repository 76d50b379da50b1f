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

from collections.abc import Generator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sim.interventions.base import Intervention
from sim.patient import Draw, DrawPart, Patient

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import CareHomesConfig
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks


class CareHomeSupport(Intervention):
    """Care-home programme acting on residents' conveyance and admission."""

    name = "care_homes"
    order = 20
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "care_home_conveyances_avoided": (
            "count",
            "Residents' crises kept in the home by the programme.",
        ),
        "care_home_admissions_avoided": (
            "count",
            "Residents' admissions avoided after attending A&E.",
        ),
        "care_home_coverage": (
            "share",
            "Share of residents in served neighbourhoods the team covers.",
        ),
    }

    def __init__(self, site: Site, cfg: CareHomesConfig) -> None:
        super().__init__(site, cfg)
        self.n_care_home_admissions_avoided = self.rec.counter("care_home_admissions_avoided")
        self.n_care_home_conveyances_avoided = self.rec.counter("care_home_conveyances_avoided")
        strata = site.strata
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
        # one draw read in two parts: is the resident covered? kept at home?
        self.u_care_home = Draw("u_care_home_cover", "care_homes.cover")
        self.u_cover = DrawPart(self.u_care_home, 0, 6)
        self.u_keep = DrawPart(self.u_care_home, 1, 6)
        self.u_admit = Draw("u_care_home_admit", "care_homes.admission")

    def draws(self) -> list[Draw]:
        return [self.u_care_home, self.u_admit]

    def install(self, hooks: Hooks) -> None:
        hooks.kept_home.append(self.conveyance)
        hooks.before_admission.append(self.admission)

    def covered(self, p: Patient) -> bool:
        return (
            p.care_home
            and self.schedule.live(p.neighbourhood, self.env.now)
            and self.u_cover.of(p) < self.coverage
        )

    def conveyance(self, p: Patient) -> bool:
        """A covered resident's crisis the community's base rule sends on: the
        programme keeps a share ``1 - conveyance_rate_ratio`` of them at home, so
        conveyances fall by the ratio whatever decides the base rule (a constant
        share or same-day slots)."""
        if not self.covered(p) or self.u_keep.of(p) >= 1.0 - self.cfg.conveyance_rate_ratio:
            return False
        self.n_care_home_conveyances_avoided.add(p.arrival, p.neighbourhood)
        return True

    def admission(self, p: Patient) -> Generator[Any, Any, bool]:
        if self.covered(p) and self.u_admit.of(p) >= self.admit_given_attend:
            self.n_care_home_admissions_avoided.add(self.env.now, p.neighbourhood)
            self.site.flow.exit(p, "care_home_admission_avoided")
            return True
        return False
        yield  # a generator: the hook protocol runs it with `yield from`

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        return {
            "care_home_conveyances_avoided": window.count("care_home_conveyances_avoided"),
            "care_home_admissions_avoided": window.count("care_home_admissions_avoided"),
            "care_home_coverage": self.coverage,
        }
