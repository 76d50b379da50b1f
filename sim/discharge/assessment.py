"""The discharge assessment team (social work / discharge to assess).

Patients on pathways P1-P3 need an assessment before a downstream service will
take them. Assessors work to a calendar (weekdays 09:00-17:00 by default): their
number on duty is ``staff`` in working hours and zero outside them. An assessment
started before closing is finished.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.config.schema import AssessmentConfig
from sim.core.calendar import WorkingCalendar
from sim.core.resources import ServerPool


class AssessmentTeam:
    """Assessors whose number on duty follows their working calendar."""

    def __init__(
        self, env: simpy.Environment, cfg: AssessmentConfig, calendar: WorkingCalendar
    ) -> None:
        self.env = env
        self.staff = cfg.staff
        self.calendar = calendar
        self.assessors = ServerPool(env, 0)

    def roster(self) -> Generator[Any, Any, None]:
        """SimPy process: staff on duty in open hours, none otherwise."""
        env = self.env
        while True:
            open_now = self.calendar.is_open(env.now)
            self.assessors.set_capacity(self.staff if open_now else 0)
            yield env.timeout(1.0)
