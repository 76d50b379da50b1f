"""Configuration: typed schema, validation and loading of YAML scenarios."""

from sim.config.errors import ConfigError, ConfigProblem
from sim.config.loading import available_scenarios, from_mapping, load_config
from sim.config.schema import Config

__all__ = [
    "Config",
    "ConfigError",
    "ConfigProblem",
    "available_scenarios",
    "from_mapping",
    "load_config",
]
