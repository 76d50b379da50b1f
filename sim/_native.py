"""Load the compiled model from outside the source tree, and only while it matches the source.

An install compiles the model's modules with mypyc (see ``setup.py``) into a
directory of the environment's own, ``neighbourhood-sim-native`` in its
site-packages, together with a manifest: which modules were compiled, and a
hash of every source file the build read. The source tree holds only Python,
so environments sharing a checkout (one compiled, one pure Python, two Python
versions) never see each other's builds.

When ``sim`` is imported, :func:`install` decides once, for the whole process,
how the model runs, and puts a finder first on ``sys.meta_path`` that imports
it that way:

* compiled, when this environment has a compiled model and every source it was
  built from is unchanged (and no model module was added since);
* otherwise as Python source, with one :class:`CompiledModelWarning` when the
  compiled model is out of date (or mypyc rejected the model's code at
  install), naming the command that rebuilds it.

The compiled modules of one build call into each other's native code directly,
so they are used all together or not at all. Results are identical either way;
the compiled model is only faster. ``NSIM_PURE_PYTHON=1`` forces the source.

This module stays interpreted (it decides whether the others are) and needs
only the standard library: ``setup.py`` loads it by path, for the list of
modules to compile and the names of the build's files.
"""

from __future__ import annotations

# Every ``import sim`` (each worker process too) runs this module: only modules
# Python has loaded at start-up anyway, or light ones (ast and hashlib are
# imported where needed).
import importlib.machinery
import importlib.util
import json
import os
import shlex
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

#: environment variable: run the model's Python source (also read by setup.py,
#: where it skips compiling)
PURE_PYTHON = "NSIM_PURE_PYTHON"
#: mypyc's name for the build; its shared library is the top-level module ``LIBRARY``
GROUP = "neighbourhood_sim_native"
LIBRARY = f"{GROUP}__mypyc"
#: the build's directory in site-packages; not a valid module name, so that
#: nothing imports it by accident
NATIVE_DIR = "neighbourhood-sim-native"
MANIFEST = "manifest.json"
#: version of the manifest's layout
FORMAT = 1
#: set once the stale-build warning has been given, so that the worker
#: processes of the same run (which inherit the environment) do not repeat it
WARNED = "_NSIM_STALE_BUILD_WARNED"

PACKAGE = "sim"
PACKAGE_DIR = Path(__file__).resolve().parent

#: what stays interpreted besides every package's ``__init__.py`` (a package's
#: documentation, re-exports and plumbing such as service discovery, never a hot
#: path; ``sim/__init__.py`` must be, as it installs the finder) and modules that
#: declare a config block; everything else in the package is the model and is
#: compiled. Paths relative to the checkout; a trailing slash means a folder.
INTERPRETED = (
    "sim/_native.py",  # decides whether the model is compiled
    "sim/build_info.py",
    "sim/lazy.py",
    "sim/api.py",
    "sim/cli.py",
    "sim/preflight.py",
    "sim/flows.py",
    "sim/theory.py",
    "sim/config/",
    "sim/experiment/",
    "sim/outputs/",
    "sim/report/",
    "sim/commands/",
    "sim/app/",  # the web app: presentation, and Streamlit is no model
)


class CompiledModelWarning(UserWarning):
    """The environment's compiled model cannot be used (older than its source, or
    it did not compile), so the source runs instead."""


def pure_python_requested(environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(PURE_PYTHON, "")
    return value not in ("", "0")


# --- which modules are the model -------------------------------------------


def model_sources(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The model's modules, which mypyc compiles (paths like ``sim/core/level.py``):
    every module of the package, in a regular package, except packages'
    ``__init__.py``, those listed in :data:`INTERPRETED` and those that declare a
    config block."""
    root = package_dir.parent
    return [s for s in candidates(package_dir) if not declares_config(root / s)]


def candidates(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The modules :func:`model_sources` chooses from: every module, in a regular
    package, that is not a package's ``__init__.py`` nor listed in
    :data:`INTERPRETED` (a quick look, without reading files)."""
    root = package_dir.parent
    found = []
    for folder, subfolders, files in os.walk(package_dir):
        rel = Path(folder).relative_to(root).as_posix()
        # go only into model packages: importable names with an __init__.py
        subfolders[:] = [
            d
            for d in subfolders
            if d.isidentifier()
            and f"{rel}/{d}/" not in INTERPRETED
            and os.path.isfile(os.path.join(folder, d, "__init__.py"))
        ]
        found += [
            f"{rel}/{f}"
            for f in files
            if f.endswith(".py")
            and f[:-3].isidentifier()
            and f != "__init__.py"
            and f"{rel}/{f}" not in INTERPRETED
        ]
    return sorted(found)


def declares_config(path: Path) -> bool:
    """Does this module register a config block (``register_block(...)``)?

    Such a module stays interpreted: mypyc drops the ``Literal`` types of a
    compiled dataclass, and the config validator reads them from the schema.
    """
    import ast

    try:
        data = path.read_bytes()
        if b"register_block" not in data:
            return False  # most modules: no need to parse them
        tree = ast.parse(data, str(path))
    except (OSError, SyntaxError, ValueError):
        return False  # compiled, if anything: the compile will say what is wrong
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if (isinstance(func, ast.Name) and func.id == "register_block") or (
                isinstance(func, ast.Attribute) and func.attr == "register_block"
            ):
                return True
    return False


def module_name(source: str) -> str:
    """``sim/core/__init__.py`` -> ``sim.core``, ``sim/model.py`` -> ``sim.model``."""
    parts = source.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def build_inputs(package_dir: Path, compiled: Sequence[str]) -> list[str]:
    """The sources a compiled build depends on: the compiled modules and the
    interpreted modules of the package they import by name.

    mypyc compiles against the types of those interpreted modules and copies
    their ``Final`` constants into the compiled code, so an edit to them can
    make the build out of date too.
    """
    import ast

    root = package_dir.parent
    inputs = set(compiled)
    for source in compiled:
        tree = ast.parse((root / source).read_text(encoding="utf-8"), source)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for name in names:
                parts = name.split(".")
                if parts[0] != PACKAGE or len(parts) < 2:
                    continue  # not ours, or the package itself (``from sim import x``)
                base = root.joinpath(*parts)
                for candidate in (base.with_suffix(".py"), base / "__init__.py"):
                    if candidate.is_file():
                        inputs.add(candidate.relative_to(root).as_posix())
    return sorted(inputs)


def file_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def file_stat(path: Path) -> list[int]:
    """Size and modification time: a file that still has both is unchanged."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


# --- deciding how the model runs --------------------------------------------


class Build(NamedTuple):
    """How this process runs the model, and why."""

    compiled: bool
    reason: str
    #: the environment's compiled build, if it has one (used or not)
    native_dir: Path | None = None
    #: compiled module name -> its file, relative to ``native_dir`` (when used)
    modules: Mapping[str, str] = {}
    library: str = ""
    #: sources changed, added or removed since the build
    stale: tuple[str, ...] = ()
    manifest: Mapping[str, object] = {}
    #: a warning to give once, or ""
    warning: str = ""


def find_manifest(search_path: Sequence[str]) -> Path | None:
    """The first compiled build on the import path (an environment's own is in
    its site-packages)."""
    for entry in search_path:
        candidate = Path(entry or ".", NATIVE_DIR, MANIFEST)
        if candidate.is_file():
            return candidate
    return None


def rebuild_command(package_dir: Path = PACKAGE_DIR) -> str:
    """What rebuilds the compiled model: this environment's pip, installing the checkout."""
    pip = Path(sys.executable).parent / ("pip.exe" if os.name == "nt" else "pip")
    installer = shlex.quote(str(pip)) if pip.is_file() else f"{shlex.quote(sys.executable)} -m pip"
    checkout = package_dir.parent
    if (checkout / "setup.py").is_file():
        return f"{installer} install -e {shlex.quote(str(checkout))}"
    # installed from a wheel: the source to reinstall from is elsewhere
    return f"{installer} install --force-reinstall <your neighbourhood-sim checkout>"


def _changes(
    package_dir: Path, sources: Mapping[str, str], stats: Mapping[str, list[int]]
) -> list[str]:
    root = package_dir.parent
    changes = []
    for source, digest in sorted(sources.items()):
        path = root / source
        if not path.is_file():
            changes.append(f"{source} (removed)")
        elif file_stat(path) != stats.get(source) and file_hash(path) != digest:
            # (hashed only when touched since the build, or installed from a wheel)
            changes.append(source)
    # a model module added since: compiled modules and it would mix (only new
    # files are read, to see whether they are model modules)
    changes += [
        f"{s} (new)"
        for s in candidates(package_dir)
        if s not in sources and not declares_config(root / s)
    ]
    return changes


def decide(
    package_dir: Path = PACKAGE_DIR,
    search_path: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Build:
    """Whether to run the compiled model, looking for it on ``search_path``."""
    if pure_python_requested(environ):
        return Build(False, f"{PURE_PYTHON}=1 is set: running the Python source")
    manifest_path = find_manifest(sys.path if search_path is None else search_path)
    if manifest_path is None:
        reason = (
            "this environment has no compiled model (it was installed as pure Python: "
            f"{PURE_PYTHON}=1 at install time, no C compiler, or the compile failed)"
        )
        # an environment installed before builds moved out of the source tree
        # left them there: say why it is slower now, and what compiles it again
        suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
        left = [p for p in package_dir.parent.glob(f"{LIBRARY}*") if p.name.endswith(suffixes)]
        if left:
            return Build(
                False,
                f"{reason}; {left[0]}, a build of an older install, is ignored",
                warning=(
                    f"{left[0]} is a compiled model an older install left in the source "
                    "tree; it is ignored, and this environment has no compiled model of its "
                    "own, so the model runs as Python source: results are identical, only "
                    f"slower. Compile it for this environment with: "
                    f"{rebuild_command(package_dir)}  (any install deletes the leftovers; "
                    f"set {PURE_PYTHON}=1 to run the source without this warning)"
                ),
            )
        return Build(False, reason)
    native_dir = manifest_path.parent
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest["format"] != FORMAT:
            raise ValueError(f"format {manifest['format']}, expected {FORMAT}")
        failed = manifest.get("failed")
        if failed:
            return _failed(
                native_dir, package_dir, manifest, str(failed["stage"]), str(failed["error"])
            )
        modules = {str(k): str(v) for k, v in manifest["modules"].items()}
        sources = {str(k): str(v) for k, v in manifest["sources"].items()}
        library = str(manifest["library"])
        stats = {str(k): list(v) for k, v in manifest.get("stats", {}).items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return _unusable(native_dir, package_dir, f"its manifest is unreadable: {exc}")

    changes = _changes(package_dir, sources, stats)
    if changes:
        listed = ", ".join(changes[:3]) + (
            f" and {len(changes) - 3} more" if len(changes) > 3 else ""
        )
        return Build(
            False,
            f"the compiled model is older than its source (since it was built: {listed}): "
            "running the Python source",
            native_dir=native_dir,
            stale=tuple(changes),
            manifest=manifest,
            warning=(
                f"the compiled model is older than its source (since it was built: {listed}), "
                "so the model runs as Python source: results are identical, "
                f"only slower. Rebuild it with: {rebuild_command(package_dir)}  "
                f"(or set {PURE_PYTHON}=1 to run the source without this warning)"
            ),
        )
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    files = [library, *modules.values()]
    wrong = [f for f in files if not f.endswith(suffixes)]
    if wrong:
        return _unusable(native_dir, package_dir, f"built for another Python ({wrong[0]})")
    missing = [f for f in files if not (native_dir / f).is_file()]
    if missing:
        return _unusable(
            native_dir, package_dir, f"{len(missing)} files missing ({missing[0]}, ...)"
        )
    return Build(
        True,
        f"compiled by mypyc (mypy {manifest.get('mypy', '?')}) at {manifest.get('built', '?')}; "
        "every source it was built from is unchanged",
        native_dir=native_dir,
        modules=modules,
        library=library,
        manifest=manifest,
    )


def _failed(
    native_dir: Path, package_dir: Path, manifest: Mapping[str, object], stage: str, error: str
) -> Build:
    """The install tried to compile the model and could not. No C compiler is an
    ordinary reason to run pure Python; model code that mypyc rejects is not, so
    that is said once a run, with mypyc's first errors."""
    reason = f"compiling the model failed when this environment was installed ({stage})"
    warning = ""
    if stage == "mypyc":
        warning = (
            "mypyc could not compile the model when this environment was installed, so "
            "the model runs as Python source: results are identical, only slower. Fix "
            f"the model's code and rebuild with: {rebuild_command(package_dir)}  "
            f"(mypyc said: {error})"
        )
    return Build(
        False, f"{reason}: {error}", native_dir=native_dir, manifest=manifest, warning=warning
    )


def _unusable(native_dir: Path, package_dir: Path, problem: str) -> Build:
    return Build(
        False,
        f"the compiled model in {native_dir} cannot be used ({problem}): running the Python source",
        native_dir=native_dir,
        warning=(
            f"the compiled model in {native_dir} cannot be used ({problem}), so the model "
            "runs as Python source: results are identical, only slower. Rebuild it with: "
            f"{rebuild_command(package_dir)}"
        ),
    )


# --- importing the model that way ------------------------------------------


class _CompiledLoader(importlib.machinery.ExtensionFileLoader):
    """Loads a compiled module; a compiled package keeps its source folder as ``__path__``."""

    def __init__(self, fullname: str, path: str, source_dir: str | None) -> None:
        super().__init__(fullname, path)
        self.source_dir = source_dir

    def exec_module(self, module: ModuleType) -> None:
        super().exec_module(module)
        if self.source_dir is not None:
            # mypyc points it at the build's folder, which lists only the
            # compiled modules; the package is what its source folder holds
            module.__path__ = [self.source_dir]


class ModelFinder:
    """Imports the package's modules as :func:`decide` said: the compiled build's
    modules from the build's directory, every other module (and, in a pure run,
    every module) from its Python source. A compiled file in the source tree,
    left by an install of an older layout, is never imported.

    (A meta path finder needs only ``find_spec``; importlib.abc, the base class,
    would cost every worker process milliseconds to import.)
    """

    def __init__(self, package_dir: Path, build: Build) -> None:
        self.package_dir = package_dir
        self.build = build

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        build = self.build
        if fullname == LIBRARY:
            return self._compiled(fullname, build.library, None) if build.compiled else None
        if not fullname.startswith(PACKAGE + "."):
            return None
        base = self.package_dir.joinpath(*fullname.split(".")[1:])
        init = base / "__init__.py"
        source_dir = str(base) if init.is_file() else None
        if build.compiled and fullname in build.modules:
            return self._compiled(fullname, build.modules[fullname], source_dir)
        if source_dir is not None:
            return importlib.util.spec_from_file_location(
                fullname, init, submodule_search_locations=[source_dir]
            )
        module = base.with_name(base.name + ".py")
        if module.is_file():
            return importlib.util.spec_from_file_location(fullname, module)
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            for leftover in (base.with_name(base.name + suffix), base / f"__init__{suffix}"):
                if leftover.is_file():
                    raise ModuleNotFoundError(
                        f"No module named {fullname!r}: {leftover} is a compiled file an "
                        "old install left in the source tree (delete it)",
                        name=fullname,
                    )
        return None  # a namespace folder, or nothing: the usual finders decide

    def _compiled(
        self, fullname: str, file: str, source_dir: str | None
    ) -> importlib.machinery.ModuleSpec | None:
        assert self.build.native_dir is not None
        location = str(self.build.native_dir / file)
        loader = _CompiledLoader(fullname, location, source_dir)
        return importlib.util.spec_from_file_location(
            fullname,
            location,
            loader=loader,
            submodule_search_locations=None if source_dir is None else [source_dir],
        )


_build: Build | None = None


def install() -> Build:
    """Decide how the model runs and put the finder in place (once a process).

    ``sim/__init__.py`` calls this before importing anything else of the package.
    """
    global _build
    if _build is None:
        build = decide()
        sys.meta_path.insert(0, ModelFinder(PACKAGE_DIR, build))
        _build = build
        if build.warning and not os.environ.get(WARNED):
            os.environ[WARNED] = "1"
            warnings.warn(build.warning, CompiledModelWarning, stacklevel=2)  # from sim
    return _build
