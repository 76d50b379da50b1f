"""Probabilistic sensitivity analysis: parameter uncertainty as part of the answer.

A confidence interval from replications says how much a year's results vary by
chance when every parameter is known. The evidence behind many parameters is
weak (case management's effect on crises may be a rise or a fall), so the
answer must also carry what is not known about them. The PSA runs an outer
loop: draw ``uncertainty.draws`` parameter sets from the distributions in
``uncertainty.parameters``, and run each with ``replications_per_draw``
replications.

Pairing is kept at every level. Parameter set *i* is the same in the baseline
and in every scenario, and replication *r* of set *i* runs with the same random
streams in each (model replication ``i * R + r``), so a scenario's difference
from the baseline is taken within a parameter set and a replication.

For every KPI and every paired difference :class:`PsaResult` gives the mean, an
interval from the 2.5% and 97.5% quantiles of all runs (it holds both kinds of
uncertainty) and the shares of the variance due to parameters and to chance (a
one-way random-effects analysis of variance over sets, which needs two or more
replications a set). For the decision: the probability that a scenario avoids
admissions, saves delayed days, saves money (in total and per budget holder),
the cost-effectiveness plane and the acceptability curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config.errors import ConfigError, ConfigProblem
from sim.config.schema import Config
from sim.core.rng import RandomStreams
from sim.experiment.compare import effect_spec
from sim.experiment.parameters import ParameterSpace, apply, unit_sample
from sim.experiment.runner import map_jobs, run_kpis

#: the outcomes whose probability of improving is reported, and the cost lines
#: whose probability of saving money is reported (those in the results)
DECISION_METRICS = (
    "emergency_admissions",
    "bed_days",
    "dtoc_days",
    "ae_attendances",
    "cost_total",
    "cost_nhs",
    "cost_social_care",
)
#: the outcomes the acceptability curve prices, with the config's axis maximum
CEAC_OUTCOMES = {
    "emergency_admissions": "wtp_max_per_admission",
    "bed_days": "wtp_max_per_bed_day",
}
KEYS = ["scenario", "draw", "replication", "model_replication", "seed"]


def _same_uncertainty(cfgs: Sequence[Config]) -> None:
    """Paired sets need one parameter space: every scenario's uncertainty block alike."""
    first = cfgs[0].uncertainty
    for c in cfgs[1:]:
        if c.uncertainty != first:
            raise ConfigError(
                ConfigProblem(
                    "uncertainty",
                    c.name,
                    "the same uncertainty block in every scenario of a PSA "
                    f"(as in {cfgs[0].name!r})",
                    "parameter sets are shared between scenarios so that their differences "
                    "stay paired; set distributions in configs/config.yaml or the same overrides "
                    "for all",
                )
            )


def parameter_sets(cfg: Config, draws: int | None = None) -> tuple[ParameterSpace, pd.DataFrame]:
    """The PSA's parameter sets for ``cfg``: one row per set (``draw``), one column
    per parameter. The same for every scenario that shares the uncertainty block."""
    unc = cfg.uncertainty
    n = unc.draws if draws is None else draws
    space = ParameterSpace.of(cfg)
    unit = unit_sample(space, n, unc.sampler, cfg.run.seed)
    values = space.values(unit)
    table = pd.DataFrame(values, columns=space.keys)
    if unc.sets:
        # whole rows of the given sets (a calibration's plausible sets), each row
        # used as equally often as n allows, in an order from a stream of its own
        rows = np.asarray(unc.sets.rows, dtype=float)
        rng = RandomStreams(cfg.run.seed, 0).get("psa.sets")
        # whole shuffled passes over the rows, cut at n: no row is used twice
        # before every row is used once
        passes = -(-n // len(rows))
        pick = np.concatenate([rng.permutation(len(rows)) for _ in range(passes)])[:n]
        for k, col in enumerate(unc.sets.columns):
            table[col] = rows[pick, k]
    table.insert(0, "draw", np.arange(n))
    return space, table


@dataclass
class PsaResult:
    """Everything a PSA produced, and the summaries drawn from it."""

    baseline: str | None
    space: ParameterSpace
    parameters: pd.DataFrame  # draw + one column per parameter
    runs: pd.DataFrame  # KEYS + every KPI, one row per run
    configs: dict[str, Config] = field(repr=False)
    replications_per_draw: int = 1

    @property
    def scenarios(self) -> list[str]:
        return list(self.configs)

    @property
    def metrics(self) -> list[str]:
        return [c for c in self.runs.columns if c not in KEYS and self.runs[c].dtype.kind in "fiub"]

    # ---------------------------------------------------------------- tables
    def differences(self) -> pd.DataFrame:
        """Paired differences from the baseline (scenario minus baseline), one row
        per scenario, set and replication."""
        if self.baseline is None:
            raise ValueError("no baseline: a PSA of one configuration has no differences")
        idx = ["draw", "replication"]
        base = self.runs[self.runs["scenario"] == self.baseline].set_index(idx)
        frames = []
        for scen in self.scenarios:
            if scen == self.baseline:
                continue
            x = self.runs[self.runs["scenario"] == scen].set_index(idx)
            d = x[self.metrics] - base.loc[x.index, self.metrics]
            d.insert(0, "scenario", scen)
            frames.append(d.reset_index())
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def summary(self) -> pd.DataFrame:
        """Per scenario and KPI: mean, 95% interval over all runs (parameters and
        chance together), the variance and the shares due to each."""
        return _summarise(self.runs, self.metrics, self.replications_per_draw)

    def effects(self) -> pd.DataFrame:
        """As :meth:`summary`, for the paired differences from the baseline, with
        the probability that the scenario improves each metric (over parameter
        sets: the share of sets whose mean difference is a benefit)."""
        diffs = self.differences()
        out = _summarise(diffs, self.metrics, self.replications_per_draw)
        if out.empty:
            return out.assign(p_increase=[], p_decrease=[], p_improves=[], no_change=[])
        means = diffs.groupby(["scenario", "draw"])[self.metrics].mean()
        ups, downs = [], []
        for scen, metric in zip(out["scenario"], out["metric"], strict=True):
            col = means.loc[str(scen)][str(metric)].to_numpy(dtype=float)
            col = col[~np.isnan(col)]
            ups.append(float(np.mean(col > 0)) if len(col) else np.nan)
            downs.append(float(np.mean(col < 0)) if len(col) else np.nan)
        out["p_increase"], out["p_decrease"] = ups, downs
        out["p_improves"] = [
            up if effect_spec(str(m)).sign > 0 else down
            for m, up, down in zip(out["metric"], ups, downs, strict=True)
        ]
        # a metric the scenario never changes (a budget it does not touch) has no
        # probability of improving: it is flagged, not reported as 0%
        out["no_change"] = [
            bool((diffs.loc[diffs["scenario"] == s, m].dropna() == 0).all())
            for s, m in zip(out["scenario"], out["metric"], strict=True)
        ]
        return out

    def headline(self) -> pd.DataFrame:
        """The headline effects stated as benefits, in the columns of
        :func:`sim.experiment.compare.headline` (so the same tables and sentences
        show them): the interval is the 2.5%-97.5% range over parameter sets and
        replications, ``p_improves`` the share of parameter sets with a benefit."""
        from sim.experiment.compare import headline
        from sim.outputs import schema

        eff = self.effects()
        base_mean = {
            str(r["metric"]): float(r["mean"])
            for r in self.summary().to_dict("records")
            if r["scenario"] == self.baseline
        }
        base = eff["metric"].map(base_mean)
        relative = [
            d / b if b > 0 and schema.non_negative(str(m)) else np.nan
            for m, d, b in zip(eff["metric"], eff["mean"], base, strict=True)
        ]
        # the PSA's effects in the columns of a paired comparison, so that the
        # comparison's one rule states them as benefits
        comparison = pd.DataFrame(
            {
                "scenario": eff["scenario"],
                "metric": eff["metric"],
                "n": eff["runs"],
                "baseline_mean": base,
                "diff_mean": eff["mean"],
                "diff_ci_low": eff["low"],
                "diff_ci_high": eff["high"],
                "relative_change": relative,
                "p_increase": eff["p_increase"],
                "p_decrease": eff["p_decrease"],
            }
        )
        out = headline(comparison, str(self.baseline))
        if out.empty:
            return out
        share = eff.set_index(["scenario", "metric"])["share_parameters"]
        keys = pd.MultiIndex.from_frame(out[["scenario", "metric"]])
        out["share_parameters"] = share.reindex(keys).to_numpy()
        return out

    def decision(self) -> pd.DataFrame:
        """Per scenario: the probability of avoiding admissions, saving bed days and
        delayed days, and saving money in total and per budget holder."""
        eff = self.effects()
        wanted = [m for m in self.metrics if m in DECISION_METRICS or _is_holder_cost(m)]
        eff = eff[eff["metric"].isin(wanted)]
        cols = ["scenario", "metric", "mean", "low", "high", "p_improves", "no_change"]
        return eff[cols].reset_index(drop=True)

    def plane(self) -> pd.DataFrame:
        """The cost-effectiveness plane: per scenario and parameter set, the mean
        change in total cost and the mean benefit (admissions avoided, bed days
        saved, delayed days saved)."""
        diffs = self.differences()
        cols = [
            c for c in ("cost_total", "emergency_admissions", "bed_days", "dtoc_days") if c in diffs
        ]
        m = diffs.groupby(["scenario", "draw"])[cols].mean().reset_index()
        out = pd.DataFrame({"scenario": m["scenario"], "draw": m["draw"]})
        if "cost_total" in m:
            out["cost_change"] = m["cost_total"]
        names = {
            "emergency_admissions": "admissions_avoided",
            "bed_days": "bed_days_saved",
            "dtoc_days": "delayed_days_saved",
        }
        for c, name in names.items():
            if c in m:
                out[name] = -m[c]
        return out

    def ceac(self, points: int = 51) -> pd.DataFrame:
        """Cost-effectiveness acceptability: for each willingness to pay per unit of
        benefit (GBP per admission avoided, per bed day saved), the probability
        over parameter sets that the scenario's net benefit is positive
        (``wtp * benefit - cost change > 0``)."""
        plane = self.plane()
        unc = next(iter(self.configs.values())).uncertainty
        rows = []
        for outcome, attr in CEAC_OUTCOMES.items():
            name = "admissions_avoided" if outcome == "emergency_admissions" else "bed_days_saved"
            if name not in plane or "cost_change" not in plane:
                continue
            grid = np.linspace(0.0, float(getattr(unc, attr)), points)
            for scen, df in plane.groupby("scenario", sort=False):
                b = df[name].to_numpy(dtype=float)
                c = df["cost_change"].to_numpy(dtype=float)
                for w in grid:
                    rows.append((scen, outcome, float(w), float(np.mean(w * b - c > 0))))
        return pd.DataFrame(rows, columns=["scenario", "outcome", "wtp", "p_cost_effective"])

    def distributions(self) -> pd.DataFrame:
        """The uncertain parameters (as :meth:`ParameterSpace.table`) and what the
        PSA drew each from: its distribution, or the given parameter sets."""
        cfg = next(iter(self.configs.values()))
        sets = cfg.uncertainty.sets
        table = pd.DataFrame(self.space.table())
        from_sets = set(sets.columns) if sets else set()
        table["drawn_from"] = [
            "parameter sets" if k in from_sets else "distribution" for k in table["parameter"]
        ]
        extra = [k for k in sets.columns if k not in set(table["parameter"])] if sets else []
        if extra:
            rows = pd.DataFrame({"parameter": extra, "drawn_from": "parameter sets"})
            table = pd.concat([table, rows], ignore_index=True)
        return table

    def gridlock(self) -> pd.DataFrame:
        """Parameter sets in which a scenario's hospital is gridlocked (queues for
        beds or discharge growing without bound, or most admissions turned away):
        scenario, draw, why. Effects in those sets say more about the mismatch of
        beds and demand than about the scenario."""
        from sim.experiment.checks import gridlocked

        days = next(iter(self.configs.values())).run.measured_days
        rows = []
        for (scen, draw), g in self.runs.groupby(["scenario", "draw"], sort=False):
            why = gridlocked(g, days)
            if why:
                rows.append({"scenario": scen, "draw": draw, "why": why})
        return pd.DataFrame(rows, columns=["scenario", "draw", "why"])

    def warnings(self) -> list[str]:
        """What a reader of the PSA must be told (gridlocked parameter sets)."""
        grid = self.gridlock()
        n = self.parameters.shape[0]
        out = []
        for scen, g in grid.groupby("scenario", sort=False):
            out.append(
                f"{scen}: the hospital is gridlocked in {len(g)} of {n} parameter sets "
                f"(e.g. set {int(g['draw'].iloc[0])}: {g['why'].iloc[0]}); effects there "
                "reflect beds too few for the drawn demand. Check the distributions of "
                "demand and stay, or calibrate the borough"
            )
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every tidy table of the PSA, by file stem."""
        out = {
            "psa_parameters": self.parameters,
            "psa_runs": self.runs,
            "psa_summary": self.summary(),
            "psa_distributions": self.distributions(),
            "psa_gridlock": self.gridlock(),
        }
        if self.baseline is not None and len(self.configs) > 1:
            out["psa_effects"] = self.effects()
            out["psa_headline"] = self.headline()
            out["psa_decision"] = self.decision()
            out["psa_plane"] = self.plane()
            out["psa_ceac"] = self.ceac()
        return out


def _is_holder_cost(metric: str) -> bool:
    """A cost per budget holder or budget (not per cost line)."""
    from sim.outputs.costs import HOLDERS

    return metric in {f"cost_{h}" for h in HOLDERS} | {"cost_pooled", "cost_aligned"}


def _summarise(df: pd.DataFrame, metrics: list[str], reps: int) -> pd.DataFrame:
    """Mean, 2.5%/97.5% quantiles over runs, and the variance split per scenario and
    metric (one-way random-effects ANOVA over parameter sets)."""
    rows = []
    for scen, g in df.groupby("scenario", sort=False):
        for m in metrics:
            y = g[["draw", m]].dropna()
            if y.empty:
                continue
            vals = y[m].to_numpy(dtype=float)
            total = float(np.var(vals, ddof=1)) if len(vals) > 1 else np.nan
            by = y.groupby("draw")[m]
            sizes = by.size().to_numpy(dtype=float)
            if reps >= 2 and len(sizes) > 1 and (sizes >= 2).any():
                # one-way random-effects ANOVA by mean squares, for sets with
                # unequal numbers of runs (a KPI missing in some runs)
                n_tot, k = sizes.sum(), len(sizes)
                means = by.mean().to_numpy(dtype=float)
                grand = float(np.mean(vals))
                ms_between = float((sizes * (means - grand) ** 2).sum() / (k - 1))
                dev = y[m].to_numpy(dtype=float) - y["draw"].map(by.mean()).to_numpy(dtype=float)
                within = float((dev**2).sum() / (n_tot - k)) if n_tot > k else np.nan
                n0 = (n_tot - (sizes**2).sum() / n_tot) / (k - 1)
                param = max(0.0, (ms_between - within) / n0)
                denom = param + within
                share_p = param / denom if denom > 0 else np.nan
                share_s = within / denom if denom > 0 else np.nan
            else:
                share_p = share_s = np.nan
            rows.append(
                {
                    "scenario": scen,
                    "metric": m,
                    "runs": len(vals),
                    "mean": float(np.mean(vals)),
                    "low": float(np.quantile(vals, 0.025)),
                    "high": float(np.quantile(vals, 0.975)),
                    "sd": float(np.sqrt(total)) if total == total else np.nan,
                    "share_parameters": share_p,
                    "share_stochastic": share_s,
                }
            )
    return pd.DataFrame(rows)


def run_psa(
    cfgs: Sequence[Config],
    baseline: str | None = None,
    draws: int | None = None,
    replications_per_draw: int | None = None,
    n_jobs: int = 1,
    backend: str = "loky",
    progress: bool | None = None,
) -> PsaResult:
    """Run the PSA of one or more scenarios that share a parameter space.

    Args:
        cfgs: Validated configurations with distinct names and the same
            ``uncertainty`` block and seed.
        baseline: Name of the scenario the others are compared with (differences,
            probabilities, plane, acceptability); None for one configuration.
        draws: Parameter sets (default ``uncertainty.draws``).
        replications_per_draw: Replications per set (default
            ``uncertainty.replications_per_draw``).
        n_jobs: Worker processes (1 = here; -1 = one per core). Results are
            identical whatever it is.
        backend: "loky" or "dask" (see :func:`sim.experiment.runner.map_jobs`).
        progress: Show a progress bar.

    Every parameter set is applied to every scenario and validated before the
    first run, so a set the model cannot take stops the PSA before it starts.
    """
    cfgs = list(cfgs)
    if not cfgs:
        raise ValueError("no configuration to run")
    names = [c.name for c in cfgs]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must be distinct: {names}")
    if baseline is not None and baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not among the scenarios {names}")
    if len({c.run.seed for c in cfgs}) > 1:
        raise ValueError("every scenario of a PSA needs the same run.seed (paired runs)")
    _same_uncertainty(cfgs)
    reps = cfgs[0].uncertainty.replications_per_draw
    reps = reps if replications_per_draw is None else replications_per_draw
    if reps < 1:
        raise ValueError("replications_per_draw must be >= 1")
    space, table = parameter_sets(cfgs[0], draws)
    jobs: list[tuple[Config, int]] = []
    keys = [c for c in table.columns if c != "draw"]
    for i, values in enumerate(table[keys].to_numpy(dtype=float)):
        row = dict(zip(keys, values.tolist(), strict=True))
        for cfg in cfgs:
            ci = apply(cfg, row, f"parameter set {i} of the PSA of {cfg.name!r}")
            for r in range(reps):
                jobs.append((ci, i * reps + r))
    rows: list[dict[str, Any]] = []
    desc = f"PSA, {len(cfgs)} scenario(s)"
    for name, rep, kpis in map_jobs(run_kpis, jobs, n_jobs, backend, progress, desc):
        i = rep // reps  # set i ran model replications i * R ... i * R + R - 1
        rows.append(
            {
                "scenario": name,
                "draw": i,
                "replication": rep - i * reps,
                "model_replication": rep,
                "seed": cfgs[0].run.seed,
                **kpis,
            }
        )
    # rows (and so columns, in order of first appearance) in a fixed order, not
    # the order runs finished in: the same table from every backend
    order = {n: k for k, n in enumerate(names)}
    rows.sort(key=lambda r: (order[r["scenario"]], r["draw"], r["replication"]))
    runs = pd.DataFrame(rows)
    return PsaResult(baseline, space, table, runs, {c.name: c for c in cfgs}, reps)
