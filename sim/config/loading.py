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
    from contextlib import nullcontext

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    check_scenario(scenario)
    overrides = list(overrides)
    # inside a running Hydra app (nsim) compose with its own, initialised Hydra
    inside_app = GlobalHydra.instance().is_initialized()
    ctx = (
        nullcontext()
        if inside_app
        else initialize_config_dir(config_dir=str(config_dir()), version_base="1.3")
    )
    with ctx:
        try:
            cfg = compose(config_name="config", overrides=[f"scenario={scenario}", *overrides])
        except (HydraException, OmegaConfBaseException) as exc:
            base = to_plain(compose(config_name="config", overrides=[f"scenario={scenario}"]))
            problems = [p for o in overrides if (p := _unknown_key(base, o)) is not None]
            if not problems:
                first = str(exc).splitlines()[0]
                problems = [ConfigProblem("overrides", overrides, "valid Hydra overrides", first)]
            raise ConfigError(problems) from exc
    return to_plain(cfg)


def _unknown_key(base: Mapping[str, Any], override: str) -> ConfigProblem | None:
    """A problem naming the first unknown segment of an override's key, if any."""
    import difflib

    key, sep, value = override.partition("=")
    if not sep or key.startswith(("+", "~", "hydra.")) or key == "scenario":
        return None
    node: Any = base
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, Mapping):
            return None
        if part not in node:
            path = ".".join(parts[: i + 1])
            close = difflib.get_close_matches(part, [str(k) for k in node], n=1)
            hint = f"did you mean {close[0]!r}?" if close else ""
            where = ".".join(parts[:i]) or "the top level"
            return ConfigProblem(path, value, f"a field that exists in {where}", hint)
        node = node[part]
    return None


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
