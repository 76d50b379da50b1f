"""People, not only strata: what the registry costs, and that it grows linearly.

Run:  python -m benchmarks.bench_people [--years 1] [--scales 1 3.0096] [--repeats 1]
      [--out benchmarks/results]

For each population scale (1 = the default borough's 332,272 registered people;
3.0096 = one million) it runs one replication of the baseline with people off
and on, each in a fresh subprocess (so peak memory is its own), and reports per
replication-year: wall time, SimPy events, crises, the registry's entries (people
with a crisis history) and the bytes of its arrays, and peak memory.

Scaling the population alone would overload a hospital sized for 330,000 people
(queues, and so events, would grow faster than demand), so every capacity the
default borough has grows with it: acute beds, the A&E rotas, the discharge
assessors and downstream places, pathway 1 visits and CHC assessors. Same-day
slots are per 10,000 registered already. The figures to quote are ratios
measured in the same run: time with people / without at each scale, and
registry size and time at one million / at 330,000. Wall-clock time on a shared
machine drifts; ``python -m benchmarks.instructions`` counts instructions
instead; ``--instructions`` here does the same for the baseline with people off
and on, at each scale (valgrind; 36.5 days at 330,000 people take ~10 minutes
in Python):

    python -m benchmarks.bench_people --instructions --days 36.5 --scales 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from benchmarks.bench_model import PEAK_RSS, ROOT, measure

#: one replication with people on or off, reporting what the people hold
MODEL = (
    PEAK_RSS
    + r"""
import json, sys, time
from sim.config import load_config
from sim.model import CareSystemModel
cfg = load_config("baseline", sys.argv[1:])
model = CareSystemModel(cfg, 0)
t = time.perf_counter()
info = model.run()
wall = time.perf_counter() - t
people = model.people
print(json.dumps({
    "wall": wall, "events": info.events, "sim_days": cfg.run.total_days,
    "crises": int(model.recorder.counters["crises"].array().sum()),
    "registry": len(people.registry), "registry_bytes": people.nbytes(),
    "registered": model.strata.registered, "max_rss_mb": peak_rss_mb(),
}))
"""
)


def scaled(factor: float) -> list[str]:
    """Overrides that multiply the default borough's population and capacities."""
    from sim.config import load_config

    cfg = load_config("baseline")
    nbs = ", ".join(
        f"{{name: '{n.name}', registered: {round(n.registered * factor)}"
        + (
            ", age_shares: {"
            + ", ".join(
                f"{b}: {v}"
                for b, v in zip(
                    ("age_0_64", "age_65_74", "age_75_84", "age_85_plus"),
                    n.age_shares.as_tuple(),
                    strict=True,
                )
            )
            + "}"
            if n.age_shares is not None
            else ""
        )
        + "}"
        for n in cfg.population.neighbourhoods
    )

    def rota(r: tuple[int, ...]) -> str:
        return "[" + ", ".join(str(max(1, round(x * factor))) for x in r) + "]"

    d = cfg.discharge
    out = [
        f"population.neighbourhoods=[{nbs}]",
        f"beds.acute={round(cfg.beds.acute * factor)}",
        f"ae.triage_rota={rota(cfg.ae.triage_rota)}",
        f"ae.clinician_rota={rota(cfg.ae.clinician_rota)}",
        f"discharge.assessment.staff={max(1, round(d.assessment.staff * factor))}",
    ]
    for svc in ("reablement", "intermediate_care", "care_home"):
        out.append(f"discharge.{svc}.capacity={round(getattr(d, svc).capacity * factor)}")
    out.append(f"discharge.p1_visits.visits_per_day={round(d.p1_visits.visits_per_day * factor)}")
    chc = cfg.block("chc")
    out.append(f"chc.standard.staff={max(1, round(chc.standard.staff * factor))}")
    return out


#: one replication under callgrind: built, then run unless the last argument is "build"
_CALLGRIND_CHILD = """
import sys
from sim.config import load_config
from sim.model import CareSystemModel
days = float(sys.argv[1])
cfg = load_config(
    "baseline", [f"run.years={days / 365.0}", "run.warmup_days=0", *sys.argv[3:]]
)
model = CareSystemModel(cfg, 0)
if sys.argv[2] == "run":
    model.run()
"""


def instructions(days: float, people: bool, run: bool = True, scale: float = 1.0) -> int:
    """Instructions valgrind counts for the baseline over ``days`` with people on
    or off (``run`` False: built, not run), as ``benchmarks.instructions`` does;
    ``scale`` multiplies the population and capacities (:func:`scaled`)."""
    from benchmarks.instructions import callgrind

    n, _ = callgrind(
        _CALLGRIND_CHILD,
        str(days),
        "run" if run else "build",
        f"++people.enabled={people}",
        *(scaled(scale) if scale != 1.0 else []),
        cwd=str(ROOT),
    )
    return n


def count_instructions(days: float, scale: float = 1.0) -> None:
    """Print the run-only instructions of the baseline with people off and on."""
    got = {}
    for people in (False, True):
        got[people] = instructions(days, people, scale=scale) - instructions(
            days, people, run=False, scale=scale
        )
        print(f"people {'on' if people else 'off'}: {got[people] / 1e9:.3f} G", file=sys.stderr)
    print(
        f"baseline x {scale:.4g}, {days} days: people off {got[False] / 1e9:.3f} G, on "
        f"{got[True] / 1e9:.3f} G instructions (run only); ratio {got[True] / got[False]:.4f}"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 1e6 / 332_272])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--pure", action="store_true", help="run the Python source")
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--instructions", action="store_true", help="count instructions instead")
    ap.add_argument("--days", type=float, default=36.5, help="days for --instructions")
    args = ap.parse_args(argv)
    if args.instructions:
        for scale in args.scales:
            count_instructions(args.days, scale)
        return

    med = statistics.median
    rows = []
    for scale in args.scales:
        base = [*scaled(scale), f"run.years={args.years}", "run.warmup_days=0"]
        runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for i in range(args.repeats):  # interleaved, so drift hits both alike
            for mode in ("off", "on"):
                r = measure(MODEL, *base, f"++people.enabled={mode == 'on'}", pure=args.pure)
                runs[mode].append(r)
                print(
                    f"scale {scale:.3f} people {mode} repeat {i + 1}: {r['wall']:.1f} s",
                    file=sys.stderr,
                )
        row: dict[str, float] = {"scale": scale, "registered": runs["on"][0]["registered"]}
        for mode, rs in runs.items():
            per_year = 365.0 / rs[0]["sim_days"]
            row[f"seconds_per_year_{mode}"] = med(r["wall"] for r in rs) * per_year
            row[f"events_per_year_{mode}"] = rs[0]["events"] * per_year
            row[f"peak_rss_mb_{mode}"] = med(r["max_rss_mb"] for r in rs)
        on = runs["on"][0]
        row["crises"] = on["crises"]
        row["registry"] = on["registry"]
        row["registry_mb"] = on["registry_bytes"] / 1e6
        row["registry_per_1000_registered"] = on["registry"] / on["registered"] * 1000
        row["bytes_per_registry_entry"] = on["registry_bytes"] / max(on["registry"], 1)
        row["time_ratio_on_to_off"] = row["seconds_per_year_on"] / row["seconds_per_year_off"]
        rows.append(row)
    result: dict[str, object] = {"years": args.years, "repeats": args.repeats, "rows": rows}
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        result["population_ratio"] = b["registered"] / a["registered"]
        for key in (
            "registry",
            "registry_mb",
            "crises",
            "seconds_per_year_on",
            "seconds_per_year_off",
            "peak_rss_mb_on",
        ):
            result[f"{key}_ratio"] = b[key] / a[key]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "people.json").write_text(json.dumps(result, indent=2))
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(f"{r[k]:,.4g}" for k in keys) + " |" for r in rows]
    lines += [""] + [f"- {k}: {v:,.4g}" for k, v in result.items() if k.endswith("ratio")]
    (out / "people.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
