"""Experiments: single runs, replications, summaries with confidence intervals.

The names below are imported on first use, so that importing a light module of
this package (``sim.experiment.metadata``, ``sim.experiment.sweep``) does not
pay for pandas and SciPy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.lazy import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _HOME)


__all__ = ["ReplicationResult", "RunResult", "run", "run_replication", "summarise"]
