"""What every intervention component shares: its config block and its roll-out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from mypy_extensions import mypyc_attr

from sim.components import Component
from sim.config.schema import AGE_BANDS, FRAILTY_BANDS
from sim.interventions.rollout import RolloutSchedule

if TYPE_CHECKING:
    from sim.components import Site


@mypyc_attr(allow_interpreted_subclasses=True)
class Intervention(Component):
    """A component configured by the top-level block named :attr:`name`.

    It is built only when the block's ``enabled`` is true, and knows from its
    ``rollout`` where and from when it is live (:attr:`schedule`).
    """

    @classmethod
    def build(cls, site: Site, cfg: Any) -> Intervention | None:
        """The component, from its block of the whole config ``cfg``; None when the
        block switches it off."""
        block = cfg.block(cls.name)
        return cls(site, block) if block.enabled else None

    def __init__(self, site: Site, cfg: Any) -> None:
        super().__init__(site, cfg)
        self.schedule = RolloutSchedule(cfg.rollout, site.strata.names, site.run.warmup_days)

    def strata_matching(self, ages: Sequence[str], frailty: Sequence[str]) -> np.ndarray:
        """Boolean mask of the population strata in these age and frailty bands."""
        strata = self.site.strata
        return np.isin(strata.age, [AGE_BANDS.index(a) for a in ages]) & np.isin(
            strata.frailty, [FRAILTY_BANDS.index(f) for f in frailty]
        )
