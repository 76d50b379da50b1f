"""Where the model finds its services beyond the core flow.

A service (an intervention, or a new service that holds patients) is one
module: a :class:`~sim.components.Component` subclass with a ``build``
classmethod, placed in one of :data:`PACKAGES`. :func:`discover` imports every
module of those packages and returns the services' factories, sorted by their
declared ``order`` and then name, so the model never keeps a hand-written list
and the order never depends on file names. ``docs/adding-a-service.md`` walks
through adding one.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from sim.components import Component, ComponentFactory

#: packages whose modules hold services (the seed interventions, then new services)
PACKAGES: tuple[str, ...] = ("sim.interventions", "sim.services")


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return sorted(
        f"{package}.{m.name}"
        for m in pkgutil.iter_modules(pkg.__path__)
        if not m.name.startswith("_") and not m.ispkg
    )


@cache
def service_classes() -> tuple[type[Component], ...]:
    """Every service class defined in :data:`PACKAGES`, in declared order."""
    found: dict[str, type[Component]] = {}
    for package in PACKAGES:
        for name in _modules(package):
            module = importlib.import_module(name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    obj.__module__ == name
                    and issubclass(obj, Component)
                    and callable(getattr(obj, "build", None))
                    and "name" in obj.__dict__
                ):
                    if obj.name in found and found[obj.name] is not obj:
                        raise ValueError(
                            f"two services are named {obj.name!r}: "
                            f"{found[obj.name].__module__} and {name}"
                        )
                    found[obj.name] = obj
    return tuple(sorted(found.values(), key=lambda c: (c.order, c.name)))


#: packages whose modules may declare config blocks of their own (the seed
#: interventions' blocks are fields of the core config)
BLOCK_PACKAGES: tuple[str, ...] = ("sim.services",)


def import_block_modules() -> None:
    """Import the modules that may register config blocks, and nothing else of
    the model: validating a config then needs neither the interventions nor the
    libraries they pull in (SciPy)."""
    for package in BLOCK_PACKAGES:
        for name in _modules(package):
            importlib.import_module(name)


def discover() -> list[ComponentFactory]:
    """Factories of every service: ``factory(site, cfg)`` gives the component or None."""
    return [cls.build for cls in service_classes()]  # type: ignore[attr-defined]
