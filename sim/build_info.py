"""Which build of the model is running: compiled (mypyc) or its Python source, and why.

The model's modules are compiled to C when the package is installed (see
``setup.py``), into a directory of the environment's own; ``sim._native``
decides when ``sim`` is first imported whether to use them (only while they
match the source). The Python source is the reference and gives identical
results. This module reports the decision without being compiled itself:

* :func:`compiled` - is the model running as compiled code?
* :func:`mode` and :func:`reason` - ``"compiled"`` or ``"pure"``, and why
  (for example: the source was edited after the build);
* :func:`describe` - the same as plain data, for run metadata and benchmarks;
* :func:`stale_modules` - sources changed since the compiled model was built.

Set ``NSIM_PURE_PYTHON=1`` to run the source (for debugging, profiling line by
line, or comparing builds).
"""

from __future__ import annotations

import importlib.machinery
import sys
from types import ModuleType

from sim import _native

#: environment variable: run the Python source of the model (also read by setup.py)
PURE_PYTHON = _native.PURE_PYTHON


def pure_python_requested() -> bool:
    return _native.pure_python_requested()


def compiled() -> bool:
    """True if the model (``sim.model``) runs as a compiled extension module."""
    import sim.model

    return _is_extension(sim.model)


def mode() -> str:
    """``"compiled"`` or ``"pure"``: how this process runs the model."""
    return "compiled" if _native.install().compiled else "pure"


def reason() -> str:
    """Why the model runs the way it does, in a sentence."""
    return _native.install().reason


def describe() -> dict[str, str]:
    """The build of the model this process runs, for ``run.json`` and benchmarks."""
    build = _native.install()
    out = {"mode": mode(), "reason": build.reason}
    if build.native_dir is not None:
        out["native_dir"] = str(build.native_dir)
    for key in ("mypy", "built"):
        if key in build.manifest:
            out[key] = str(build.manifest[key])
    return out


def stale_modules() -> list[str]:
    """Sources changed, added or removed since the compiled model was built (empty
    when it is current, or when there is no compiled model)."""
    return list(_native.install().stale)


def _is_extension(module: ModuleType) -> bool:
    path = getattr(module, "__file__", None) or ""
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


_checked = False


def check() -> None:
    """Raise if the model's modules loaded so far mix compiled and source code
    (checked once a process).

    ``sim._native`` never mixes them; this catches a module imported behind its
    back (by file path, or before ``sim`` itself), whose compiled neighbours would
    misread its objects.
    """
    global _checked
    if _checked:
        return
    build = _native.install()
    # compiled: the build's modules must be; pure: no module that could be may be
    names = (
        set(build.modules)
        if build.compiled
        else {_native.module_name(s) for s in _native.candidates()}
    )
    odd = sorted(
        name
        for name in names
        if name in sys.modules and _is_extension(sys.modules[name]) != build.compiled
    )
    if odd:
        raise RuntimeError(
            f"the model should run {mode()} ({build.reason}), but {', '.join(odd[:3])} "
            f"{'were' if len(odd) > 1 else 'was'} imported otherwise; import the model "
            "through the sim package"
        )
    _checked = True
