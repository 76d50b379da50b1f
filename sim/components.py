"""The component protocol: how services plug into the model.

Following desmod's split between structure and behaviour, the top-level model
(:mod:`sim.model`) builds components and starts their processes in one place.
A component is a leaf of behaviour - a service of the care system - that

* declares the random patient attributes it needs (:meth:`draws`),
* registers its hook callables (:meth:`install`), and
* names the SimPy processes it runs for the whole replication (:meth:`processes`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from mypy_extensions import mypyc_attr

from sim.core.event_queue import Environment

if TYPE_CHECKING:
    from sim.core.window import KpiWindow
    from sim.hooks import Hooks
    from sim.model import CareSystemModel
    from sim.patient import Draw


# extensions (new services, interventions, test doubles) subclass it in plain Python
@mypyc_attr(allow_interpreted_subclasses=True)
class Component:
    """Base class of a service component."""

    #: the component's config block (interventions) and label
    name: ClassVar[str] = "component"

    def __init__(self, model: CareSystemModel) -> None:
        self.model = model
        self.env: Environment = model.env
        self.rec = model.recorder

    def draws(self) -> list[Draw]:
        """Random attributes this component needs on every new patient."""
        return []

    def install(self, hooks: Hooks) -> None:
        """Register hook callables (interventions override this)."""

    def processes(self) -> Iterable[Generator[Any, Any, Any]]:
        """Long-running SimPy processes started when the model starts."""
        return ()

    def kpis(self, window: KpiWindow) -> dict[str, float]:
        """KPIs this component adds to the replication's table."""
        return {}

    def in_system(self) -> dict[str, int]:
        """Patients this component holds at the current time, by place."""
        return {}
