"""Speed and memory of one replication-year, next to a bare SimPy event loop.

Run:  python -m benchmarks.bench_model [--repeats 3] [--out benchmarks/results]
      [--without chc.enabled=false --without discharge.p1_visits.enabled=false]

``--without`` also times the scenario with those overrides, interleaved with
the rest, and reports what the parts they switch off cost per replication-year.

Each measurement runs in a fresh subprocess so peak memory (max RSS) is its own.
Absolute times drift between machines and runs; the ratios measured in the same
run (model cost per event / bare SimPy cost per event) are the figures to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: code defining ``peak_rss_mb()``, for the start of every measured program
PEAK_RSS = r"""
import resource
def peak_rss_mb():
    # VmHWM is this program's own peak: ru_maxrss would include the parent's
    # memory, inherited by the fork that started this process
    try:
        with open("/proc/self/status") as f:
            hwm = [line for line in f if line.startswith("VmHWM:")]
    except OSError:  # not Linux
        hwm = []
    if hwm:
        return int(hwm[0].split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

BARE = (
    PEAK_RSS
    + r"""
import json, time, simpy
N_PROC, N_STEPS = 200, 5000
env = simpy.Environment()
def proc(env):
    for _ in range(N_STEPS):
        yield env.timeout(1.0)
for _ in range(N_PROC):
    env.process(proc(env))
t = time.perf_counter(); env.run(); wall = time.perf_counter() - t
events = N_PROC * N_STEPS
print(json.dumps({"wall": wall, "events": events, "max_rss_mb": peak_rss_mb()}))
"""
)

MODEL = (
    PEAK_RSS
    + r"""
import json, sys, time
from sim.config import load_config
from sim.model import CareSystemModel
cfg = load_config(sys.argv[1], sys.argv[2:])
t = time.perf_counter()
model = CareSystemModel(cfg, 0)
info = model.run()
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "events": info.events, "sim_days": cfg.run.total_days,
                  "max_rss_mb": peak_rss_mb()}))
"""
)


def measure(code: str, *args: object, pure: bool = False) -> dict:
    """Run ``code`` in a fresh Python (so its peak memory is its own); its last
    line of output, as JSON. ``pure``: run the model's Python source even where
    it is compiled (``NSIM_PURE_PYTHON=1``), as on a machine without a compiler."""
    from sim.build_info import PURE_PYTHON

    env = {k: v for k, v in os.environ.items() if k != PURE_PYTHON}
    if pure:
        env[PURE_PYTHON] = "1"
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument(
        "--without",
        action="append",
        default=[],
        help="an override that switches something off; repeat for several",
    )
    args = ap.parse_args(argv)

    rows = []
    without = []
    for i in range(args.repeats):  # interleave so drift hits both alike
        bare = measure(BARE)
        model = measure(MODEL, args.scenario, "run.years=1", "run.warmup_days=0")
        rows.append((bare, model))
        if args.without:
            without.append(
                measure(MODEL, args.scenario, "run.years=1", "run.warmup_days=0", *args.without)
            )
        print(
            f"repeat {i + 1}: model {model['wall']:.2f} s, bare loop {bare['wall']:.2f} s",
            file=sys.stderr,
        )
    med = statistics.median
    bare_us = med(b["wall"] / b["events"] * 1e6 for b, _ in rows)
    model_us = med(m["wall"] / m["events"] * 1e6 for _, m in rows)
    model = rows[0][1]
    result = {
        "scenario": args.scenario,
        "repeats": args.repeats,
        "replication_year_seconds": med(m["wall"] / m["sim_days"] * 365 for _, m in rows),
        "model_events_per_year": model["events"] / model["sim_days"] * 365,
        "model_events_per_second": 1e6 / model_us,
        "bare_simpy_events_per_second": 1e6 / bare_us,
        "cost_per_event_ratio": model_us / bare_us,
        "model_peak_rss_mb": med(m["max_rss_mb"] for _, m in rows),
        "bare_peak_rss_mb": med(b["max_rss_mb"] for b, _ in rows),
    }
    if without:
        year_without = med(m["wall"] / m["sim_days"] * 365 for m in without)
        result["without"] = " ".join(args.without)
        result["replication_year_seconds_without"] = year_without
        result["events_per_year_without"] = without[0]["events"] / without[0]["sim_days"] * 365
        result["time_ratio_with_to_without"] = result["replication_year_seconds"] / year_without
        result["cost_per_event_ratio_without"] = (
            med(m["wall"] / m["events"] * 1e6 for m in without) / bare_us
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.json").write_text(json.dumps(result, indent=2))
    lines = ["| measure | value |", "|---|---|"]
    for k, v in result.items():
        lines.append(f"| {k} | {v:,.3g} |" if isinstance(v, float) else f"| {k} | {v} |")
    (out / "model.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
