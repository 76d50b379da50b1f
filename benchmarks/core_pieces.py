"""What each custom piece of the simulation core buys, measured by taking it out.

Run:  python -m benchmarks.core_pieces [--repeats 5] [--callgrind-days 36.5]
          [--only NAME ...] [--head] [--work /tmp/nsim-pieces]

The core (``sim/core``) replaces parts of SimPy with its own code where that
was found to be faster. To check that each such part still earns its place,
every file in ``benchmarks/core_pieces/`` is a patch that swaps one part for
its plain-SimPy equivalent (or, for the A&E queues, for the event-driven model
they stand in for). Each patch applies to the commit named in
``benchmarks/core_pieces/BASE``, the last one that had every piece; later
commits removed the parts that did not pay, so the patches are not meant to
apply to them.

For the base and each variant this script extracts that commit into a folder
of its own (``git archive``), applies the patch, compiles it in place with
mypyc, and then, in fresh processes and interleaved so that a slow moment on
a shared machine hits every variant alike:

* times one replication-year of ``integrated`` (no warm-up), compiled and as
  pure Python (``NSIM_PURE_PYTHON=1``), ``--repeats`` times, with a bare SimPy
  loop timed in the same round for the cost-per-event ratio;
* checks the variant's KPIs against the base's (``same results``);
* optionally counts instructions with valgrind (``--callgrind-days``: the
  first that many days of the run, the model's construction left out), the
  steady measure on a machine whose timings swing: the count is the same, to
  the instruction, from one run to the next.

``--head`` adds the current checkout (``git archive HEAD``) as one more
column, for a before/after comparison in the same run. The table goes to
``benchmarks/results/core_pieces.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.bench_model import BARE

ROOT = Path(__file__).resolve().parents[1]
PATCHES = ROOT / "benchmarks" / "core_pieces"

#: one replication of ``integrated``: argv is years, then "run", or "count" to
#: have valgrind count the instructions of the run alone (it runs the program
#: uninstrumented until this asks callgrind_control to start, just before the run)
YEAR = r"""
import hashlib, json, os, subprocess, sys, time
from sim import build_info
from sim.config.loading import compose_dict, from_mapping
from sim.model import CareSystemModel
from sim.outputs.kpis import compute_kpis
cfg = from_mapping(compose_dict("integrated", [f"run.years={sys.argv[1]}", "run.warmup_days=0"]))
model = CareSystemModel(cfg, 0)
count = sys.argv[2] == "count"
def instrument(on):
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                   check=True, capture_output=True)
if count:
    instrument(True)
t = time.perf_counter()
info = model.run()
wall = time.perf_counter() - t
if count:
    instrument(False)
kpis = {k: v for k, v in compute_kpis(model, info).items() if k != "events"}
digest = hashlib.sha256(repr(sorted(kpis.items())).encode()).hexdigest()[:12]
print(json.dumps({"wall": wall, "events": info.events, "kpis": digest,
                  "compiled": build_info.compiled()}))
"""


def _env(src: Path | None, pure: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NSIM_PURE_PYTHON"}
    env.update(PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    if pure:
        env["NSIM_PURE_PYTHON"] = "1"
    return env


def pure_only(patch: Path) -> bool:
    """A patch marked ``# pure only`` on its first line changes only what the
    pure-Python build runs: its compiled build would be the base's."""
    return patch.read_text().startswith("# pure only")


def prepare(name: str, commit: str, work: Path, patch: Path | None) -> Path:
    """The source of ``commit`` with ``patch`` applied, compiled in place
    (unless the patch is pure only), in ``work/name``."""
    src = work / name
    if (src / "built.ok").exists():
        return src
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", commit], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    if patch is not None:
        subprocess.run(["git", "apply", "-p1", str(patch)], cwd=src, check=True)
        if pure_only(patch):
            (src / "built.ok").touch()
            return src
    print(f"compiling {name} ...", file=sys.stderr)
    log = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=src,
        capture_output=True,
        text=True,
    )
    if log.returncode or "pure Python" in log.stderr:
        raise RuntimeError(f"{name} did not compile:\n{log.stderr[-3000:]}")
    (src / "built.ok").touch()
    return src


def run(code: str, *args: str, src: Path | None = None, pure: bool = False) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=src or ROOT,
        env=_env(src, pure),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def instructions(src: Path, days: float, pure: bool) -> int:
    """Instructions (valgrind callgrind) of the first ``days`` of the run itself.

    Kept in ``src`` (the count is exact and repeatable, and takes minutes), so
    a second run of this script counts only what it has not counted before.
    """
    kept = src / f"instructions-{'pure' if pure else 'compiled'}-{days:g}.txt"
    if kept.exists():
        return int(kept.read_text())
    run(YEAR, "0.001", "run", src=src, pure=pure)  # compile any .pyc first
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            YEAR,
            str(days / 365),
            "count",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=src,
        env=_env(src, pure),
    )
    if json.loads(out.stdout.strip().splitlines()[-1])["compiled"] == pure:
        raise RuntimeError(f"{src}: expected a {'pure' if pure else 'compiled'} run")
    line = [x for x in out.stderr.splitlines() if "Collected :" in x][-1]
    kept.write_text(line.split(":")[-1].strip())
    return int(kept.read_text())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--callgrind-days", type=float, default=0.0, help="0: no instruction counts")
    ap.add_argument("--only", nargs="*", help="variants to measure (default: every patch)")
    ap.add_argument("--head", action="store_true", help="add the current checkout (HEAD)")
    ap.add_argument("--work", default="/tmp/nsim-pieces")
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args(argv)

    base = (PATCHES / "BASE").read_text().split()[0]
    work = Path(args.work) / base[:10]
    names = args.only or sorted(p.stem for p in PATCHES.glob("*.patch"))
    srcs = {"base": prepare("base", base, work, None)}
    builds = {"base": ("compiled", "pure")}
    for name in names:
        patch = PATCHES / f"{name}.patch"
        srcs[name] = prepare(name, base, work, patch)
        builds[name] = ("pure",) if pure_only(patch) else ("compiled", "pure")
    if args.head:
        # built once for each version of the package's source (sim/)
        sim_tree = subprocess.run(
            ["git", "rev-parse", "HEAD:sim"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        srcs["HEAD"] = prepare("HEAD", "HEAD", Path(args.work) / f"sim-{sim_tree[:10]}", None)
        builds["HEAD"] = ("compiled", "pure")

    times: dict[str, dict[str, list[dict]]] = {n: {"compiled": [], "pure": []} for n in srcs}
    bare: list[dict] = []
    for i in range(args.repeats):
        bare.append(run(BARE))
        for name, src in srcs.items():
            for build in builds[name]:
                m = run(YEAR, "1", "run", src=src, pure=build == "pure")
                if m["compiled"] != (build == "compiled"):
                    raise RuntimeError(f"{name}: expected a {build} run")
                times[name][build].append(m)
        print(f"round {i + 1} of {args.repeats} done", file=sys.stderr)

    med = statistics.median
    bare_us = [b["wall"] / b["events"] * 1e6 for b in bare]
    result: dict[str, dict] = {}
    for name in srcs:
        row: dict = {}
        for build in builds[name]:
            ms, bs = times[name][build], times["base"][build]
            row[f"{build}_s"] = med(m["wall"] for m in ms)
            # the median of ratios taken in the same round: drift cancels
            pairs = zip(ms, bs, strict=True)
            row[f"{build}_vs_base"] = med(m["wall"] / b["wall"] for m, b in pairs)
            row[f"{build}_per_event_vs_bare"] = med(
                m["wall"] / m["events"] * 1e6 / u for m, u in zip(ms, bare_us, strict=True)
            )
            row["events"] = ms[0]["events"]
            row["same_results"] = ms[0]["kpis"] == times["base"]["compiled"][0]["kpis"]
        if args.callgrind_days:
            for build in builds[name]:
                row[f"{build}_instructions"] = instructions(
                    srcs[name], args.callgrind_days, build == "pure"
                )
            print(f"instructions of {name} counted", file=sys.stderr)
        result[name] = row
    if args.callgrind_days:
        for name, row in result.items():
            for build in builds[name]:
                row[f"{build}_instructions_vs_base"] = (
                    row[f"{build}_instructions"] / result["base"][f"{build}_instructions"]
                )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"base": base, "repeats": args.repeats, "callgrind_days": args.callgrind_days}
    (out / "core_pieces.json").write_text(json.dumps({"meta": meta, "rows": result}, indent=2))
    cols = [
        ("compiled_vs_base", "time / base, compiled", "{:.3f}"),
        ("pure_vs_base", "time / base, pure", "{:.3f}"),
        ("compiled_instructions_vs_base", "instructions / base, compiled", "{:.3f}"),
        ("pure_instructions_vs_base", "instructions / base, pure", "{:.3f}"),
        ("compiled_s", "year, compiled (s)", "{:.2f}"),
        ("pure_s", "year, pure (s)", "{:.2f}"),
        ("compiled_per_event_vs_bare", "per event / bare SimPy, compiled", "{:.2f}"),
        ("events", "events", "{:,}"),
        ("same_results", "same KPIs", "{}"),
    ]
    cols = [c for c in cols if c[0] in result["base"]]
    lines = [
        "| variant | " + " | ".join(c[1] for c in cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for name, row in result.items():
        cells = [fmt.format(row[key]) if key in row else "-" for key, _, fmt in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    note = (
        f"\nbase {base[:10]}; median of {args.repeats} interleaved rounds; "
        f"instructions: {args.callgrind_days} days of the run (valgrind callgrind)\n"
    )
    (out / "core_pieces.md").write_text("\n".join(lines) + "\n" + note)
    print("\n".join(lines) + note)


if __name__ == "__main__":
    main()
