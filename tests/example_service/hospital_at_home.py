"""Hospital at home: a share of emergency admissions treated at home instead.

An example service, written the way ``docs/adding-a-service.md`` describes: one
module holding its config schema, its random draws, its hooks, its KPIs with their
documentation and its cost line; one config block. When A&E decides to admit an
eligible patient, a share of them (``share``, decided by the patient's own
uniform, so paired scenarios stay aligned) go to a virtual bed instead, if one of
the ``beds`` is free, for a fixed ``stay_days``; then they leave the system.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from sim.components import Component, CostLineSpec, Site
from sim.config.blocks import register_block
from sim.config.build import num
from sim.config.schema import CostLine, CostsConfig
from sim.core.resources import ServerPool
from sim.patient import Draw, Patient

if TYPE_CHECKING:
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks


@dataclass(frozen=True, slots=True)
class HospitalAtHomeConfig:
    """Hospital at home: virtual beds taking a share of emergency admissions."""

    enabled: bool = False
    share: float = num(0.1, ge=0, le=1, units="share of decided admissions offered it")
    beds: int = num(20, ge=0, units="virtual beds")
    stay_days: float = num(5.0, gt=0, units="days")
    cost: CostLine = field(
        default_factory=lambda: CostLine(unit_cost=180.0, holder="community_health")
    )


register_block("hospital_at_home", HospitalAtHomeConfig)


class HospitalAtHome(Component):
    """Virtual beds that take admissions A&E has decided on."""

    name = "hospital_at_home"
    order = 35  # after TREAT has assessed, before anything later in the flow
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {
        "hospital_at_home_admissions": ("count", "Admissions treated in a virtual bed instead."),
        "hospital_at_home_full": ("count", "Patients offered a virtual bed when none was free."),
        "hospital_at_home_occupancy": ("share", "Virtual beds in use / virtual beds."),
    }
    cost_lines = (CostLineSpec("hospital_at_home_day", "virtual bed day"),)

    @classmethod
    def build(cls, site: Site, cfg: Any) -> HospitalAtHome | None:
        block = cfg.block(cls.name)
        return cls(site, block) if block.enabled else None

    def __init__(self, site: Site, cfg: HospitalAtHomeConfig) -> None:
        super().__init__(site, cfg)
        self.u_offer = Draw("u_hospital_at_home", "hospital_at_home.offer")
        self.beds = ServerPool(self.env, cfg.beds)
        self.beds.track(
            self.rec.level("busy:hospital_at_home"), self.rec.level("staffed:hospital_at_home")
        )
        self.stay_h = cfg.stay_days * 24.0
        self.n_taken = self.rec.counter("hospital_at_home_admissions")
        self.n_full = self.rec.counter("hospital_at_home_full")

    def draws(self) -> list[Draw]:
        return [self.u_offer]

    def install(self, hooks: Hooks) -> None:
        hooks.before_admission.append(self.admit)

    def admit(self, p: Patient) -> Generator[Any, Any, bool]:
        """Take ``p`` into a virtual bed if offered and one is free; True if taken."""
        if self.u_offer.of(p) >= self.cfg.share:
            return False
        if self.beds.busy >= self.beds.capacity:
            self.n_full.add(self.env.now, p.neighbourhood)
            return False
        yield self.beds.acquire()  # free now: granted at once
        self.n_taken.add(self.env.now, p.neighbourhood)
        self.env.process(self._stay(p))
        return True

    def _stay(self, p: Patient) -> Generator[Any, Any, None]:
        yield self.env.timeout(self.stay_h)
        self.beds.release()
        self.site.flow.exit(p, "hospital_at_home_discharged")

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        return {
            "hospital_at_home_admissions": window.count("hospital_at_home_admissions"),
            "hospital_at_home_full": window.count("hospital_at_home_full"),
            "hospital_at_home_occupancy": window.utilisation(
                "busy:hospital_at_home", "staffed:hospital_at_home"
            ),
        }

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        return {"hospital_at_home_day": window.integral_days("busy:hospital_at_home")}

    def cost_line(self, name: str, costs: CostsConfig) -> CostLine:
        return self.cfg.cost  # its price sits in its own block

    def in_system(self) -> dict[str, int]:
        return {"in_hospital_at_home": int(self.beds.busy)}
