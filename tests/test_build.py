"""The compiled model is the Python model: same results, built outside the source
tree, and never run once its source has changed."""

from __future__ import annotations

import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim import _native, build_info
from tests.conftest import ROOT

SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]

#: prints, as JSON, everything a short run measures: KPIs, the daily census and
#: the patient-level event log, for every intervention at once and the baseline
FINGERPRINT = r"""
import json, sys
from sim import build_info
from sim.config import load_config
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
out = {"compiled": build_info.compiled()}
for scenario in ("integrated", "baseline"):
    for rep in (0, 1):
        cfg = load_config(scenario, ["run.years=0.08", "run.warmup_days=15", "run.event_log=true"])
        model = CareSystemModel(cfg, rep)
        info = model.run()
        kpis = compute_kpis(model, info)
        kpis.pop("wall_seconds", None)
        rec = model.recorder
        out[f"{scenario}/{rep}"] = {
            "kpis": kpis,
            "census": [a.tolist() for a in rec.census()],
            "events": rec.events,
            "exits": dict(rec.exits),
        }
print(json.dumps(out))
"""


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without the switches the tests set themselves."""
    env = {k: v for k, v in os.environ.items() if k not in (build_info.PURE_PYTHON, _native.WARNED)}
    return {**env, **extra}


def _fingerprint(pure: bool, python: str = sys.executable) -> dict:
    env = _clean_env(PYTHONPATH=str(ROOT))
    if pure:
        env[build_info.PURE_PYTHON] = "1"
    out = subprocess.run(
        [python, "-c", FINGERPRINT],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(out.stdout)


def _assert_same_results(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        for part in ("kpis", "census", "events", "exits"):
            assert a[key][part] == b[key][part], f"{key}: {part} differ"


def test_compiled_model_gives_exactly_the_results_of_its_source() -> None:
    """Every KPI, census value and logged event of the compiled model equals the
    pure-Python model's, to the last bit (JSON keeps floats exactly)."""
    if not build_info.compiled():
        pytest.skip("the model is not compiled in this install (pure Python)")
    compiled, pure = _fingerprint(pure=False), _fingerprint(pure=True)
    assert compiled.pop("compiled") is True
    assert pure.pop("compiled") is False
    _assert_same_results(compiled, pure)


# --- which modules are compiled ---------------------------------------------


def _touch(root: Path, *files: str) -> None:
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"# {rel}\n")


def test_the_compiled_modules_are_every_model_module(tmp_path) -> None:
    """The list is derived: a new module of a model package is compiled without
    a hand edit; the interpreted layers are not, nor a package's __init__.py
    (documentation, re-exports, discovery), nor a module that declares a config
    block (mypyc would drop its Literal types), nor files that are not modules."""
    _touch(
        tmp_path,
        "sim/__init__.py",
        "sim/_native.py",
        "sim/model.py",
        "sim/services/__init__.py",
        "sim/services/home_care.py",
        "sim/config/__init__.py",
        "sim/config/schema.py",
        "sim/report/html.py",
        "sim/scratch/notes.py",  # no __init__.py: not a package
        "sim/model copy.py",  # not a module name
    )
    (tmp_path / "sim/services/virtual_ward.py").write_text(
        "from sim.config.blocks import register_block\n"
        "class VirtualWardConfig: ...\n"
        "register_block('virtual_ward', VirtualWardConfig)\n"
    )
    assert _native.model_sources(tmp_path / "sim") == ["sim/model.py", "sim/services/home_care.py"]
    assert "sim/services/virtual_ward.py" in _native.candidates(tmp_path / "sim")

    # the real package: today's model layer, and every exclusion still exists
    found = _native.model_sources()
    for rel in (
        "sim/model.py",
        "sim/core/recorder.py",
        "sim/core/window.py",
        "sim/discharge/team.py",
    ):
        assert rel in found
    for rel in ("sim/flows.py", "sim/cli.py", "sim/config/schema.py", "sim/discharge/__init__.py"):
        assert rel not in found
    for entry in _native.INTERPRETED:
        assert (ROOT / entry).exists(), f"{entry} is listed as interpreted but does not exist"


def test_a_build_depends_on_the_interpreted_modules_it_imports() -> None:
    """mypyc copies constants from the interpreted modules a compiled one imports,
    so their sources are hashed too; the layers above the model are not."""
    inputs = _native.build_inputs(_native.PACKAGE_DIR, _native.model_sources())
    assert set(_native.model_sources()) <= set(inputs)
    assert "sim/config/schema.py" in inputs
    assert "sim/__init__.py" not in inputs
    assert not [s for s in inputs if s.startswith(("sim/report/", "sim/experiment/"))]


# --- deciding whether to use the compiled build ------------------------------


def _fake_build(tmp_path: Path) -> tuple[Path, Path]:
    """A checkout of three modules and an environment with a build of it that
    matches (the "compiled" files are empty: these tests never load them)."""
    checkout, site = tmp_path / "checkout", tmp_path / "site"
    _touch(
        checkout,
        "setup.py",
        "sim/__init__.py",
        "sim/model.py",
        "sim/core/__init__.py",
        "sim/core/level.py",
        "sim/config/schema.py",
    )
    package = checkout / "sim"
    compiled = _native.model_sources(package)
    assert compiled == ["sim/core/level.py", "sim/model.py"]
    modules = {_native.module_name(s): s.removesuffix(".py") + SUFFIX for s in compiled}
    library = _native.LIBRARY + SUFFIX
    native_dir = site / _native.NATIVE_DIR
    for rel in [library, *modules.values()]:
        (native_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (native_dir / rel).write_bytes(b"")
    sources = {s: _native.file_hash(checkout / s) for s in [*compiled, "sim/config/schema.py"]}
    manifest = {"format": 1, "library": library, "modules": modules, "sources": sources}
    (native_dir / _native.MANIFEST).write_text(json.dumps(manifest))
    return package, site


def test_a_build_that_matches_its_source_is_used(tmp_path) -> None:
    package, site = _fake_build(tmp_path)
    build = _native.decide(package, [str(tmp_path / "elsewhere"), str(site)], environ={})
    assert build.compiled, build.reason
    assert build.native_dir == site / _native.NATIVE_DIR
    assert set(build.modules) == {"sim.core.level", "sim.model"}
    assert not build.warning and not build.stale


@pytest.mark.parametrize(
    ("change", "stale"),
    [
        ("edit", ("sim/core/level.py",)),
        ("edit_import", ("sim/config/schema.py",)),
        ("add", ("sim/core/queue.py (new)",)),
        ("remove", ("sim/model.py (removed)",)),
        ("add_config", ()),  # a module that stays interpreted changes nothing
    ],
)
def test_a_build_older_than_its_source_is_not_used(tmp_path, change: str, stale: tuple) -> None:
    """Any change to what the build was made from (a compiled module, an
    interpreted module it imports, a model module added or removed) runs the
    source instead, with a warning naming the command that rebuilds."""
    package, site = _fake_build(tmp_path)
    if change == "edit":
        (package / "core/level.py").write_text("# edited\n")
    elif change == "edit_import":
        (package / "config/schema.py").write_text("LIMIT = 3\n")
    elif change == "add":
        (package / "core/queue.py").write_text("")
    elif change == "add_config":
        (package / "core/ward.py").write_text("register_block('ward', object)\n")
    else:
        (package / "model.py").unlink()
    build = _native.decide(package, [str(site)], environ={})
    if not stale:
        assert build.compiled and not build.warning
        return
    assert not build.compiled
    assert build.stale == stale
    assert stale[0].split()[0] in build.reason
    assert "identical" in build.warning
    assert f"install -e {package.parent}" in build.warning


def test_an_incomplete_build_is_not_used(tmp_path) -> None:
    package, site = _fake_build(tmp_path)
    (site / _native.NATIVE_DIR / f"sim/model{SUFFIX}").unlink()
    build = _native.decide(package, [str(site)], environ={})
    assert not build.compiled
    assert "missing" in build.reason and "Rebuild it with" in build.warning


@pytest.mark.parametrize("stage", ["mypyc", "C compiler"])
def test_a_failed_compile_is_reported(tmp_path, stage: str) -> None:
    """The install records a failed compile. Model code mypyc rejects (a new
    module the derived list picked up, say) is said once a run, with mypyc's
    first error; a missing C compiler is an ordinary reason to run pure Python,
    given only as the reason."""
    package, site = _fake_build(tmp_path)
    error = "sim/core/level.py:3: error: Unsupported feature"
    (site / _native.NATIVE_DIR / _native.MANIFEST).write_text(
        json.dumps({"format": 1, "failed": {"stage": stage, "error": error}})
    )
    build = _native.decide(package, [str(site)], environ={})
    assert not build.compiled
    assert stage in build.reason and error in build.reason
    if stage == "mypyc":
        assert error in build.warning and f"install -e {package.parent}" in build.warning
    else:
        assert not build.warning


def test_no_build_or_a_request_for_the_source_runs_the_source_quietly(tmp_path) -> None:
    package, site = _fake_build(tmp_path)
    asked = _native.decide(package, [str(site)], environ={build_info.PURE_PYTHON: "1"})
    assert not asked.compiled and not asked.warning
    assert build_info.PURE_PYTHON in asked.reason
    none = _native.decide(package, [str(tmp_path / "elsewhere")], environ={})
    assert not none.compiled and not none.warning
    assert "no compiled model" in none.reason


def test_a_build_an_older_install_left_in_the_tree_is_reported(tmp_path) -> None:
    """An environment installed before builds moved out of the tree has none of
    its own, only the old one in the tree: it runs the source, and says how to
    compile again (rather than silently running slower)."""
    package, _ = _fake_build(tmp_path)
    (package.parent / f"{_native.LIBRARY}{SUFFIX}").write_bytes(b"")
    build = _native.decide(package, [str(tmp_path / "elsewhere")], environ={})
    assert not build.compiled
    assert "older install" in build.warning
    assert f"install -e {package.parent}" in build.warning
    asked = _native.decide(
        package, [str(tmp_path / "elsewhere")], environ={"NSIM_PURE_PYTHON": "1"}
    )
    assert not asked.warning


#: run as a program: a short model run, and a worker process that imports the model
STALE_RUN = r"""
import json, subprocess, sys
from sim import build_info
from sim.config import load_config
from sim.model import CareSystemModel
info = CareSystemModel(load_config("baseline", ["run.years=0.02", "run.warmup_days=1"]), 0).run()
worker = subprocess.run([sys.executable, "-c", "import sim.model"], check=True)
print(json.dumps({"compiled": build_info.compiled(), **build_info.describe(),
                  "stale": build_info.stale_modules(), "events": info.events}))
"""


def test_a_stale_build_runs_the_source_and_warns_once(tmp_path) -> None:
    """End to end, with the real package: a build whose hash of sim/model.py is
    out of date is not loaded (its files here are not even loadable), the model
    runs as Python source, and the run (worker included) warns exactly once,
    naming this environment's pip and the checkout."""
    sources = _native.build_inputs(_native.PACKAGE_DIR, _native.model_sources())
    hashes = {s: _native.file_hash(ROOT / s) for s in sources}
    hashes["sim/model.py"] = "0" * 64  # built from another version of model.py
    modules = {
        _native.module_name(s): s.removesuffix(".py") + SUFFIX for s in _native.model_sources()
    }
    library = _native.LIBRARY + SUFFIX
    native_dir = tmp_path / _native.NATIVE_DIR
    for rel in [library, *modules.values()]:
        (native_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (native_dir / rel).write_bytes(b"not a compiled module")
    manifest = {"format": 1, "library": library, "modules": modules, "sources": hashes}
    (native_dir / _native.MANIFEST).write_text(json.dumps(manifest))

    # this fake build comes first on the path, before the environment's own
    env = _clean_env(PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    out = subprocess.run(
        [sys.executable, "-c", STALE_RUN],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["compiled"] is False and result["mode"] == "pure"
    assert result["stale"] == ["sim/model.py"]
    assert result["native_dir"] == str(native_dir)
    assert result["events"] > 0
    assert out.stderr.count("CompiledModelWarning") == 1, out.stderr
    pip = Path(sys.executable).parent / "pip"
    command = f"{pip if pip.is_file() else sys.executable + ' -m pip'} install -e {ROOT}"
    assert command in out.stderr
    assert "results are identical" in out.stderr


def test_a_compiled_file_left_in_the_source_tree_is_never_imported(tmp_path) -> None:
    """Installs before the build moved out of the tree left compiled files beside
    the source, where Python's own finders would prefer them to the ``.py``
    file. Here such files are garbage: importing any of them would fail."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "sim", tree / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    for rel in (f"sim/model{SUFFIX}", f"sim/interventions/__init__{SUFFIX}", f"sim/gone{SUFFIX}"):
        (tree / rel).write_bytes(b"left over")
    (tree / f"{_native.LIBRARY}{SUFFIX}").write_bytes(b"left over")
    program = (
        "import sim.model, sim.interventions.treat\n"
        "print(sim.model.__file__)\n"
        "try:\n"
        "    import sim.gone\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc)\n"
    )
    for extra in ({}, {build_info.PURE_PYTHON: "1"}):
        out = subprocess.run(
            [sys.executable, "-c", program],
            env=_clean_env(PYTHONPATH=str(tree), **extra),
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        model_file, error = out.stdout.splitlines()
        assert model_file != str(tree / f"sim/model{SUFFIX}")
        assert "old install left in the source tree" in error


def test_the_compiled_model_lives_outside_the_source_tree() -> None:
    """In a compiled environment every model module (the derived list, each of
    which must compile) is loaded from the environment's build, and the source
    tree holds no compiled file."""
    if not build_info.compiled():
        pytest.skip("the model is not compiled in this install (pure Python)")
    import importlib

    build = _native.install()
    assert build_info.mode() == "compiled" and build.native_dir is not None
    for source in _native.model_sources():
        module = importlib.import_module(_native.module_name(source))
        path = Path(module.__file__)
        assert path.name.endswith(SUFFIX), source
        assert path.is_relative_to(build.native_dir), source
        assert not path.is_relative_to(ROOT / "sim"), source
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    assert not [p for p in ROOT.glob("sim/**/*") if p.name.endswith(suffixes)]
    assert not list(ROOT.glob(f"{_native.LIBRARY}*"))


def test_every_model_module_knows_where_it_is() -> None:
    """Compiled or not, each module of the model reports a file that exists and
    packages list their submodules, so a plain-Python module added beside the
    compiled ones (a new intervention) can be found and imported."""
    import importlib
    import pkgutil

    import sim.interventions
    import sim.model

    for name, module in list(sys.modules.items()):
        if name == "sim" or name.startswith("sim."):
            assert Path(module.__file__).is_file(), name
    found = {m.name for m in pkgutil.iter_modules(sim.interventions.__path__)}
    assert {"treat", "pace", "mdt", "care_homes", "seven_day"} <= found
    assert importlib.util.find_spec("sim.interventions.treat") is not None


@pytest.mark.slow
def test_a_pure_environment_shares_the_checkout_with_a_compiled_one(tmp_path) -> None:
    """A second environment installed as pure Python on this checkout runs the
    source, gives the same results, and leaves this environment's build alone."""
    before = build_info.compiled()
    venv = tmp_path / "pure"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "-e", str(ROOT)],
        env=_clean_env(**{build_info.PURE_PYTHON: "1"}),
        check=True,
        timeout=1200,
    )
    pure, ours = _fingerprint(pure=False, python=python), _fingerprint(pure=False)
    assert pure.pop("compiled") is False
    assert ours.pop("compiled") is before  # still compiled, if it was
    _assert_same_results(pure, ours)
