"""Seven-day working: weekend discharge, assessment and downstream admission.

Better Care Fund conditions asked for seven-day services to support discharge.
This component raises the weekend capacity, as a share of weekday capacity, of
three services separately (to at least its shares: a service that already
works more at weekends keeps its own share):

* acute discharge - the share of patients who can leave the ward at weekends;
* social-work assessment - the share of assessors working at weekends (hospital
  wide, from the first go-live);
* downstream admission - the share of transfers reablement, intermediate care
  and care homes accept at weekends.

The per-patient shares follow the roll-out by the patient's neighbourhood.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sim.components import Component
from sim.discharge.team import DischargeTeam
from sim.interventions.base import Intervention
from sim.patient import Patient

if TYPE_CHECKING:
    from sim.components import Site
    from sim.config.schema import SevenDayConfig
    from sim.hooks import Hooks


class SevenDayWorking(Intervention):
    """Weekend working of discharge, assessment and downstream services."""

    name = "seven_day"
    order = 50
    uses = ("discharge",)  # its assessment team works weekends from go-live
    discharge: DischargeTeam

    def __init__(self, site: Site, cfg: SevenDayConfig) -> None:
        super().__init__(site, cfg)
        self.shares = {
            "acute_discharge": self.cfg.acute_discharge_weekend_share,
            "downstream": self.cfg.downstream_weekend_share,
        }

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.discharge = self.link("discharge", DischargeTeam)

    def install(self, hooks: Hooks) -> None:
        hooks.weekend_share.append(self.share)

    def share(self, kind: str, p: Patient) -> float | None:
        if self.schedule.live(p.neighbourhood, self.env.now):
            return self.shares.get(kind)
        return None

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        return (self.go_live(),)

    def go_live(self) -> Generator[Any, Any, None]:
        """Weekend assessors start at the first go-live."""
        first = self.schedule.first_go_live()
        if first == float("inf"):
            return
        yield self.env.timeout(first)
        self.discharge.assessment.raise_weekend_share(self.cfg.assessment_weekend_share)
