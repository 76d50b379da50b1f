"""The architecture's rules, checked: one-way layers, and types.

docs/architecture.md says what each layer holds. import-linter checks the
contracts of ``[tool.importlinter]`` in pyproject.toml against every import in
``sim/``: at module level, inside a function, or under ``if TYPE_CHECKING:``.
mypy checks the types with the settings of ``[tool.mypy]``.

The tests that break a copy of the package show that the check would catch a
new upward import, so that a passing check means something.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: run import-linter on the pyproject.toml and the ``sim`` package of the current folder
LINT = (
    "import sys\nfrom importlinter.cli import lint_imports\nsys.exit(lint_imports(no_cache=True))\n"
)


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """Check the contracts of ``project/pyproject.toml`` against ``project/sim``.

    In a fresh process whose first path entry is ``project``, so that a copy of
    the package is the one checked, not the installed one.
    """
    return subprocess.run(
        [sys.executable, "-c", LINT],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_imports_keep_the_layers() -> None:
    res = lint_imports(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Contracts: 3 kept, 0 broken." in res.stdout


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """The package's Python source and pyproject.toml, where a test may break them."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.c", "*.h")
    shutil.copytree(ROOT / "sim", tmp_path / "sim", ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _append(path: Path, code: str) -> None:
    path.write_text(path.read_text() + "\n\n" + code)


#: an import from the configuration (the lowest layer) up to a higher one, written
#: each way the rule covers -> the module it reaches
UPWARD = {
    "at module level": ("from sim.outputs import kpis\n", "sim.outputs.kpis"),
    "inside a function": (
        "def _late():\n    from sim.experiment import runner\n\n    return runner\n",
        "sim.experiment.runner",
    ),
    "under TYPE_CHECKING": (
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from sim.report import html\n",
        "sim.report.html",
    ),
}


@pytest.mark.parametrize("how", list(UPWARD))
def test_an_upward_import_breaks_the_layers(copy: Path, how: str) -> None:
    code, reached = UPWARD[how]
    _append(copy / "sim" / "config" / "errors.py", code)
    res = lint_imports(copy)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "never back BROKEN" in res.stdout
    assert f"sim.config.errors -> {reached}" in res.stdout


def test_the_model_may_not_reach_the_records(copy: Path) -> None:
    """A step of one layer, not only a jump across several, breaks the rule."""
    _append(copy / "sim" / "acute.py", "def _late():\n    from sim.outputs import tables\n")
    res = lint_imports(copy)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "sim.acute -> sim.outputs.tables" in res.stdout


def test_a_module_without_a_layer_breaks_the_layers(copy: Path) -> None:
    """A new top-level module must be given a layer (the contract is exhaustive)."""
    (copy / "sim" / "newcomer.py").write_text('"""Not yet given a layer."""\n')
    res = lint_imports(copy)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "sim.newcomer" in res.stdout


def test_interventions_that_import_each_other_break_their_contract(copy: Path) -> None:
    _append(copy / "sim" / "interventions" / "mdt.py", "from sim.interventions import pace\n")
    res = lint_imports(copy)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "interventions do not import each other BROKEN" in res.stdout
    assert "sim.interventions.mdt -> sim.interventions.pace" in res.stdout


def _mypy(*args: str) -> tuple[str, int]:
    """mypy's report and exit status (0: no error), run in this process."""
    from mypy import api

    out, err, status = api.run(list(args))
    return out + err, status


def test_the_package_type_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """No mypy error in ``sim/`` with the project's settings.

    From the project's folder, so that mypy reads pyproject.toml and keeps its
    cache in .mypy_cache: a first run takes up to a minute, a rerun a few seconds.
    """
    monkeypatch.chdir(ROOT)
    report, status = _mypy()
    assert status == 0, report


def test_the_type_check_is_strict(tmp_path: Path) -> None:
    """The settings are in force: a function without annotations is an error."""
    loose = tmp_path / "loose.py"
    loose.write_text("def double(x):\n    return 2 * x\n")
    report, status = _mypy(
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "--cache-dir",
        str(tmp_path / "cache"),
        str(loose),
    )
    assert status == 1, report
    assert "[no-untyped-def]" in report


def test_the_app_may_not_hold_model_logic(copy: Path) -> None:
    """The web app reaches the model only through nsim and the analysis: a direct
    import of a model module breaks its contract."""
    _append(copy / "sim" / "app" / "results.py", "def _late():\n    from sim import flows\n")
    res = lint_imports(copy)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "the app holds no model logic BROKEN" in res.stdout
    assert "sim.app.results -> sim.flows" in res.stdout


def test_the_model_may_not_reach_the_app(copy: Path) -> None:
    _append(copy / "sim" / "report" / "text.py", "def _late():\n    from sim.app import jobs\n")
    res = lint_imports(copy)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "sim.report.text -> sim.app.jobs" in res.stdout
