"""Build the package, with the simulation model compiled to C by mypyc where possible.

The modules a replication spends its time in (the model: its services, building
blocks and recorder) are plain, type-annotated Python. mypyc turns them into C
extension modules that do the same thing a few times faster. The Python source
stays the reference: it is what runs when no C compiler is available, when
``NSIM_PURE_PYTHON=1`` is set (at install or at run time), whenever the compiled
build fails, and whenever the source has changed since the build; the tests
check that both give identical results.

Which modules: every module of the ``sim`` package except those
``sim/_native.py`` lists as interpreted (configuration, experiments, outputs,
the CLI, which run once per replication or less) and those that declare a
config block. A new model module is compiled without editing this file.

Where: never into the source tree. The compiled modules and mypyc's shared
library go to a directory of their own (``neighbourhood-sim-native``) that the
install puts in the environment's site-packages, editable install or not, with
a manifest hashing every source the build read. ``sim/_native.py`` uses the
build only while those hashes match the source.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import io
import json
import os
import shutil
import sys
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import ModuleType
from typing import ClassVar

from setuptools import setup
from setuptools.command.build import build
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def _load_native() -> ModuleType:
    """``sim/_native.py``, loaded by path: importing ``sim`` would run its ``__init__``."""
    spec = importlib.util.spec_from_file_location("_nsim_native_build", ROOT / "sim" / "_native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


native = _load_native()

#: the modules compiled by mypyc: the model, derived from the package's files
COMPILED: list[str] = native.model_sources(ROOT / "sim")
#: each source the compiled build depends on -> its hash, for the manifest
#: (filled in just before mypyc reads them)
SOURCES: dict[str, str] = {}
#: and its size and modification time, which spare a run hashing it again
STATS: dict[str, list[int]] = {}
MYPY_VERSION = ""
#: why the model is not compiled, when compiling was tried and failed
FAILURE: dict[str, str] = {}
#: commands that build; the others (egg_info, dist_info, sdist) only need metadata
BUILDING = {"build_ext", "bdist_wheel", "editable_wheel", "build", "install"}


def _say(msg: str) -> None:
    print(f"neighbourhood-sim: {msg}", file=sys.stderr)


def _remove_leftovers() -> None:
    """Delete compiled files that installs before the build moved out of the
    source tree left there (Python's own finders would prefer them to the source)."""
    for suffix in EXTENSION_SUFFIXES:
        for path in [*(ROOT / "sim").rglob(f"*{suffix}"), *ROOT.glob(f"{native.LIBRARY}*{suffix}")]:
            path.unlink(missing_ok=True)


class NativeBuildExt(build_ext):
    """Build the compiled model into a directory of its own, or build none of it.

    Every file goes under ``<build folder>/neighbourhood-sim-native/``, the
    modules mirroring the package beside mypyc's shared library (where mypyc's
    modules expect their files), plus the manifest. A wheel installs that folder
    into site-packages. An editable install would build extensions into the
    source tree; here they go into the editable wheel instead, so they land in
    the environment's site-packages all the same (and ``setup.py build_ext
    --inplace``, run by an environment's Python, writes them there directly).

    mypyc makes one shared C library and a small module per source file that
    imports it; half a build would leave modules that cannot import. So any
    failure removes whatever was built and the package installs as pure Python.
    """

    def get_ext_fullpath(self, ext_name: str) -> str:
        filename = self.get_ext_filename(self.get_ext_fullname(ext_name))
        return os.path.join(self.build_lib, native.NATIVE_DIR, filename)

    def run(self) -> None:
        editable = bool(self.editable_mode or self.inplace)
        self.inplace = False  # never into the source tree
        out = Path(self.build_lib, native.NATIVE_DIR)
        if not self.extensions:
            if FAILURE:  # say so to every run of this environment
                self._install(out, {"format": native.FORMAT, "failed": FAILURE}, editable)
            return
        try:
            super().run()
            self._install(out, self._manifest(), editable)
        except Exception as exc:  # a compiler error, a missing compiler, ...
            self.extensions = []
            _say(f"compiling the model failed ({exc}); installing it as pure Python")
            failed = {"stage": "C compiler", "error": str(exc)[:300]}
            self._install(out, {"format": native.FORMAT, "failed": failed}, editable)

    def _install(self, out: Path, manifest: dict, editable: bool) -> None:
        """Write the manifest beside what was built (a failed build: alone)."""
        if "failed" in manifest:
            shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / native.MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        if editable:
            copy = self._editable_target()
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(out, copy)

    def _editable_target(self) -> Path:
        # the editable wheel's own files: setuptools' editable_wheel points the
        # install command there (its data, headers and scripts go the same way);
        # without pip, this Python's own site-packages
        target = getattr(self.distribution.get_command_obj("install"), "install_lib", None)
        return Path(target or sysconfig.get_path("platlib"), native.NATIVE_DIR)

    def _manifest(self) -> dict:
        files = {
            # mypyc names a package's module after its file (``sim.core.__init__``)
            ext.name.removesuffix(".__init__"): Path(self.get_ext_filename(ext.name)).as_posix()
            for ext in self.extensions
        }
        library = files.pop(native.LIBRARY)
        return {
            "format": native.FORMAT,
            "library": library,
            "modules": dict(sorted(files.items())),
            "sources": SOURCES,
            "stats": STATS,
            "mypy": MYPY_VERSION,
            "python": sys.version.split()[0],
            "built": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }


class BuildCommand(build):
    """``build``, running ``build_ext`` even when there is nothing to compile, so
    that a failed compile is recorded for the environment (see NativeBuildExt)."""

    sub_commands: ClassVar = [
        (name, (lambda self: True) if name == "build_ext" else test)
        for name, test in build.sub_commands
    ]


def ext_modules() -> list:
    """The mypyc extension modules, or none (pure Python)."""
    global MYPY_VERSION
    if not BUILDING & set(sys.argv):
        return []  # metadata only: nothing to compile
    _remove_leftovers()
    if os.environ.get(native.PURE_PYTHON, "") not in ("", "0"):
        _say(f"{native.PURE_PYTHON} is set: installing the model as pure Python")
        return []
    try:
        import mypy.version
        from mypyc.build import mypycify
    except ImportError as exc:
        _say("mypyc is not available: installing the model as pure Python")
        FAILURE.update(stage="mypyc unavailable", error=str(exc))
        return []
    MYPY_VERSION = mypy.version.__version__
    for source in native.build_inputs(ROOT / "sim", COMPILED):
        # stat before hashing: an edit in between shows as a changed stat, so
        # a run hashes again rather than trusting a stat of older contents
        STATS[source] = native.file_stat(ROOT / source)
        SOURCES[source] = native.file_hash(ROOT / source)
    said = io.StringIO()  # mypyc prints its errors; keep the first for the manifest
    try:
        with contextlib.redirect_stdout(said):
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
                group_name=native.GROUP,
            )
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        errors = [line for line in said.getvalue().splitlines() if ": error:" in line]
        _say(f"mypyc could not compile the model ({exc}); installing it as pure Python")
        FAILURE.update(stage="mypyc", error="; ".join(errors[:3]) or repr(exc))
        return []
    finally:
        print(said.getvalue(), end="", file=sys.stderr)


setup(ext_modules=ext_modules(), cmdclass={"build": BuildCommand, "build_ext": NativeBuildExt})
