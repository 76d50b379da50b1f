"""Step-down beds: a second place to go on discharge pathway 2.

An example of a service that holds discharged patients: it builds a downstream
service from its own config block and asks the discharge team to send it a share
of the pathway's patients. The discharge flow (delays while waiting for a place,
the transfer, the stay, readmission from it) is the team's; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.components import Component, Site
from sim.config.blocks import register_block
from sim.config.build import num
from sim.config.schema import DownstreamServiceConfig, Duration
from sim.core.calendar import ServiceHours
from sim.discharge.services import DownstreamService
from sim.discharge.team import DischargeTeam


def _places() -> DownstreamServiceConfig:
    return DownstreamServiceConfig(capacity=20, stay_days=Duration(mean=14.0))


@dataclass(frozen=True, slots=True)
class StepDownBedsConfig:
    """Step-down beds taking a share of pathway 2 (bed-based intermediate care)."""

    enabled: bool = False
    share: float = num(0.5, gt=0, le=1, units="share of pathway 2 patients")
    places: DownstreamServiceConfig = field(default_factory=_places)


register_block("step_down_beds", StepDownBedsConfig)


class StepDownBeds(Component):
    """A downstream service added to pathway 2."""

    name = "step_down_beds"
    order = 60
    uses = ("discharge",)

    @classmethod
    def build(cls, site: Site, cfg: Any) -> StepDownBeds | None:
        block = cfg.block(cls.name)
        return cls(site, block) if block.enabled else None

    def __init__(self, site: Site, cfg: StepDownBedsConfig) -> None:
        super().__init__(site, cfg)
        self.service = DownstreamService(
            self.env,
            self.name,
            2,
            cfg.places,
            ServiceHours(site.clock, cfg.places.admits),
            self.rec,
        )

    def connect(self, links: Mapping[str, Component]) -> None:
        super().connect(links)
        self.link("discharge", DischargeTeam).add_destination(self.service, self.cfg.share)
