"""Experiments: single runs, replications, summaries with confidence intervals."""

from sim.experiment.runner import ReplicationResult, RunResult, run, run_replication
from sim.experiment.stats import summarise

__all__ = ["ReplicationResult", "RunResult", "run", "run_replication", "summarise"]
