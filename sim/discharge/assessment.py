"""The discharge assessment team (social work / discharge to assess).

Patients on pathways P1-P3 need an assessment before a downstream service will
take them. Assessors work to a calendar (weekdays 09:00-17:00 by default): their
number on duty is ``staff`` in working hours, ``weekend_share`` of it in weekend
hours, and zero otherwise. An assessment started before closing is finished.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.config.schema import AssessmentConfig
from sim.core.calendar import ServiceHours
from sim.core.resources import ServerPool


class AssessmentTeam:
    """Assessors whose number on duty follows their working calendar."""

    def __init__(self, env: simpy.Environment, cfg: AssessmentConfig, hours: ServiceHours) -> None:
        self.env = env
        self.staff = cfg.staff
        self.hours = hours
        #: weekend staffing as a share of weekday staffing (seven-day working changes it)
        self.weekend_share = hours.weekend_share
        self.assessors = ServerPool(env, 0)

    def roster(self) -> Generator[Any, Any, None]:
        """SimPy process: set the number of assessors on duty when it can change.

        It wakes at each change of working hours and at least daily (so a change
        of ``weekend_share``, made at a midnight, is picked up in time).
        """
        env = self.env
        while True:
            share = self.hours.staff_share(env.now, self.weekend_share)
            # half up (not Python's half-to-even): 5 staff at 0.5 -> 3
            self.assessors.set_capacity(int(self.staff * share + 0.5))
            yield env.timeout(min(self.hours.hours_to_change(env.now), 24.0))
