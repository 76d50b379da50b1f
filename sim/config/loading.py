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

Scenario files may also live outside the project: folders named in the
``NSIM_SCENARIO_PATH`` environment variable (separated like ``PATH``), or set for
one block of code with :func:`scenario_path` (the web app gives each user's
session its own folder this way), are searched after ``scenarios/``. A name must
be unique across all of them, so a file elsewhere can never shadow a library
scenario. Hydra sees each folder through a small root in the temporary folder
whose ``scenario`` entry links to it (Hydra looks a config group up as a
subfolder of each root on its search path).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
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


#: extra scenario folders set by :func:`scenario_path` (None: from the environment)
_EXTRA: contextvars.ContextVar[tuple[Path, ...] | None] = contextvars.ContextVar(
    "nsim_scenario_path", default=None
)
#: Hydra keeps one global state: compositions from several threads (the web app's
#: sessions) take turns
_COMPOSE_LOCK = threading.RLock()


@contextlib.contextmanager
def scenario_path(folders: Sequence[str | Path]) -> Iterator[None]:
    """Search ``folders`` for scenario files too, within this block (this thread
    or task only); replaces ``NSIM_SCENARIO_PATH`` there."""
    token = _EXTRA.set(tuple(Path(f).resolve() for f in folders))
    try:
        yield
    finally:
        _EXTRA.reset(token)


def extra_scenario_dirs() -> tuple[Path, ...]:
    """The scenario folders searched after ``scenarios/`` (see the module docstring)."""
    set_here = _EXTRA.get()
    if set_here is not None:
        return set_here
    env = os.environ.get("NSIM_SCENARIO_PATH", "")
    return tuple(Path(p).resolve() for p in env.split(os.pathsep) if p.strip())


def _scenario_files() -> dict[str, list[Path]]:
    """Every scenario file by name, in search order (a name held twice has two)."""
    found: dict[str, list[Path]] = {}
    for folder in (scenarios_dir(), *extra_scenario_dirs()):
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.stem, []).append(path)
    return found


def scenario_file(name: str) -> Path | None:
    """The file of scenario ``name`` (the first found), if there is one."""
    paths = _scenario_files().get(name)
    return paths[0] if paths else None


def library_scenarios() -> list[str]:
    """Names of the project's own scenarios (``scenarios/``), without extra folders."""
    return sorted(p.stem for p in scenarios_dir().glob("*.yaml"))


def available_scenarios() -> list[str]:
    """Names of the scenarios that ``scenario=<name>`` accepts."""
    return sorted(_scenario_files())


def searchpath_override() -> list[str]:
    """The Hydra override that adds the extra scenario folders (none if there are none)."""
    roots = [_hydra_root(d) for d in extra_scenario_dirs()]
    if not roots:
        return []
    return ["hydra.searchpath=[" + ",".join(f"'file://{r}'" for r in roots) + "]"]


def _hydra_root(folder: Path) -> Path:
    """A folder whose ``scenario`` entry links to ``folder`` (made once, reused)."""
    problem = None
    if not folder.is_dir():
        problem = "a folder of scenario files"
    if problem is not None:
        raise ConfigError(ConfigProblem("NSIM_SCENARIO_PATH", str(folder), problem))
    key = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    root = Path(tempfile.gettempdir()) / "nsim-scenario-roots" / key
    link = root / "scenario"
    if link.is_symlink() and link.resolve() == folder:
        return root
    root.mkdir(parents=True, exist_ok=True)
    # made under a temporary name and renamed: two processes may do this at once
    tmp = root / f".scenario-{os.getpid()}-{threading.get_ident()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        tmp.symlink_to(folder, target_is_directory=True)
        os.replace(tmp, link)
    except OSError as exc:
        raise ConfigError(
            ConfigProblem(
                "NSIM_SCENARIO_PATH",
                str(folder),
                "a folder this system can link to from its temporary folder",
                str(exc),
            )
        ) from exc
    return root


def check_scenario(name: str) -> None:
    """Raise a clear error if ``name`` is not a scenario file."""
    problem = scenario_problem(name)
    if problem is not None:
        raise ConfigError(problem)


def scenario_problem(name: object, path: str = "scenario") -> ConfigProblem | None:
    """The problem with ``name`` as a scenario name, if any (listing the available ones)."""
    files = _scenario_files()
    names = sorted(files)
    if name in names:
        paths = files[str(name)]
        if len(paths) == 1:
            return None
        return ConfigProblem(
            path,
            name,
            "a scenario name held by one file",
            "it is in " + " and ".join(_display_path(str(p)) for p in paths) + ": rename one",
        )
    import difflib

    close = difflib.get_close_matches(str(name), names, n=1)
    return ConfigProblem(
        path,
        name,
        "one of " + ", ".join(names),
        f"did you mean {close[0]!r}?" if close else "",
    )


def scenario_of(overrides: Iterable[str]) -> str:
    """The scenario an override list selects (the last ``scenario=``; default baseline)."""
    name = "baseline"
    for o in overrides:
        key, sep, value = o.partition("=")
        if sep and key.lstrip("+") == "scenario":
            name = value.strip()
    return name


def compose_dict(scenario: str = "baseline", overrides: Iterable[str] = ()) -> dict[str, Any]:
    """Compose defaults + scenario + overrides into plain nested data.

    Args:
        scenario: Name of a file in ``scenarios/`` (without ``.yaml``).
        overrides: Hydra-style overrides, e.g. ``["beds.acute=600", "run.years=2"]``.

    Raises:
        ConfigError: naming the file, line and column of a YAML error, the field
            and closest valid name of an unknown key, or what Hydra objected to.
    """
    check_scenario(scenario)
    return to_plain(compose([f"scenario={scenario}", *overrides]))


def compose(overrides: Iterable[str], hydra: bool = False, config_name: str = "config") -> Any:
    """Compose ``config_name`` with Hydra overrides (``scenario=...`` among them).

    Returns Hydra's ``DictConfig`` (with the ``hydra`` node if ``hydra``); every
    failure is translated into a :class:`ConfigError` that says what to change.
    """
    overrides = list(overrides)
    problem = scenario_problem(scenario_of(overrides))
    if problem is not None:
        raise ConfigError(problem)
    with _COMPOSE_LOCK:
        return _compose(overrides, hydra, config_name)


def _compose(overrides: list[str], hydra: bool, config_name: str) -> Any:
    from contextlib import nullcontext

    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    # before Hydra is initialised: initialize_config_dir does its work when made, not
    # on entering, so an error between the two would leave Hydra initialised
    search = searchpath_override()
    # inside a running Hydra app (nsim) compose with its own, initialised Hydra
    inside_app = GlobalHydra.instance().is_initialized()
    ctx = (
        nullcontext()
        if inside_app
        else initialize_config_dir(config_dir=str(config_dir()), version_base="1.3")
    )
    unknown: list[ConfigProblem] = []
    rest = list(overrides)
    with ctx:
        while True:
            try:
                cfg = hydra_compose(
                    config_name, overrides=[*rest, *search], return_hydra_config=hydra
                )
                break
            except Exception as exc:  # Hydra, OmegaConf and YAML errors: translated below
                # Hydra stops at the first key that does not exist: note it, try the rest
                found = _unknown_from(exc, rest)
                if found is None:
                    raise ConfigError(unknown + _explain(exc, rest, config_name)) from exc
                unknown.append(found[0])
                rest.remove(found[1])
    if unknown:  # the other overrides compose: report their mistakes too, all at once
        try:
            from_mapping(to_plain(cfg))
        except ConfigError as exc:
            unknown += exc.problems
        raise ConfigError(unknown)
    headless = _missing_header(cfg, scenario_of(overrides))
    if headless is not None:
        raise ConfigError(headless)
    return cfg


def _explain(exc: BaseException, overrides: list[str], config_name: str) -> list[ConfigProblem]:
    """What a failed composition means, in the project's terms."""
    from hydra.errors import MissingConfigException, OverrideParseException

    yaml_problems = _yaml_problems(exc)
    if yaml_problems:
        return yaml_problems
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, OverrideParseException):
        bad = [o for o in overrides if not _parses(o)] or overrides
        return [
            ConfigProblem(
                "command line",
                o,
                "overrides of the form key=value, e.g. beds.acute=420 or compare=[treat,pace]",
                first,
            )
            for o in bad
        ]
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        group = (exc.missing_cfg_file or "").rpartition("/")[0] or "config group"
        given = (exc.missing_cfg_file or "").rpartition("/")[2]
        import difflib

        close = difflib.get_close_matches(given, list(exc.options), n=1)
        return [
            ConfigProblem(
                group,
                given,
                "one of " + ", ".join(sorted(exc.options)),
                f"did you mean {close[0]!r}?" if close else first,
            )
        ]
    # most often a key that does not exist: name it, with the closest valid one
    try:
        base = _compose_base(overrides, config_name)
    except Exception:  # the base itself does not compose: report Hydra's own words
        base = None
    if base is not None:
        problems = [p for o in overrides if (p := _unknown_key(base, o)) is not None]
        if problems:
            return problems
    # a mapping given for a key that holds one: Hydra merges it into the old one
    # key by key, which fails when the new mapping has other keys (a distribution
    # of another family, say); the old mapping has to be deleted first
    merged = [
        o
        for o in overrides
        if "=" in o
        and not o.startswith(("~", "+"))
        and o.partition("=")[2].lstrip().startswith("{")
        and o.partition("=")[0].strip() in first
    ]
    if merged:
        return [
            ConfigProblem(
                o.partition("=")[0].strip(),
                o.partition("=")[2].strip(),
                "a mapping with the keys the old one has (Hydra merges the two key by key)",
                f"to replace it whole, delete it first: '~{o.partition('=')[0].strip()}' "
                f"'+{o.strip()}'",
            )
            for o in merged
        ]
    return [ConfigProblem("overrides", overrides, "overrides Hydra can apply", first)]


def _unknown_from(exc: BaseException, overrides: list[str]) -> tuple[ConfigProblem, str] | None:
    """The problem (and the override) behind a "key not in struct" error, if it is one."""
    import difflib

    from omegaconf import DictConfig
    from omegaconf.errors import OmegaConfBaseException

    cause = exc.__cause__
    if not isinstance(cause, OmegaConfBaseException) or not getattr(cause, "full_key", None):
        return None
    parent = getattr(cause, "parent_node", None)
    if not isinstance(parent, DictConfig):
        return None
    key = str(cause.full_key)
    match = [
        o
        for o in overrides
        if (k := o.partition("=")[0].lstrip("+")) == key or k.startswith(key + ".")
    ]
    if not match:
        return None
    top = "." not in key
    names = [str(k) for k in parent if not (top and k == "hydra")]
    close = difflib.get_close_matches(key.rpartition(".")[2], names, n=1)
    where = key.rpartition(".")[0] or "the top level"
    problem = ConfigProblem(
        key,
        match[-1].partition("=")[2],
        f"a field that exists in {where}",
        f"did you mean {close[0]!r}?" if close else "",
    )
    return problem, match[-1]


def _parses(override: str) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        OverridesParser.create().parse_overrides([override])
    except HydraException:
        return False
    return True


def _compose_base(overrides: list[str], config_name: str) -> Any:
    """The configuration with only the config-group choices of ``overrides`` applied."""
    from hydra import compose as hydra_compose
    from omegaconf import OmegaConf

    groups = [o for o in overrides if o.partition("=")[0].lstrip("+~") in _GROUPS]
    groups += searchpath_override()
    cfg = hydra_compose(config_name, overrides=groups, return_hydra_config=True)
    return OmegaConf.to_container(cfg, resolve=False)


#: config groups an override may choose from (the rest are values)
_GROUPS = ("scenario", "hydra/launcher", "hydra/sweeper", "hydra/job_logging", "hydra/help")


def _yaml_problems(exc: BaseException) -> list[ConfigProblem]:
    """File, line and column of a YAML syntax error behind ``exc``, if there is one."""
    import yaml

    seen: set[int] = set()
    err: BaseException | None = exc
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, yaml.MarkedYAMLError):
            return [_yaml_problem(err)]
        err = err.__cause__ or err.__context__
    # Hydra sometimes keeps only the text: find the broken file ourselves
    problems = []
    root = config_dir()
    files = [p for paths in _scenario_files().values() for p in paths]
    for path in [root / "config.yaml", *sorted(files)]:
        try:
            yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.MarkedYAMLError as bad:
            problems.append(_yaml_problem(bad, path))
        except (OSError, yaml.YAMLError):
            continue
    return problems if problems and "yaml" in str(exc).lower() + type(exc).__name__ else []


def _yaml_problem(err: Any, path: Path | None = None) -> ConfigProblem:
    mark = err.problem_mark or err.context_mark
    name = str(path) if path is not None else (getattr(mark, "name", "") or "a YAML file")
    where = _display_path(name)
    line_text = ""
    if mark is not None:
        where += f", line {mark.line + 1}, column {mark.column + 1}"
        try:
            line_text = Path(name).read_text(encoding="utf-8").splitlines()[mark.line]
        except (OSError, IndexError):
            line_text = ""
    what = " ".join(str(x) for x in (err.context, err.problem) if x)
    if "'\\t'" in what:
        what += " - indent with spaces: YAML does not allow tabs"
    elif "mapping values are not allowed" in what or "expected <block" in what:
        what += " - check the indentation: settings of one block start at the same column"
    return ConfigProblem(where, line_text.strip() or None, "valid YAML", what)


def _display_path(name: str) -> str:
    """A file name as a user would type it: the real file, relative to here if inside."""
    path = Path(name)
    try:
        path = path.resolve()
        return str(path.relative_to(Path.cwd()))
    except (OSError, ValueError):
        return str(path)


def _missing_header(cfg: Any, scenario: str) -> ConfigProblem | None:
    """A scenario file without its ``# @package _global_`` line puts its settings
    under ``scenario.``, where nothing reads them: say so instead of running."""
    if "scenario" not in cfg:
        return None
    path = scenario_file(scenario) or scenarios_dir() / f"{scenario}.yaml"
    first = ""
    if path.is_file():
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        first = lines[0] if lines else ""
    return ConfigProblem(
        _display_path(str(path)),
        first or None,
        "a scenario file whose first line is '# @package _global_'",
        "without that header its settings land under 'scenario.' and would be ignored",
    )


def _unknown_key(base: Mapping[str, Any], override: str) -> ConfigProblem | None:
    """A problem naming the first unknown segment of an override's key, if any."""
    import difflib

    key, sep, value = override.partition("=")
    if not sep or key.startswith(("+", "~")) or key in _GROUPS or "/" in key:
        return None
    node: Any = base
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, Mapping):
            return None
        if part not in node:
            path = ".".join(parts[: i + 1])
            names = [str(k) for k in node if not (i == 0 and k == "hydra" and part != "hydra")]
            close = difflib.get_close_matches(part, names, n=1)
            hint = f"did you mean {close[0]!r}?" if close else ""
            where = ".".join(parts[:i]) or "the top level"
            return ConfigProblem(path, value, f"a field that exists in {where}", hint)
        node = node[part]
    return None


def to_plain(cfg: Any) -> dict[str, Any]:
    """Resolve a DictConfig (or mapping) into plain data, dropping Hydra's own keys."""
    from omegaconf import DictConfig, OmegaConf, open_dict

    if isinstance(cfg, DictConfig) and "hydra" in cfg:
        # Hydra's node holds values only a running job can resolve: leave it out
        cfg = cfg.copy()
        with open_dict(cfg):
            del cfg["hydra"]
    # keys are whatever the YAML held; the schema rejects any that is not a field name
    data: Any = (
        OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    )
    assert isinstance(data, dict)
    return {k: v for k, v in data.items() if k not in _DROP_KEYS}


def from_mapping(data: Mapping[str, Any]) -> Config:
    """Validate plain data into a :class:`Config` (raises :class:`ConfigError`)."""
    return build(Config, {k: v for k, v in data.items() if k not in _DROP_KEYS})


def compare_problems(names: Iterable[str]) -> list[ConfigProblem]:
    """Problems with a ``compare`` list: names that are no scenario, or listed twice.

    Checked where the list is used (``nsim`` run alone; a sweep ignores it).
    """
    names = list(names)
    try:
        available = available_scenarios()
    except ConfigError:  # no config folder (plain data from elsewhere): names unchecked
        available = None
    problems = []
    for i, name in enumerate(names):
        if available is not None and (p := scenario_problem(name, f"compare[{i}]")) is not None:
            problems.append(p)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append(
            ConfigProblem(
                "compare",
                names,
                "each scenario at most once",
                "listed more than once: " + ", ".join(twice),
            )
        )
    return problems


def load_config(scenario: str = "baseline", overrides: Iterable[str] = ()) -> Config:
    """Load a named scenario with optional overrides, validated and frozen.

    Example:
        >>> cfg = load_config("baseline", ["beds.acute=450", "run.replications=3"])
    """
    return from_mapping(compose_dict(scenario, overrides))
