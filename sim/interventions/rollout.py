"""Where and when an intervention is live: neighbourhoods and go-live days.

The seed documents describe phased go-live (the first City & Hackney
neighbourhood went live in August 2018) and a bespoke model for the City. A
:class:`RolloutSchedule` turns an intervention's ``rollout`` block into a go-live
time per neighbourhood, so components can ask "is this live for this patient,
now?" in O(1).
"""

from __future__ import annotations

import math

from sim.config.schema import Phase, Rollout


class RolloutSchedule:
    """Go-live time (hours) of an intervention in each neighbourhood (inf = never)."""

    def __init__(self, rollout: Rollout, names: tuple[str, ...], warmup_days: int) -> None:
        phases = rollout.phases or (Phase(rollout.neighbourhoods, rollout.start_day),)
        start = [math.inf] * len(names)
        for ph in phases:
            targets = (
                range(len(names))
                if not ph.neighbourhoods
                else [names.index(n) for n in ph.neighbourhoods]
            )
            # day 0 = live from the very start, warm-up included (steady state)
            t = 0.0 if ph.start_day == 0 else (warmup_days + ph.start_day) * 24.0
            for i in targets:
                start[i] = min(start[i], t)
        self.start_hours = start
        self.names = names

    def live(self, neighbourhood: int, t: float) -> bool:
        return t >= self.start_hours[neighbourhood]

    def ever_live(self, neighbourhood: int) -> bool:
        return self.start_hours[neighbourhood] < math.inf

    def first_go_live(self) -> float:
        return min(self.start_hours)
