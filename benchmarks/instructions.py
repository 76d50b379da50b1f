"""Instructions per replication, counted by valgrind (steady where timings are not).

This shared machine's wall-clock times swing by half between runs minutes
apart, so a change's cost is judged by the instructions a fixed run executes:
``valgrind --tool=callgrind`` counts them, deterministically with a fixed hash
seed and one BLAS thread. This script runs one replication of a scenario for a
given number of days (no warm-up) in a fresh interpreter under callgrind, and
subtracts a run of the same script that builds the model but simulates nothing,
so imports and set-up are not counted.

    python -m benchmarks.instructions --scenario integrated --days 36.5

prints instructions, events and instructions per event. Compare two code
versions by running it in each one's environment.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

_CHILD = """
import sys
from sim.config import load_config
from sim.model import CareSystemModel
days = float(sys.argv[2])
cfg = load_config(sys.argv[1], [f"run.years={days / 365.0}", "run.warmup_days=0"])
model = CareSystemModel(cfg, 0)
if sys.argv[3] == "run":
    info = model.run()
    print("EVENTS", info.events)
"""


def callgrind(code: str, *args: str, cwd: str | None = None) -> tuple[int, str]:
    """Instructions valgrind's callgrind counts for ``python -c code args``, and the
    program's output (one thread for NumPy, a fixed hash seed: counts repeat)."""
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={tmp}/cg.out",
                sys.executable,
                "-c",
                code,
                *args,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=cwd,
        )
    refs = re.search(r"Collected : (\d+)", out.stderr)
    if refs is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
    return int(refs.group(1)), out.stdout


def count(scenario: str, days: float, run: bool = True) -> tuple[int, int]:
    """(instructions, events) of one run under callgrind (``run`` False: the model
    is built for the same horizon but not run)."""
    n, stdout = callgrind(_CHILD, scenario, str(days), "run" if run else "build")
    events = re.search(r"EVENTS (\d+)", stdout)
    return n, int(events.group(1)) if events else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="integrated")
    ap.add_argument("--days", type=float, default=36.5)
    args = ap.parse_args()
    total, events = count(args.scenario, args.days)
    setup, _ = count(args.scenario, args.days, run=False)
    run = total - setup
    print(
        f"{args.scenario}, {args.days} days: {run / 1e9:.3f} G instructions (run only), "
        f"{events} events, {run / max(events, 1):,.0f} per event"
    )


if __name__ == "__main__":
    main()
