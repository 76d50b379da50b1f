"""Seams where neighbourhood interventions act on the patient flow.

The core flow (demand -> community -> A&E -> acute bed -> discharge) calls these
hook points; it never needs editing to add a service. An intervention is a
component that registers callables here (see :class:`sim.components.Component`).
At each point they run in the order the components declare (``order``, then
name), never in the order of a list:

``crisis_rate``
    ``f(patient) -> float`` multiplier on the person's crisis rate, applied by
    thinning (MDT case management). A component that can return more than 1 must
    raise ``rate_ceiling`` to its largest multiplier; the product must stay below
    ``demand.thinning_headroom``.
``community``
    ``f(patient) -> bool | None``: ``True`` forces the crisis to be managed in the
    community, ``False`` forces an A&E attendance, ``None`` leaves it to the base
    rule (case management, care-home support).
``community_managed``
    ``f(patient) -> None`` told of each crisis the community has just managed
    (after it is counted, while the crisis is still happening): a service may
    follow it up, for example by referring the person to step-up intermediate
    care as a new episode. It cannot undo the community's decision.
``kept_home``
    ``f(patient) -> bool`` told of a crisis the base rule (same-day slots,
    NHS 111, or the constant share) did not manage, when no ``community`` hook
    decided it: ``True`` keeps it at home, managed (enhanced care-home support
    keeps a share of residents' crises out of A&E whatever the base rule is).
``crisis_referral``
    ``f(patient, source) -> bool`` offered each crisis the community has not
    managed and that is on its way to A&E, with who would refer it (``"gp"``,
    ``"nhs111"``, ``"ambulance"``, ``"care_home"``): ``True`` if the service takes
    the patient over (urgent community response). From then the service owns
    the patient: it counts them out of the system, or hands them on to A&E with
    ``Flow.handle_attendance`` after setting ``patient.arrival`` to the time
    they reach A&E (A&E measures its waits from it).
``community_step_up``
    ``f(patient, source) -> bool``: a service treating a person at home (urgent
    community response, a GP) asks for a bed at home for them instead of
    hospital; ``True`` if one took the patient over (a virtual ward), on the
    same terms as ``crisis_referral``.
``before_admission``
    ``f(patient) -> generator`` run as part of the patient's process after A&E
    decides to admit; it returns ``True`` if the admission was avoided (TREAT).
``los``
    ``f(patient) -> float`` multiplier on the acute stay (TREAT-assessed stays).
``early_discharge``
    objects with ``lead_hours(patient) -> float`` (how long before the end of the
    acute stay the patient could leave; 0 if not a candidate) and
    ``leave(patient) -> generator`` returning ``True`` if it took the patient out of
    the bed (PACE early supported discharge).
``at_fit``
    ``f(patient) -> generator`` run when the patient is declared medically fit and
    before the discharge pathway; it returns ``True`` if it has discharged the
    patient itself.
``before_placement``
    ``f(patient, pathway) -> generator`` run in the discharge flow of a patient
    on pathway 1-3 after the assessment and any other cause of delay, before
    the wait for a place. It may keep the patient in hospital (recording the
    wait through the discharge team's ``mark_delay``) and returns the share of
    the patient's onward care the NHS funds (1 for continuing healthcare, a
    share for a jointly funded package, 0 otherwise); the last non-zero answer
    stands.
``weekend_share``
    ``f(kind, patient) -> float | None``: weekend capacity share for
    ``"acute_discharge"`` or ``"downstream"`` for this patient (seven-day
    working), ``None`` to keep the calendar's; a share below the calendar's
    own is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sim.patient import Patient

ProcessHook = Callable[[Patient], Generator[Any, Any, bool]]
PlacementHook = Callable[[Patient, int], Generator[Any, Any, float]]


class EarlyDischarge(Protocol):
    def lead_hours(self, p: Patient) -> float: ...

    def leave(self, p: Patient) -> Generator[Any, Any, bool]: ...


@dataclass
class Hooks:
    """Registered intervention callables; the model installs components in their
    declared order, so each list is in that order."""

    crisis_rate: list[Callable[[Patient], float]] = field(default_factory=list)
    rate_ceiling: float = 1.0
    community: list[Callable[[Patient], bool | None]] = field(default_factory=list)
    community_managed: list[Callable[[Patient], None]] = field(default_factory=list)
    kept_home: list[Callable[[Patient], bool]] = field(default_factory=list)
    crisis_referral: list[Callable[[Patient, str], bool]] = field(default_factory=list)
    community_step_up: list[Callable[[Patient, str], bool]] = field(default_factory=list)
    before_admission: list[ProcessHook] = field(default_factory=list)
    los: list[Callable[[Patient], float]] = field(default_factory=list)
    early_discharge: list[EarlyDischarge] = field(default_factory=list)
    at_fit: list[ProcessHook] = field(default_factory=list)
    before_placement: list[PlacementHook] = field(default_factory=list)
    weekend_share: list[Callable[[str, Patient], float | None]] = field(default_factory=list)

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

    def refer_crisis(self, p: Patient, source: str) -> bool:
        """Offer ``p``'s crisis to the ``crisis_referral`` services in order."""
        return any(f(p, source) for f in self.crisis_referral)

    def step_up(self, p: Patient, source: str) -> bool:
        """Offer ``p`` a bed at home (``community_step_up``); True if one took them."""
        return any(f(p, source) for f in self.community_step_up)

    def los_multiplier(self, p: Patient) -> float:
        m = 1.0
        for f in self.los:
            m *= f(p)
        return m
