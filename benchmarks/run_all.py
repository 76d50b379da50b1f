"""All six performance measurements in one command, as Markdown and CSV.

Run:  python -m benchmarks.run_all [--repeats 3] [--reps 8] [--out benchmarks/results]

1. One replication-year of ``integrated`` (median of repeats), seconds: the model
   as installed (compiled by mypyc where a C compiler was found) and, for
   reference, its Python source (``NSIM_PURE_PYTHON=1``).
2. Model cost per SimPy event / bare SimPy loop cost per event, same run.
3. Against Ciw on the same queueing network with blocking after service (acute
   beds feeding a downstream service with no waiting room): wall-time ratio and
   the answers side by side. Each side is timed for the same work: simulating
   and reading the three answers (our full KPI table and daily tables are timed
   as well, separately). For reference, the same network written the usual way
   in plain SimPy (``simpy.Resource``, a process per patient) is timed too.
4. Scaling with registered population and horizon (1x, 2x, 4x), and memory with
   1 million registered residents (peak RSS of the process and tracemalloc peak
   of the model run itself).
5. Speed-up of two workers over one on replications.
6. 8 scenarios x N replications x 1 year on all cores (``--reps``), with the time
   projected to 50 replications.

Every figure that compares two things is a ratio measured in the same run;
absolute times drift between machines. Needs the ``benchmark`` extra (Ciw).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_model import BARE, PEAK_RSS, measure

ONE_MODEL = (
    PEAK_RSS
    + r"""
import json, sys, time, tracemalloc
from sim.config.loading import compose_dict, from_mapping
from sim.model import CareSystemModel
scenario, scale, years = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
# argv[4]: "trace" to measure the model's own allocations; argv[5:]: overrides
trace = len(sys.argv) > 4 and sys.argv[4] == "trace"
data = compose_dict(scenario, [f"run.years={years}", "run.warmup_days=0", *sys.argv[5:]])
# a borough `scale` times the size: people, and every capacity that serves them
for nb in data["population"]["neighbourhoods"]:
    nb["registered"] = int(nb["registered"] * scale)
data["beds"]["acute"] = round(data["beds"]["acute"] * scale)
for key in ("triage_rota", "clinician_rota", "clinician_rota_weekend"):
    if data["ae"].get(key):
        data["ae"][key] = [round(n * scale) for n in data["ae"][key]]
d = data["discharge"]
d["assessment"]["staff"] = round(d["assessment"]["staff"] * scale)
for svc in ("reablement", "intermediate_care", "care_home"):
    d[svc]["capacity"] = round(d[svc]["capacity"] * scale)
d["p1_visits"]["visits_per_day"] = round(d["p1_visits"]["visits_per_day"] * scale)
data["chc"]["standard"]["staff"] = max(1, round(data["chc"]["standard"]["staff"] * scale))
# services sized per head (same-day slots, virtual beds) scale themselves; a team's rota not
ucr = data.get("urgent_community_response") or {}
for key in ("rota", "rota_weekend"):
    if ucr.get(key):
        ucr[key] = [round(n * scale) for n in ucr[key]]
cfg = from_mapping(data)
rss_imports = peak_rss_mb()
if trace:
    tracemalloc.start()
t = time.perf_counter()
info = CareSystemModel(cfg, 0).run()
wall = time.perf_counter() - t
peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
from sim import build_info
print(json.dumps({"wall": wall, "events": info.events, "traced_mb": peak,
                  "rss_mb": peak_rss_mb(),
                  "rss_imports_mb": rss_imports, "compiled": build_info.compiled()}))
"""
)

# --------------------------------------------------------------------------- Ciw
BLOCKING = dict(
    arrivals_per_day=8.0, beds=12, stay_days=1.0, places=6, place_days=0.6, days=2000, warmup=100
)


def _blocking_overrides(b: dict) -> list[str]:
    every = "{days: [Mon, Tue, Wed, Thu, Fri, Sat, Sun], start_hour: 0, end_hour: 24}"
    all_p1 = "{p0: 0, p1: 1, p2: 0, p3: 0}"
    return [
        "demand.mode=direct_admissions",
        f"demand.direct_admissions_per_day={b['arrivals_per_day']}",
        "demand.time_varying=false",
        "community.enabled=false",
        "ae.enabled=false",
        "readmission.enabled=false",
        f"beds.acute={b['beds']}",
        "acute.los_distribution=exponential",
        "acute.los_mean_days={age_0_64: %g, age_65_74: %g, age_75_84: %g, age_85_plus: %g}"
        % ((b["stay_days"],) * 4),
        "acute.los_frailty_multiplier={fit: 1, mild: 1, moderate: 1, severe: 1}",
        "acute.death_probability={age_0_64: 0, age_65_74: 0, age_75_84: 0, age_85_plus: 0}",
        *(
            f"discharge.pathways.{g}={all_p1}"
            for g in ("under_65", "fit", "mild", "moderate", "severe", "care_home")
        ),
        f"discharge.review={every}",
        f"discharge.calendar={every}",
        f"discharge.assessment.calendar={every}",
        "discharge.assessment.staff=1000",
        "discharge.assessment.duration_hours={mean: 0, distribution: fixed}",
        "discharge.p1_visits.enabled=false",  # a queue of places (Erlang C)
        "chc.enabled=false",
        f"discharge.reablement.capacity={b['places']}",
        f"discharge.reablement.stay_days={{mean: {b['place_days']}, distribution: exponential}}",
        f"discharge.reablement.admits={every}",
        "discharge.reablement.initial_occupancy=0",
        "discharge.reablement.arrange_days.mean=0",
        "discharge.reablement.attribution=social_care",
        *(
            f"discharge.other_delays.{cause}.share.p1=0"
            for cause in (
                "public_funding",
                "community_equipment_and_adaptations",
                "patient_or_family_choice",
                "disputes",
                "housing",
            )
        ),
        f"run.years={(b['days'] - b['warmup']) / 365}",
        f"run.warmup_days={b['warmup']}",
    ]


#: our model of the blocking network, ``reps`` replications in one process: the
#: model run and the three answers read from its recorder (the work Ciw does:
#: simulate, then read the records), and separately the full outputs a user gets
OURS_BLOCKING = r"""
import json, sys, time
from benchmarks.run_all import BLOCKING, _blocking_overrides
from sim import build_info
from sim.config import load_config
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
from sim.outputs.tables import daily_frame, neighbourhood_frame
b, reps = BLOCKING, int(sys.argv[1])
cfg = load_config("baseline", _blocking_overrides(b))
lo, hi = b["warmup"], b["days"]
answers = {"mean_beds_occupied": [], "mean_blocked": [], "throughput_per_day": []}
outputs = 0.0
t = time.perf_counter()
for r in range(reps):
    model = CareSystemModel(cfg, r)
    info = model.run()
    rec = model.recorder
    _, area, _ = rec.census()
    col = {n: i for i, n in enumerate(rec.level_names)}
    hours = (hi - lo) * 24.0
    answers["mean_beds_occupied"].append(
        (area[hi, col["beds_occupied"]] - area[lo, col["beds_occupied"]]) / hours)
    answers["mean_blocked"].append((area[hi, col["delayed"]] - area[lo, col["delayed"]]) / hours)
    answers["throughput_per_day"].append(
        float(rec.counters["bed_admissions"].array()[lo:hi].sum()) / (hi - lo))
    t_out = time.perf_counter()
    kpis = compute_kpis(model, info)
    daily_frame(model), neighbourhood_frame(model)
    outputs += time.perf_counter() - t_out
    # the answers are the model's own KPIs
    assert abs(kpis["mean_beds_occupied"] - answers["mean_beds_occupied"][-1]) < 1e-9
    assert abs(kpis["mean_delayed_patients"] - answers["mean_blocked"][-1]) < 1e-9
wall = time.perf_counter() - t - outputs
print(json.dumps({"wall": wall, "outputs": outputs, "answers": answers,
                  "compiled": build_info.compiled()}))
"""


def ours_blocking(reps: int, pure: bool = False) -> tuple[float, float, dict[str, list[float]]]:
    """Seconds for ``reps`` replications (model and answers), seconds more for the
    full outputs, and the answers."""
    m = measure(OURS_BLOCKING, reps, pure=pure)
    return m["wall"], m["outputs"], m["answers"]


def ciw_blocking(b: dict, reps: int) -> tuple[float, dict[str, list[float]]]:
    import ciw

    lam, mu1, mu2 = b["arrivals_per_day"], 1 / b["stay_days"], 1 / b["place_days"]
    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam), None],
        service_distributions=[ciw.dists.Exponential(rate=mu1), ciw.dists.Exponential(rate=mu2)],
        routing=[[0.0, 1.0], [0.0, 0.0]],
        number_of_servers=[b["beds"], b["places"]],
        queue_capacities=[float("inf"), 0],
    )
    lo, hi = b["warmup"], b["days"]
    occ, blocked, through = [], [], []
    t = time.perf_counter()
    for r in range(reps):
        ciw.seed(r)
        q = ciw.Simulation(net)
        q.simulate_until_max_time(hi)
        recs = [x for x in q.get_all_records() if x.node == 1]
        busy = sum(max(0.0, min(x.exit_date, hi) - max(x.service_start_date, lo)) for x in recs)
        blk = sum(max(0.0, min(x.exit_date, hi) - max(x.service_end_date, lo)) for x in recs)
        occ.append(busy / (hi - lo))
        blocked.append(blk / (hi - lo))
        through.append(sum(1 for x in recs if lo <= x.service_start_date < hi) / (hi - lo))
    wall = time.perf_counter() - t
    return wall, {"mean_beds_occupied": occ, "mean_blocked": blocked, "throughput_per_day": through}


def _plain_simpy_rep(b: dict, seed: int) -> tuple[float, float, float]:
    """One replication of the network written the usual way in SimPy:
    ``simpy.Resource`` for beds and places, one process per patient, who holds
    the bed until a place is granted. Returns occupancy, blocked, throughput."""
    import random

    import simpy

    lo, hi = b["warmup"], b["days"]
    rnd = random.Random(seed)
    env = simpy.Environment()
    beds, places = simpy.Resource(env, b["beds"]), simpy.Resource(env, b["places"])
    stays: list[list[float]] = []  # per patient: bed start, fit, bed end

    def patient(rec: list[float]) -> Generator[simpy.Event, Any, None]:
        bed = beds.request()
        yield bed
        rec[0] = env.now
        yield env.timeout(rnd.expovariate(1 / b["stay_days"]))
        rec[1] = env.now
        place = places.request()
        yield place
        rec[2] = env.now
        beds.release(bed)
        yield env.timeout(rnd.expovariate(1 / b["place_days"]))
        places.release(place)

    def arrivals() -> Generator[simpy.Event, Any, None]:
        while True:
            yield env.timeout(rnd.expovariate(b["arrivals_per_day"]))
            rec = [hi, hi, hi]  # times not reached by the end count up to it
            stays.append(rec)
            env.process(patient(rec))

    env.process(arrivals())
    env.run(until=hi)
    start, fit, end = np.array(stays).T
    busy = np.clip(end - np.maximum(start, lo), 0, None).sum()
    blocked = np.clip(end - np.maximum(fit, lo), 0, None).sum()
    through = np.count_nonzero((start >= lo) & (start < hi))
    return busy / (hi - lo), blocked / (hi - lo), through / (hi - lo)


def simpy_blocking(b: dict, reps: int) -> tuple[float, dict[str, list[float]]]:
    """The same network in plain SimPy: a reference for what SimPy itself costs."""
    t = time.perf_counter()
    res = [_plain_simpy_rep(b, r) for r in range(reps)]
    wall = time.perf_counter() - t
    occ, blocked, through = (list(col) for col in zip(*res, strict=True))
    return wall, {"mean_beds_occupied": occ, "mean_blocked": blocked, "throughput_per_day": through}


def _mean_ci(values: list[float]) -> str:
    """Mean +/- half-width of its 95% confidence interval over replications."""
    from sim.experiment.stats import mean_ci

    mean, _, lo, hi = mean_ci(np.asarray(values))
    return f"{mean:.3f} +/- {(hi - lo) / 2:.3f}"


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--reps", type=int, default=8, help="replications per scenario in (6)")
    ap.add_argument("--parallel-reps", type=int, default=8, help="replication-years timed in (5)")
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args(argv)
    rows: list[tuple[str, str, str]] = []
    med = statistics.median

    # 1 + 2: integrated replication-year, interleaved with the bare loop; the
    # model as installed (compiled where a compiler was found) and its Python source
    runs = [
        (
            measure(ONE_MODEL, "integrated", 1, 1),
            measure(BARE),
            measure(ONE_MODEL, "integrated", 1, 1, pure=True),
        )
        for _ in range(args.repeats)
    ]
    build = "compiled" if runs[0][0]["compiled"] else "pure Python (not compiled)"
    year_s = med(m["wall"] for m, _, _ in runs)
    pure_s = med(p["wall"] for _, _, p in runs)
    ratio = med((m["wall"] / m["events"]) / (b["wall"] / b["events"]) for m, b, _ in runs)
    pure_ratio = med((p["wall"] / p["events"]) / (b["wall"] / b["events"]) for _, b, p in runs)
    rows += [
        ("1", f"integrated, one replication-year, {build} (median, s)", f"{year_s:.2f}"),
        ("1", "  the same, pure Python (median, s)", f"{pure_s:.2f}"),
        ("2", "model cost per event / bare SimPy cost per event", f"{ratio:.2f}"),
        ("2", "  the same, pure Python", f"{pure_ratio:.2f}"),
    ]
    print(rows[-4:], file=sys.stderr)

    # 3: Ciw on the same blocking network
    b = BLOCKING
    ours_wall, ours_outputs, ours = ours_blocking(10)
    pure_wall, _, _ = ours_blocking(10, pure=True)
    ciw_wall, theirs = ciw_blocking(b, 10)
    plain_wall, plain = simpy_blocking(b, 10)
    rows += [
        ("3", "Ciw wall time / ours (blocking network, 10 reps)", f"{ciw_wall / ours_wall:.2f}"),
        (
            "3",
            "  Ciw / ours with our full outputs too (KPI table, daily tables)",
            f"{ciw_wall / (ours_wall + ours_outputs):.2f}",
        ),
        ("3", "  Ciw / ours in pure Python", f"{ciw_wall / pure_wall:.2f}"),
        (
            "3",
            "  Ciw / a plain SimPy model of the same network (reference)",
            f"{ciw_wall / plain_wall:.2f}",
        ),
    ]
    for key in ours:
        rows.append(
            (
                "3",
                f"  {key} (95% CI): ours / Ciw / plain SimPy",
                " / ".join(_mean_ci(v[key]) for v in (ours, theirs, plain)),
            )
        )
    print(rows[-7:], file=sys.stderr)

    # 4: scaling and memory; each ratio is the median over repeats of a ratio
    # measured back to back, so drift between repeats cancels. Horizons are whole
    # years: demand is seasonal, so half a year from April is the quiet half
    def scaling_ratio(scale: float, years: float, base_years: float) -> float:
        ratios = []
        for _ in range(args.repeats):
            base = measure(ONE_MODEL, "baseline", 1, base_years)["wall"]
            ratios.append(measure(ONE_MODEL, "baseline", scale, years)["wall"] / base)
        return med(ratios)

    for f in (2, 4):
        ratio = scaling_ratio(f, 0.5, 0.5)
        rows.append(("4", f"time at {f}x population / 1x (half a year)", f"{ratio:.2f}"))
    for f in (2, 4):
        rows.append(("4", f"time at {f}x horizon / 1x (1 year)", f"{scaling_ratio(1, f, 1):.2f}"))
    from sim.config import load_config

    registered = sum(nb.registered for nb in load_config("baseline").population.neighbourhoods)
    big = 1_000_000 / registered
    mem = measure(ONE_MODEL, "baseline", big, 1.0, "trace")
    rows.append(("4", "1M residents: model run tracemalloc peak (MB)", f"{mem['traced_mb']:.0f}"))
    # peak RSS from a run without tracemalloc, whose own bookkeeping is large
    rss = measure(ONE_MODEL, "baseline", big, 1.0)
    rows.append(("4", "1M residents: process peak RSS (MB)", f"{rss['rss_mb']:.0f}"))
    rows.append(
        ("4", "  of which after imports, before the model (MB)", f"{rss['rss_imports_mb']:.0f}")
    )
    print(rows[-7:], file=sys.stderr)

    # 5: two workers vs one
    from sim.experiment.runner import run_many

    n5 = args.parallel_reps
    cfg = load_config("baseline", [f"run.replications={n5}", "compare=[]"])
    speedups, same = [], True
    # this machine's two cores are shared: more repeats than elsewhere
    for _ in range(max(5, args.repeats)):
        t = time.perf_counter()
        serial = run_many([cfg], n_jobs=1, progress=False)
        one = time.perf_counter() - t
        t = time.perf_counter()
        parallel = run_many([cfg], n_jobs=2, progress=False)
        two = time.perf_counter() - t
        (ser,), (par,) = serial.values(), parallel.values()
        same = same and ser.kpis.equals(par.kpis) and ser.daily.equals(par.daily)
        speedups.append(one / two)
    rows.append(
        (
            "5",
            f"speed-up, 2 workers over 1 ({n5} replication-years, median)",
            f"{med(speedups):.2f}",
        )
    )
    rows.append(("5", "  serial and parallel results identical", "yes" if same else "NO"))
    print(rows[-2:], file=sys.stderr)

    # 6: 8 scenarios x N replications x 1 year
    from sim.config import available_scenarios

    names = [s for s in available_scenarios() if s != "phased_rollout"][:8]
    cfgs = [load_config(s, [f"run.replications={args.reps}", "compare=[]"]) for s in names]
    t = time.perf_counter()
    run_many(cfgs, n_jobs=-1, progress=False)
    wall = time.perf_counter() - t
    rows.append(("6", f"8 scenarios x {args.reps} reps x 1 year, all cores (s)", f"{wall:.0f}"))
    rows.append(("6", "  projected to 50 replications (s)", f"{wall * 50 / args.reps:.0f}"))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = ["| # | measure | value |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    (out / "all.md").write_text("\n".join(md) + "\n")
    (out / "all.csv").write_text(
        "id,measure,value\n" + "\n".join(f'{a},"{b.strip()}","{c}"' for a, b, c in rows) + "\n"
    )
    print("\n".join(md))


if __name__ == "__main__":
    main()
