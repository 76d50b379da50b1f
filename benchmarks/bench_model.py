"""Speed and memory of one replication-year, next to a bare SimPy event loop.

Run:  python -m benchmarks.bench_model [--repeats 3] [--out benchmarks/results]

Each measurement runs in a fresh subprocess so peak memory (max RSS) is its own.
Absolute times drift between machines and runs; the ratios measured in the same
run (model cost per event / bare SimPy cost per event) are the figures to quote.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

BARE = r"""
import json, resource, time, simpy
N_PROC, N_STEPS = 200, 5000
env = simpy.Environment()
def proc(env):
    for _ in range(N_STEPS):
        yield env.timeout(1.0)
for _ in range(N_PROC):
    env.process(proc(env))
t = time.perf_counter(); env.run(); wall = time.perf_counter() - t
events = N_PROC * N_STEPS
print(json.dumps({"wall": wall, "events": events,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MODEL = r"""
import json, resource, sys, time
from sim.config import load_config
from sim.model import CareSystemModel
cfg = load_config(sys.argv[1], sys.argv[2:])
t = time.perf_counter()
model = CareSystemModel(cfg, 0)
info = model.run()
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "events": info.events, "sim_days": cfg.run.total_days,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _measure(code: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args(argv)

    rows = []
    for i in range(args.repeats):  # interleave so drift hits both alike
        bare = _measure(BARE)
        model = _measure(MODEL, args.scenario, "run.years=1", "run.warmup_days=0")
        rows.append((bare, model))
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
