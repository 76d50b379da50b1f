"""A run's answer read back for the page: tables, sentences, figures and downloads.

Everything here reads what ``nsim`` wrote (``effects.csv``, ``comparison.csv``,
each scenario's ``summary.csv`` and ``daily.csv``, the PSA tables, the report
and its figures) and words it with the report's own functions, so the page says
what the report says, to the digit. While a run is going, the replications
finished so far (the runner's cache) give interim paired effects, marked as such.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.app.jobs import Run
from sim.experiment.compare import compare, headline
from sim.report import effects as in_words
from sim.report import text


@dataclass
class Answer:
    """What a finished run says."""

    baseline: str
    scenarios: list[str]
    replications: int
    period: str
    effects: pd.DataFrame
    comparison: pd.DataFrame | None
    summaries: dict[str, pd.DataFrame]
    daily: dict[str, pd.DataFrame]
    kpis: pd.DataFrame
    psa: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[tuple[str, str, Path]] = field(default_factory=list)  # name, caption, png
    meta: dict[str, Any] = field(default_factory=dict)

    def sentences(self) -> list[tuple[str, str]]:
        """The executive summary: per compared scenario, the report's sentence."""
        out = []
        if self.effects.empty:
            summary = self.summaries.get(self.baseline)
            if summary is not None:
                out.append((self.baseline, text.kpi_summary(self.baseline, summary, self.period)))
            return out
        for scen in dict.fromkeys(self.effects["scenario"]):
            e = self.effects[self.effects["scenario"] == scen]
            sentence = text.scenario_summary(scen, e, pd.DataFrame(), self.period)
            out.append((scen, sentence.removeprefix(scen).strip()))
        return out


def effects_view(effects: pd.DataFrame, interval: str = "CI") -> pd.DataFrame:
    """The headline effects as the report words them: one row per scenario and effect.

    ``interval``: "CI" for a run's effects, "range" for the PSA's (over parameter sets
    and chance together)."""
    rows = []
    for _, r in effects.iterrows():
        cells = in_words.effect_cells(r, interval)
        rows.append(
            {
                "scenario": r["scenario"],
                "effect": cells["effect"],
                "estimate": cells["estimate"],
                f"95% {interval}": cells["ci"],
                "relative": cells["relative"],
                "P(better)": cells["p_better"],
                "note": cells["flag"],
            }
        )
    return pd.DataFrame(rows)


def _read(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.is_file() else None


def _captions(report: Path) -> dict[str, str]:
    """Each figure's caption, as the report gives it (its alt text too)."""
    try:
        page = report.read_text(encoding="utf-8")
    except OSError:
        return {}
    found = re.findall(
        r"<figcaption>(.*?)<span class='note'>\(also <code>figures/([\w.-]+)\.png", page
    )
    return {name: html.unescape(caption).strip() for caption, name in found}


def load(run: Run) -> Answer | None:
    """The finished run's answer, or None if it has not finished."""
    if not run.finished():
        return None
    out = run.out
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    if meta.get("kind") == "comparison":
        baseline = meta["baseline"]
        names = [s["name"] for s in meta["scenarios"]]
        folders = {s["name"]: out / s["folder"] for s in meta["scenarios"]}
    else:
        baseline = meta.get("scenario", run.request.baseline)
        names = [baseline]
        folders = {baseline: out}
    summaries = {n: pd.read_csv(folders[n] / "summary.csv", index_col=0) for n in names}
    daily = {n: pd.read_csv(folders[n] / "daily.csv") for n in names}
    kpis = pd.concat([pd.read_csv(folders[n] / "kpis.csv") for n in names], ignore_index=True)
    effects = _read(out / "effects.csv")
    psa = {p.stem: pd.read_csv(p) for p in sorted((out / "psa").glob("*.csv"))}
    captions = _captions(out / "report.html")
    figures = [
        (p.stem, captions.get(p.stem, p.stem.replace("_", " ")), p)
        for p in sorted((out / "figures").glob("*.png"))
    ]
    return Answer(
        baseline=baseline,
        scenarios=names,
        replications=int(meta.get("replications", 0)),
        period=text.period(int(meta.get("measured_days", 365))),
        effects=effects if effects is not None else pd.DataFrame(),
        comparison=_read(out / "comparison.csv"),
        summaries=summaries,
        daily=daily,
        kpis=kpis,
        psa=psa,
        figures=figures,
        meta=meta,
    )


def interim(run: Run) -> tuple[pd.DataFrame, int] | None:
    """Paired effects from the replications finished so far, and how many pairs.

    None until every compared scenario has two replications paired with the
    baseline's (fewer give no interval).
    """
    from sim.experiment.cache import finished_kpis

    req = run.request
    if not req.compare:
        return None
    # the page asks every second; the answer changes only when a replication finishes,
    # and working it out again each time would take CPU from the run itself
    cache = run.out / ".replications"
    files = tuple(sorted(str(p.relative_to(cache)) for p in cache.glob("*/code-*/rep_*.npz")))
    key = (str(run.folder), files)
    if key in _INTERIM:
        return _INTERIM[key]
    if len(_INTERIM) > 64:
        _INTERIM.clear()
    _INTERIM[key] = found = _interim(run, finished_kpis(cache))
    return found


#: interim effects by run folder and the replication files they were made from
_INTERIM: dict[tuple[str, tuple[str, ...]], tuple[pd.DataFrame, int] | None] = {}


def _interim(run: Run, kpis: pd.DataFrame) -> tuple[pd.DataFrame, int] | None:
    req = run.request
    if kpis.empty:
        return None
    names = [req.baseline, *req.compare]
    kpis = kpis[kpis["scenario"].isin(names)]
    reps = [set(kpis.loc[kpis["scenario"] == n, "replication"]) for n in names]
    paired = set.intersection(*reps) if reps else set()
    if len(paired) < 2:
        return None
    kpis = kpis[kpis["replication"].isin(paired)].reset_index(drop=True)
    return headline(compare(kpis, req.baseline), req.baseline), len(paired)


# --- downloads ---------------------------------------------------------------------------


def tables_zip(run: Run) -> bytes:
    """Every tidy table the run wrote (CSV), in one zip with the folder layout kept."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(run.out.rglob("*.csv")):
            rel = path.relative_to(run.out)
            if not rel.parts[0].startswith("."):
                z.write(path, str(rel))
    return buf.getvalue()


README = """This folder reproduces a run of neighbourhood-sim made in the web app.

scenarios/     the scenario files the run used that are not in the project's
               library (copy them into the project's scenarios/ folder, or
               point NSIM_SCENARIO_PATH at this folder as below)
resolved/      each compared scenario's whole configuration, as the run saw it
command.txt    the command, to run from this folder in an installed checkout
run.json       what ran: configuration hashes, seed, code version

Run with the same code version (run.json: code_version) to get identical tables.
"""


def config_zip(run: Run) -> bytes:
    """The exact configuration: scenario files, resolved configs and the command."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", README)
        z.writestr("command.txt", run.request.command("scenarios") + "\n")
        for path in sorted((run.folder / "scenarios").glob("*.yaml")):
            z.write(path, f"scenarios/{path.name}")
        for path in sorted(run.out.glob("**/config.yaml")):
            if ".hydra" in path.parts:
                continue
            z.write(path, f"resolved/{path.parent.name}.yaml")
        if (run.out / "run.json").is_file():
            z.write(run.out / "run.json", "run.json")
    return buf.getvalue()
