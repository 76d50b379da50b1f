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
    from sim.model import CareSystemModel


@mypyc_attr(allow_interpreted_subclasses=True)
class Intervention(Component):
    """A component configured by the top-level block named :attr:`name`.

    It is built only when the block's ``enabled`` is true, and knows from its
    ``rollout`` where and from when it is live (:attr:`schedule`).
    """

    @classmethod
    def build(cls, model: CareSystemModel) -> Intervention | None:
        return cls(model) if getattr(model.cfg, cls.name).enabled else None

    def __init__(self, model: CareSystemModel) -> None:
        super().__init__(model)
        self.cfg: Any = getattr(model.cfg, self.name)
        self.schedule = RolloutSchedule(
            self.cfg.rollout, model.strata.names, model.cfg.run.warmup_days
        )

    def strata_matching(self, ages: Sequence[str], frailty: Sequence[str]) -> np.ndarray:
        """Boolean mask of the population strata in these age and frailty bands."""
        strata = self.model.strata
        return np.isin(strata.age, [AGE_BANDS.index(a) for a in ages]) & np.isin(
            strata.frailty, [FRAILTY_BANDS.index(f) for f in frailty]
        )
