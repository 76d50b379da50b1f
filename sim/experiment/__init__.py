"""Experiments: single runs, replications, summaries with confidence intervals.

The names below are imported on first use, so that importing a light module of
this package (``sim.experiment.metadata``, ``sim.experiment.sweep``) does not
pay for pandas and SciPy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.experiment.runner import ReplicationResult, RunResult, run, run_replication
    from sim.experiment.stats import summarise

_HOME = {
    "ReplicationResult": "sim.experiment.runner",
    "RunResult": "sim.experiment.runner",
    "run": "sim.experiment.runner",
    "run_replication": "sim.experiment.runner",
    "summarise": "sim.experiment.stats",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'sim.experiment' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["ReplicationResult", "RunResult", "run", "run_replication", "summarise"]
