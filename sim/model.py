"""The care-system model: structure on top, services as components.

:class:`CareSystemModel` is the structural top level. It builds the population
strata, the random streams and the :class:`~sim.components.Site` every component
shares; creates the core services (:data:`CORE_COMPONENTS`) and every service
:func:`sim.services.discover` finds, each from its own config block; connects
each to the components it declares it uses; collects their random draws into a
patient factory; installs their hooks in their declared order; and starts every
long-running process in :meth:`start` - the one place processes are registered.
It then routes each patient through the flow:

    crisis -> community response? -> A&E -> admit? -> acute bed -> discharge
           -> downstream service -> (readmission)

Each arrow is a stage that can be switched off (``enabled: false``), and demand
can be a plain Poisson stream of direct admissions, so that the model reduces to
textbook queues (M/M/c, Erlang loss) whose answers are known. Services change
the flow only through the hook points (:mod:`sim.hooks`) and the methods of the
components they are connected to.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim import build_info
from sim.acute import AcuteBeds
from sim.ae import EmergencyDepartment
from sim.community import CommunityResponse
from sim.components import Component, ComponentFactory, Flow, Site, WiringError
from sim.config.errors import ConfigError, ConfigProblem
from sim.config.schema import Config
from sim.core.calendar import Clock
from sim.core.event_queue import new_environment
from sim.core.recorder import Recorder
from sim.core.rng import RandomStreams
from sim.demand import CrisisDemand
from sim.discharge import DischargeTeam
from sim.hooks import Hooks
from sim.initial_state import InitialState
from sim.patient import Patient, PatientFactory
from sim.people import People
from sim.population import build_strata
from sim.readmission import Readmissions

if TYPE_CHECKING:
    from sim.flows import Flows


#: the core flow's components, in flow order (services beyond them are found by
#: :func:`sim.services.discover`)
CORE_COMPONENTS: tuple[type[Component], ...] = (
    InitialState,
    CrisisDemand,
    CommunityResponse,
    EmergencyDepartment,
    AcuteBeds,
    DischargeTeam,
    Readmissions,
    People,
)


@contextmanager
def _fewer_gc_pauses() -> Iterator[None]:
    """Collect garbage less often while the model runs.

    A run allocates many short-lived objects (events, patients) that reference
    counting frees at once, while its long-lived ones (samples, pending events)
    make every full collection scan hundreds of thousands of objects. Freezing
    what exists and raising the thresholds saved ~15% of run time (measured).
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


@dataclass
class RunInfo:
    """Facts about one replication run."""

    replication: int
    seed: int
    wall_seconds: float
    events: int


class CareSystemModel(Flow):
    """One replication of the whole care system.

    Args:
        cfg: Validated configuration.
        replication: Replication number (selects the random streams).
        extensions: Component factories to add after the core services; by
            default every service found by :func:`sim.services.discover`.
    """

    def __init__(
        self,
        cfg: Config,
        replication: int = 0,
        extensions: Sequence[ComponentFactory] | None = None,
    ) -> None:
        build_info.check()  # a compiled model older than its source is an error
        self.cfg = cfg
        self.replication = replication
        self.env = new_environment()
        self.streams = RandomStreams(cfg.run.seed, replication)
        self.clock = Clock(cfg.run.start)
        self.strata = build_strata(cfg.population)
        self.recorder = Recorder(
            self.env,
            cfg.run.total_days,
            cfg.run.warmup_days,
            len(self.strata.names),
            cfg.run.event_log,
        )
        self.hooks = Hooks()
        self.site = Site(
            self.env,
            self.recorder,
            self.clock,
            self.strata,
            self.streams,
            cfg.run,
            self.hooks,
            self,
        )
        self._n_crises = self.recorder.counter("crises")
        self._next_id = 0
        # core services, in flow order
        site = self.site
        self.initial_state = InitialState(site, cfg.initial_state, cfg.beds)
        self.demand = CrisisDemand(site, cfg.demand)
        self.community = CommunityResponse(site, cfg.community)
        self.ae = EmergencyDepartment(site, cfg.ae)
        self.acute = AcuteBeds(site, cfg.acute, cfg.beds)
        self.discharge = DischargeTeam(site, cfg.discharge)
        self.readmission = Readmissions(site, cfg.readmission)
        # last of the core, so that switched off it leaves every draw's column as it was
        self.people = People(site, cfg.people, self.demand)
        self.components: list[Component] = [
            self.initial_state,
            self.demand,
            self.community,
            self.ae,
            self.acute,
            self.discharge,
            self.readmission,
            self.people,
        ]
        if extensions is None:
            from sim.services import discover

            extensions = discover()
        for make in extensions:
            comp = make(site, cfg)
            if comp is not None:
                self.components.append(comp)
        self._connect()
        draws = [d for c in self.components for d in c.draws()]
        self.factory = PatientFactory(self.strata, self.streams, draws)
        self.readmission_factory = PatientFactory(
            self.strata, self.streams, draws, prefix="readmission/"
        )
        site.factory, site.readmission_factory = self.factory, self.readmission_factory
        # hooks run in the components' declared order, whatever the list's order
        for c in sorted(self.components, key=lambda c: (c.order, c.name)):
            c.install(self.hooks)
        self.ae.on_admit = self.decided_to_admit
        self._check_calendars()
        self._started = False
        #: patients waiting for a bed who are not in A&E (direct admissions, or
        #: every admission when A&E is switched off)
        self.waiting_outside_ae = 0
        self._flows: Flows | None = None

    def _connect(self) -> None:
        """Hand each component the ones it declared it uses, once all exist."""
        by_name: dict[str, Component] = {}
        for c in self.components:
            if c.name in by_name:
                raise WiringError(f"two components are named {c.name!r}")
            by_name[c.name] = c
        for c in self.components:
            c.connect(by_name)

    def component(self, name: str) -> Component:
        """The component called ``name`` (KeyError if the model has none)."""
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component {name!r}; the model has {[c.name for c in self.components]}")

    def flows(self) -> Flows:
        """Expected flows and offered loads of the core services (worked out once)."""
        if self._flows is None:
            from sim.flows import expected_flows

            self._flows = expected_flows(self)
        return self._flows

    def _check_calendars(self) -> None:
        if not self.cfg.discharge.enabled:
            return
        d = self.discharge
        problems = []
        for (name, svc_weekend, ward_weekend), cal in d.transfer_calendar.items():
            if not svc_weekend and not ward_weekend and cal.never_open:
                problems.append(
                    ConfigProblem(
                        f"discharge.{name}.admits",
                        self.cfg.discharge.calendar,
                        "working hours that overlap discharge.calendar at least once a week",
                    )
                )
        if problems:
            raise ConfigError(problems)

    # ------------------------------------------------------------------ structure
    def start(self) -> None:
        """Register and start every long-running process (once)."""
        if self._started:
            return
        self._started = True
        for c in self.components:
            for proc in c.processes():
                self.env.process(proc)
        # after the components, so the first census sees any initial state
        self.env.process(self.recorder.monitor())

    def run(self) -> RunInfo:
        """Run the replication to the end of the horizon."""
        self.start()
        t0 = time.perf_counter()
        with _fewer_gc_pauses():
            self.env.run(until=self.cfg.run.total_days * 24.0)
        self.recorder.finish()
        return RunInfo(
            replication=self.replication,
            seed=self.cfg.run.seed,
            wall_seconds=time.perf_counter() - t0,
            events=self.env.numbered,  # every scheduled event is numbered
        )

    # ------------------------------------------------------------------ flow
    def next_id(self) -> int:
        """A new episode id (candidates thinned away use ids too, and never enter)."""
        self._next_id += 1
        return self._next_id

    def enter(self, p: Patient) -> None:
        """Count a patient into the system (the conservation check's 'created')."""
        self.recorder.created += 1

    def exit(self, p: Patient, route: str, t: float | None = None) -> None:
        """Count ``p`` out of the system by ``route``.

        A departure booked for a later time ``t`` (A&E's discharges home) is
        counted when booked, and logged with its time ``t``.
        """
        self.recorder.exit(route)
        self.recorder.log(self.env.now if t is None else t, p.id, p.person, "exit", route)

    def handle_crisis(self, p: Patient) -> None:
        """A crisis happens now: community response, else A&E (or straight to a bed)."""
        self.enter(p)
        self._n_crises.add(p.arrival, p.neighbourhood)
        if self.community.manages(p) or self.community.refers_on(p):
            return
        self.handle_attendance(p)

    def handle_attendance(self, p: Patient) -> None:
        if self.ae.enabled:
            if self.people.active:
                self.people.attended(p)
            self.ae.visit(p)
        elif p.readmission or self.ae.decides_admit(p):
            self.env.process(self.admission(p))
        else:
            self.exit(p, "not_admitted")

    def handle_admission(self, p: Patient) -> None:
        """A direct emergency admission (no A&E stage)."""
        self.enter(p)
        self.env.process(self.admission(p))

    def decided_to_admit(self, p: Patient) -> None:
        """A&E decided to admit ``p``: on to admission (a process from here on)."""
        self.env.process(self.after_decision_to_admit(p))

    def after_decision_to_admit(self, p: Patient) -> Generator[Any, Any, None]:
        for hook in self.hooks.before_admission:
            avoided = yield from hook(p)
            if avoided:
                self.ae.depart(p, "admission_avoided")
                return
        yield from self.admission(p, from_ae=True)

    def admission(self, p: Patient, from_ae: bool = False) -> Generator[Any, Any, None]:
        # a patient not admitted through A&E waits for a bed outside A&E's count
        if not from_ae:
            self.waiting_outside_ae += 1
        got_bed = yield from self.acute.admit(p)
        if not from_ae:
            self.waiting_outside_ae -= 1
        if from_ae:
            self.ae.depart(p, "admitted" if got_bed else "diverted")
        if not got_bed:
            self.exit(p, "diverted")
            return
        if self.people.active:
            self.people.admitted(p)
        yield from self.inpatient(p)

    def inpatient(self, p: Patient) -> Generator[Any, Any, None]:
        """From having a bed to leaving it: acute stay, then the discharge flow."""
        status = yield from self.acute.stay(p)
        if status == "left_early":
            return
        if status == "died":
            self.acute.release(p, "died")
            self.exit(p, "died_in_hospital")
            self.readmission.died(p)  # a care-home place kept for them is freed
            self.discharge.died_in_hospital(p)
            if self.people.active:
                self.people.died(p)
            return
        yield from self.discharge.leave_hospital(p)

    # ------------------------------------------------------------------ accounting
    def in_system(self) -> dict[str, int]:
        """Patients still inside, by where they are, at the end of a run.

        Read after :meth:`run` (the recorder's ``finish`` has applied A&E's booked
        departures); in the middle of a run A&E's counts lag until the next midnight.
        """
        lv = self.recorder.levels
        out = {
            "in_ae": int(lv["in_ae"].value),
            "in_acute_bed": int(lv["beds_occupied"].value),
        }
        if not self.ae.enabled or self.demand.direct:
            out["awaiting_bed"] = self.waiting_outside_ae
        for svc in self.discharge.services.values():
            out[f"in_{svc.name}"] = int(lv[f"service_patients:{svc.name}"].value)
        for c in self.components:
            out.update(c.in_system())
        return out
