"""The component protocol: how services plug into the model.

Following desmod's split between structure and behaviour, the top-level model
(:mod:`sim.model`) builds components, connects them and starts their processes
in one place. A component is a leaf of behaviour - a service of the care
system. It is built from the :class:`Site` every component shares (clock,
recorder, population, random streams, the patient flow) and its own config
block, and then

* names the components it uses in :attr:`~Component.uses`; the model hands them
  over in :meth:`~Component.connect` once all are built, and stops with a clear
  error before the run if one is missing or of the wrong kind;
* declares the random patient attributes it reads (:meth:`~Component.draws`);
* registers its hook callables (:meth:`~Component.install`), which run in the
  order of :attr:`~Component.order` at each hook point;
* names the SimPy processes it runs for the whole replication
  (:meth:`~Component.processes`);
* reports its KPIs with their documentation (:meth:`~Component.kpis`,
  :attr:`~Component.kpi_docs`) and the units of its cost lines
  (:meth:`~Component.cost_quantities`, :attr:`~Component.cost_lines`).

A component never writes another's state: it calls the methods of the
components it is connected to, or acts through hook points.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from mypy_extensions import mypyc_attr

from sim.core.calendar import Clock
from sim.core.event_queue import Environment
from sim.core.recorder import Recorder
from sim.core.rng import RandomStreams
from sim.population import Strata

if TYPE_CHECKING:
    from sim.config.schema import CostLine, CostsConfig, RunConfig
    from sim.core.window import KpiWindow
    from sim.flows import Flows
    from sim.hooks import Hooks
    from sim.patient import Draw, Patient, PatientFactory

C = TypeVar("C", bound="Component")


class Flow:
    """The patient flow's entry and exit points: all a component may call on the
    model. The model implements them; this base class only names them.

    (A class rather than a ``Protocol``: compiled components then call the
    model's methods directly, where calls through a protocol go through Python's
    generic method lookup, about a tenth of a replication's instructions.)
    """

    def next_id(self) -> int:
        """A new episode id."""
        raise NotImplementedError

    def enter(self, p: Patient) -> None:
        """Count ``p`` into the system."""
        raise NotImplementedError

    def exit(self, p: Patient, route: str, t: float | None = None) -> None:
        """Count ``p`` out of the system by ``route`` (at ``t`` if booked ahead)."""
        raise NotImplementedError

    def handle_crisis(self, p: Patient) -> None:
        """A crisis happens now: community response, else A&E."""
        raise NotImplementedError

    def handle_attendance(self, p: Patient) -> None:
        """``p`` attends A&E now (or goes straight to a bed without A&E)."""
        raise NotImplementedError

    def handle_admission(self, p: Patient) -> None:
        """A direct emergency admission (no A&E stage)."""
        raise NotImplementedError

    def inpatient(self, p: Patient) -> Generator[Any, Any, None]:
        """From having a bed to leaving it (a process)."""
        raise NotImplementedError

    def flows(self) -> Flows:
        """Expected flows and offered loads of the core services."""
        raise NotImplementedError


class Site:
    """What every component of one replication shares.

    Attributes:
        env: The SimPy environment.
        rec: The recorder (counters, levels, samples, event log).
        clock: Calendar of the run (weekday, month of a day).
        strata: The registered population, as strata.
        streams: The replication's named random streams.
        run: The run settings (horizon, warm-up, seed).
        hooks: The hook points, filled by the components' ``install``.
        flow: The patient flow's entry and exit points.
    """

    def __init__(
        self,
        env: Environment,
        rec: Recorder,
        clock: Clock,
        strata: Strata,
        streams: RandomStreams,
        run: RunConfig,
        hooks: Hooks,
        flow: Flow,
    ) -> None:
        self.env = env
        self.rec = rec
        self.clock = clock
        self.strata = strata
        self.streams = streams
        self.run = run
        self.hooks = hooks
        self.flow = flow
        #: patient factories, set by the model once every component has declared
        #: its draws: new crises, and readmissions (disjoint streams)
        self.factory: PatientFactory | None = None
        self.readmission_factory: PatientFactory | None = None
        self._episode_factories: dict[str, PatientFactory] = {}

    def episode_factory(self, prefix: str) -> PatientFactory:
        """A factory for episodes a service starts itself (a step-up from home, an
        escalation from a virtual ward), drawing the crises' quantities from streams
        named ``prefix`` + name, so one source's episodes never shift another's nor
        the crises'. Made on first use, once per prefix."""
        factory = self._episode_factories.get(prefix)
        if factory is None:
            from sim.patient import PatientFactory

            base = self.factory
            assert base is not None  # set by the model before the run
            factory = PatientFactory(self.strata, self.streams, base.draws, prefix=prefix)
            self._episode_factories[prefix] = factory
        return factory


class WiringError(Exception):
    """A component uses one the model does not have, or of the wrong kind."""


@dataclass(frozen=True)
class CostLineSpec:
    """A cost line a component's activity gives rise to.

    Its price, budget holder and budget (pooled or aligned) are in the ``costs``
    config block under the same name (or where the component's
    :meth:`~Component.cost_line` says); the component counts the units.
    """

    name: str
    unit: str


# extensions (new services, interventions, test doubles) subclass it in plain Python
@mypyc_attr(allow_interpreted_subclasses=True)
class Component:
    """Base class of a service component."""

    #: the component's name: its config block, its label and how others name it
    name: ClassVar[str] = "component"
    #: names of the components this one uses (see :meth:`connect`)
    uses: ClassVar[tuple[str, ...]] = ()
    #: where its hooks run among other components' at one hook point: lower
    #: first, ties by name (so the order never depends on a list's order)
    order: ClassVar[int] = 100
    #: KPI name -> (unit, meaning) of every KPI :meth:`kpis` returns
    kpi_docs: ClassVar[Mapping[str, tuple[str, str]]] = {}
    #: the cost lines :meth:`cost_quantities` counts units of
    cost_lines: ClassVar[tuple[CostLineSpec, ...]] = ()

    def __init__(self, site: Site, cfg: Any = None) -> None:
        self.site = site
        self.env: Environment = site.env
        self.rec: Recorder = site.rec
        self.cfg: Any = cfg
        self.links: dict[str, Component] = {}

    def connect(self, links: Mapping[str, Component]) -> None:
        """Receive the components named in :attr:`uses` (all built by now).

        Subclasses keep typed references with :meth:`link` and may finish any
        set-up that needs them; the base class checks each is present.
        """
        missing = [n for n in self.uses if n not in links]
        if missing:
            raise WiringError(
                f"component {self.name!r} uses {missing}, which this model does not have "
                f"(it has {sorted(links)})"
            )
        self.links = {n: links[n] for n in self.uses}

    def link(self, name: str, kind: type[C]) -> C:
        """The connected component ``name``, checked to be a ``kind``."""
        if name not in self.uses:
            raise WiringError(
                f"component {self.name!r} reaches for {name!r} without declaring it in `uses`"
            )
        c = self.links[name]
        if not isinstance(c, kind):
            raise WiringError(
                f"component {self.name!r} needs {name!r} to be a {kind.__name__}, "
                f"got a {type(c).__name__}"
            )
        return c

    def draws(self) -> list[Draw]:
        """Random attributes this component needs on every new patient."""
        return []

    def install(self, hooks: Hooks) -> None:
        """Register hook callables (interventions override this)."""

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        """Long-running SimPy processes started when the model starts."""
        return ()

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        """KPIs this component adds to the replication's table (see :attr:`kpi_docs`)."""
        return {}

    def cost_quantities(
        self, window: KpiWindow, kpis: Mapping[str, float], costs: CostsConfig
    ) -> dict[str, float]:
        """Units of each of :attr:`cost_lines` used over the measured period."""
        return {}

    def cost_line(self, name: str, costs: CostsConfig) -> CostLine:
        """Price, holder and budget of cost line ``name``: by default the ``costs``
        block's line of that name; a service may keep its own in its block."""
        line: CostLine = getattr(costs, name)
        return line

    def in_system(self) -> dict[str, int]:
        """Patients this component holds at the current time, by place."""
        return {}


#: builds a component from the site and the whole validated config; returns None
#: when the config switches it off
ComponentFactory = Callable[[Site, Any], "Component | None"]
