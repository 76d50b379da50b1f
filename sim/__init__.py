"""neighbourhood-sim: simulate integrated neighbourhood health and social care.

A discrete-event (SimPy) model of patients flowing from the registered population
of GP neighbourhoods through community response, A&E, acute beds and discharge
pathways, counting delayed transfers of care by attribution.

Plain Python API::

    import sim
    result = sim.run("baseline", ["run.replications=3"])
    result.summary()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# First of all: decide whether the model runs compiled (a build in this
# environment that matches the source) or as Python source, and import it that
# way from now on (sim/_native.py). Nothing of the model is imported before.
from sim import _native

_native.install()

from sim.lazy import lazy_getattr  # noqa: E402

if TYPE_CHECKING:
    from sim.api import calibrate, one_way, psa, run, save
    from sim.config import Config, ConfigError, available_scenarios, load_config
    from sim.experiment.runner import RunResult, run_replication

# The API is imported on first use, so that ``import sim.model`` (a worker, a
# benchmark) does not pay for pandas and the experiment tools it does not need.
_HOME = {
    "run": "sim.api",
    "psa": "sim.api",
    "calibrate": "sim.api",
    "one_way": "sim.api",
    "save": "sim.api",
    "Config": "sim.config",
    "ConfigError": "sim.config",
    "available_scenarios": "sim.config",
    "load_config": "sim.config",
    "RunResult": "sim.experiment.runner",
    "run_replication": "sim.experiment.runner",
}


__getattr__ = lazy_getattr(__name__, _HOME)


__all__ = [
    "Config",
    "ConfigError",
    "RunResult",
    "available_scenarios",
    "calibrate",
    "load_config",
    "one_way",
    "psa",
    "run",
    "run_replication",
    "save",
]
__version__ = "0.1.0"
