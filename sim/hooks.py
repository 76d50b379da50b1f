"""Seams where neighbourhood interventions act on the patient flow.

The core flow (demand -> community -> A&E -> acute bed -> discharge) calls these
hook points; it never needs editing to add a service. An intervention is a
component that registers callables here (see :class:`sim.components.Component`):

``crisis_rate``
    ``f(patient) -> float`` multiplier on the person's crisis rate, applied by
    thinning (MDT case management, enhanced health in care homes). The product of
    multipliers must stay below ``demand.thinning_headroom``.
``community``
    ``f(patient) -> bool | None``: ``True`` forces the crisis to be managed in the
    community, ``False`` forces an A&E attendance, ``None`` leaves it to the base
    rule (case management, care-home support).
``before_admission``
    ``f(patient) -> generator`` run as part of the patient's process after A&E
    decides to admit; it returns ``True`` if the admission was avoided (TREAT).
``los``
    ``f(patient) -> float`` multiplier on the acute stay (TREAT-assessed stays).
``at_fit``
    ``f(patient) -> generator`` run when the patient is declared medically fit and
    before the discharge pathway; it returns ``True`` if it has discharged the
    patient itself (PACE early supported discharge).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from sim.patient import Patient

ProcessHook = Callable[[Patient], Generator[Any, Any, bool]]


@dataclass
class Hooks:
    """Registered intervention callables, called in registration order."""

    crisis_rate: list[Callable[[Patient], float]] = field(default_factory=list)
    community: list[Callable[[Patient], bool | None]] = field(default_factory=list)
    before_admission: list[ProcessHook] = field(default_factory=list)
    los: list[Callable[[Patient], float]] = field(default_factory=list)
    at_fit: list[ProcessHook] = field(default_factory=list)

    def rate_multiplier(self, p: Patient) -> float:
        m = 1.0
        for f in self.crisis_rate:
            m *= f(p)
        return m

    def community_override(self, p: Patient) -> bool | None:
        for f in self.community:
            out = f(p)
            if out is not None:
                return out
        return None

    def los_multiplier(self, p: Patient) -> float:
        m = 1.0
        for f in self.los:
            m *= f(p)
        return m
