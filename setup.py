"""Build the package, with the simulation model compiled to C by mypyc where possible.

The modules a replication spends its time in (the model's components, its
building blocks and the recorder) are plain, type-annotated Python. mypyc turns
them into C extension modules that do the same thing a few times faster. The
Python source stays the reference: it is what runs when no C compiler is
available, when ``NSIM_PURE_PYTHON=1`` is set at install time, and whenever the
compiled build fails; the tests check that both give identical results.

Everything else (configuration, experiments, outputs, the CLI) runs once per
replication or less, and stays interpreted.
"""

from __future__ import annotations

import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
#: mypyc's shared library is the top-level module ``<GROUP>__mypyc``: inside the
#: package it would give every compiled module a wrong ``__file__`` and ``__path__``
GROUP = "neighbourhood_sim_native"

#: the modules compiled by mypyc: everything a replication runs event by event
COMPILED = [
    "sim/model.py",
    "sim/patient.py",
    "sim/population.py",
    "sim/components.py",
    "sim/hooks.py",
    "sim/demand.py",
    "sim/community.py",
    "sim/ae.py",
    "sim/acute.py",
    "sim/readmission.py",
    "sim/initial_state.py",
    "sim/core/calendar.py",
    "sim/core/calls.py",
    "sim/core/distributions.py",
    "sim/core/event_queue.py",
    "sim/core/level.py",
    "sim/core/priorities.py",
    "sim/core/processes.py",
    "sim/core/resources.py",
    "sim/core/rng.py",
    "sim/discharge/__init__.py",
    "sim/discharge/assessment.py",
    "sim/discharge/dtoc.py",
    "sim/discharge/services.py",
    "sim/discharge/team.py",
    "sim/interventions/__init__.py",
    "sim/interventions/base.py",
    "sim/interventions/rollout.py",
    "sim/interventions/mdt.py",
    "sim/interventions/care_homes.py",
    "sim/interventions/treat.py",
    "sim/interventions/pace.py",
    "sim/interventions/seven_day.py",
    "sim/core/recorder.py",
]


def _say(msg: str) -> None:
    print(f"neighbourhood-sim: {msg}", file=sys.stderr)


def _remove_compiled() -> None:
    """Delete compiled modules an earlier build left next to their source.

    An editable install builds them in place, where they shadow the ``.py``
    files; an install that ends up pure Python must not leave old ones behind.
    """
    for suffix in EXTENSION_SUFFIXES:
        for source in COMPILED:
            (ROOT / (source[: -len(".py")] + suffix)).unlink(missing_ok=True)
        for library in ROOT.glob(f"{GROUP}__mypyc*{suffix}"):
            library.unlink()


class OptionalBuildExt(build_ext):
    """Build the compiled modules, or none of them.

    mypyc makes one shared C library and a small module per source file that
    imports it; half a build would leave modules that cannot import. So any
    failure removes whatever was built (in the build folder and in the source
    tree) and the package installs as pure Python.
    """

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # a compiler error, a missing compiler, ...
            for ext in self.extensions:
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            _remove_compiled()
            _say(f"compiling the model failed ({exc}); installing it as pure Python")


def ext_modules() -> list:
    """The mypyc extension modules, or none (pure Python)."""
    if not {"build_ext", "bdist_wheel", "editable_wheel", "build", "install"} & set(sys.argv):
        return []  # metadata only (egg_info, dist_info, sdist): nothing to compile
    if os.environ.get("NSIM_PURE_PYTHON", "") not in ("", "0"):
        _say("NSIM_PURE_PYTHON is set: installing the model as pure Python")
        _remove_compiled()
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _say("mypyc is not available: installing the model as pure Python")
        _remove_compiled()
        return []
    try:
        return mypycify(
            [
                "--ignore-missing-imports",
                "--follow-imports=silent",
                # its own cache: a developer's mypy cache (other environments,
                # other options) must not change what gets compiled
                "--cache-dir",
                str(ROOT / "build" / "mypyc-cache"),
                *COMPILED,
            ],
            opt_level="3",
            group_name=GROUP,
        )
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        _say(f"mypyc could not compile the model ({exc}); installing it as pure Python")
        _remove_compiled()
        return []


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})
