"""Which build of the model is running: compiled (mypyc) or its Python source.

The model's hot modules are compiled to C when the package is installed (see
``setup.py``); the Python source is the reference and gives identical results.
This module answers three questions without being compiled itself:

* :func:`compiled` - is the model running as compiled code?
* :func:`stale_modules` - was any compiled module's source edited after it was
  built? A compiled module shadows its ``.py`` file, so an edit would silently
  not take effect; :func:`check` turns that into a clear error.
* :func:`prefer_source` - run the Python source even where compiled modules
  exist (``NSIM_PURE_PYTHON=1`` in the environment does this when ``sim`` is
  first imported: for debugging, profiling line by line, or comparing builds).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

#: environment variable: run the Python source of the model (also read by setup.py)
PURE_PYTHON = "NSIM_PURE_PYTHON"
#: an edit this much newer than the compiled module counts as stale (installers
#: unpack a module's source and its compiled file a moment apart)
TOLERANCE_SECONDS = 2.0
PACKAGE_DIR = Path(__file__).resolve().parent


def pure_python_requested() -> bool:
    return os.environ.get(PURE_PYTHON, "") not in ("", "0")


def compiled() -> bool:
    """True if the model (``sim.model``) runs as a compiled extension module."""
    import sim.model

    return _is_extension(sim.model)


def _is_extension(module: ModuleType) -> bool:
    path = getattr(module, "__file__", None) or ""
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def stale_modules(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Compiled modules under ``package_dir`` whose source is newer than they are."""
    stale = []
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for ext in sorted(package_dir.rglob(f"*{suffix}")):
            source = ext.with_name(ext.name[: -len(suffix)] + ".py")
            if source.exists() and (
                source.stat().st_mtime > ext.stat().st_mtime + TOLERANCE_SECONDS
            ):
                stale.append(str(source.relative_to(package_dir.parent)))
    return stale


_checked = False


def check() -> None:
    """Raise if the compiled model is older than its source (checked once a process)."""
    global _checked
    if _checked:
        return
    if compiled():
        stale = stale_modules()
        if stale:
            raise RuntimeError(
                f"the compiled model is older than its source ({', '.join(stale[:3])}"
                f"{', ...' if len(stale) > 3 else ''} changed after it was built): "
                "rebuild it with `pip install -e .`, or run the source with "
                f"{PURE_PYTHON}=1"
            )
    _checked = True


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds ``sim`` submodules as ``.py`` files, ahead of compiled ones."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("sim.") or not path:
            return None
        name = fullname.rpartition(".")[2]
        for entry in path:
            package = Path(entry) / name / "__init__.py"
            if package.is_file():
                return importlib.util.spec_from_file_location(
                    fullname, package, submodule_search_locations=[str(package.parent)]
                )
            module = Path(entry) / f"{name}.py"
            if module.is_file():
                return importlib.util.spec_from_file_location(fullname, module)
        return None


def prefer_source() -> None:
    """Import ``sim``'s submodules from their Python source from now on.

    Modules already imported stay as they are, so call this before importing
    the model (``sim/__init__.py`` does, when ``NSIM_PURE_PYTHON`` is set).
    """
    if not any(isinstance(f, _SourceFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFinder())
