"""Attributes of a package imported on first use (PEP 562 module ``__getattr__``).

``import sim`` or ``import sim.experiment`` must stay quick: a configuration
error or ``nsim --help`` should not wait for pandas, SciPy and matplotlib. A
package lists where each public name lives and imports that module only when
the name is first read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, home: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``name`` from ``home[name]`` on first use
    and keeps it in the package's namespace."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
