"""Find, compose and validate configurations (Hydra in, dataclasses out).

The configuration lives in YAML: ``configs/config.yaml`` holds the defaults and
``scenarios/*.yaml`` the named scenarios a planner edits (``configs/scenario`` is
a link to that folder, making it Hydra's ``scenario`` config group). Both the
``nsim`` command and the Python API compose the same files with Hydra, convert
the result to plain data and build a frozen :class:`~sim.config.schema.Config`,
so the model never sees a ``DictConfig``.

The folders are looked up in this order: the ``NSIM_CONFIG_DIR`` environment
variable, then ``configs/`` next to the installed ``sim`` package (an editable
install or a source checkout).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sim.config.build import build
from sim.config.errors import ConfigError, ConfigProblem
from sim.config.schema import Config

_DROP_KEYS = ("hydra", "defaults")


def config_dir() -> Path:
    """Absolute path of the Hydra config folder."""
    env = os.environ.get("NSIM_CONFIG_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "configs"
    if not (path / "config.yaml").is_file():
        raise ConfigError(
            ConfigProblem(
                "NSIM_CONFIG_DIR",
                str(path),
                "a folder holding config.yaml (install with `pip install -e .` from a "
                "checkout, or point NSIM_CONFIG_DIR at the checkout's configs/ folder)",
            )
        )
    return path


def scenarios_dir() -> Path:
    """Folder of the named scenario files (the ``scenario`` config group)."""
    return config_dir() / "scenario"


def available_scenarios() -> list[str]:
    """Names of the scenarios that ``scenario=<name>`` accepts."""
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml"))


def check_scenario(name: str) -> None:
    """Raise a clear error if ``name`` is not a scenario file."""
    names = available_scenarios()
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, names, n=1)
        raise ConfigError(
            ConfigProblem(
                "scenario",
                name,
                "one of " + ", ".join(names),
                f"did you mean {close[0]!r}?" if close else "",
            )
        )


def compose_dict(scenario: str = "baseline", overrides: Iterable[str] = ()) -> dict[str, Any]:
    """Compose defaults + scenario + overrides into plain nested data.

    Args:
        scenario: Name of a file in ``scenarios/`` (without ``.yaml``).
        overrides: Hydra-style overrides, e.g. ``["beds.acute=600", "run.years=2"]``.
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    check_scenario(scenario)
    overrides = [f"scenario={scenario}", *overrides]
    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            cfg = compose(config_name="config", overrides=overrides)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(
            ConfigProblem(
                "overrides",
                overrides,
                "existing fields and valid override syntax",
                str(exc).splitlines()[0],
            )
        ) from exc
    return to_plain(cfg)


def to_plain(cfg: Any) -> dict[str, Any]:
    """Resolve a DictConfig (or mapping) into plain data, dropping Hydra's own keys."""
    from omegaconf import DictConfig, OmegaConf

    data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    assert isinstance(data, dict)
    return {k: v for k, v in data.items() if k not in _DROP_KEYS}


def from_mapping(data: Mapping[str, Any]) -> Config:
    """Validate plain data into a :class:`Config` (raises :class:`ConfigError`)."""
    return build(Config, {k: v for k, v in data.items() if k not in _DROP_KEYS})


def load_config(scenario: str = "baseline", overrides: Iterable[str] = ()) -> Config:
    """Load a named scenario with optional overrides, validated and frozen.

    Example:
        >>> cfg = load_config("baseline", ["beds.acute=450", "run.replications=3"])
    """
    return from_mapping(compose_dict(scenario, overrides))
