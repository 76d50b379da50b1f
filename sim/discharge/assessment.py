"""The discharge assessment team (social work / discharge to assess).

Patients on pathways P1-P3 need an assessment before a downstream service will
take them. Assessors work to a calendar (weekdays 09:00-17:00 by default): their
number on duty is ``staff`` in working hours, ``weekend_share`` of it in weekend
hours, and zero otherwise. An assessment started before closing is finished.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sim.config.schema import AssessmentConfig
from sim.core.calendar import ServiceHours
from sim.core.event_queue import Environment
from sim.core.resources import ServerPool


class AssessmentTeam:
    """Assessors whose number on duty follows their working calendar."""

    def __init__(self, env: Environment, cfg: AssessmentConfig, hours: ServiceHours) -> None:
        self.env = env
        self.staff = cfg.staff
        self.hours = hours
        #: weekend staffing as a share of weekday staffing (seven-day working raises it)
        self.weekend_share = hours.weekend_share
        self.assessors = ServerPool(env, 0)

    def roster(self) -> Generator[Any, Any, None]:
        """SimPy process: set the number of assessors on duty when it can change."""
        env, hours = self.env, self.hours
        while True:
            self.assessors.set_capacity(hours.on_duty(self.staff, env.now, self.weekend_share))
            yield env.timeout(hours.next_check(env.now))

    def raise_weekend_share(self, share: float) -> None:
        """Staff weekends at ``share`` of weekdays from now on, if that is more than
        today (seven-day working never lowers a team's weekend cover)."""
        self.weekend_share = max(self.weekend_share, share)
