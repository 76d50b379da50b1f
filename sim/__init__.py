"""neighbourhood-sim: simulate integrated neighbourhood health and social care.

A discrete-event (SimPy) model of patients flowing from the registered population
of GP neighbourhoods through community response, A&E, acute beds and discharge
pathways, counting delayed transfers of care by attribution.

Plain Python API::

    import sim
    result = sim.run("baseline", ["run.replications=3"])
    result.summary()
"""

from sim.api import run, save
from sim.config import Config, ConfigError, available_scenarios, load_config
from sim.experiment.runner import RunResult, run_replication

__all__ = [
    "Config",
    "ConfigError",
    "RunResult",
    "available_scenarios",
    "load_config",
    "run",
    "run_replication",
    "save",
]
__version__ = "0.1.0"
