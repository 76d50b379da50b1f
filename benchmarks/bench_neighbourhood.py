"""What the neighbourhood health services and person-level crises cost to run.

Run:  python -m benchmarks.bench_neighbourhood [--repeats 3] [--out benchmarks/results]

Times one replication-year of each configuration below, interleaved repeat by
repeat so drift on a shared machine hits all alike, and reports each as a
ratio to the first (the core flow with the older constant community share,
as before same-day access), with the SimPy events each makes. Then the same
at 1 million registered residents (every capacity scaled with the people), with
the process's peak memory, to show that time and memory stay linear in the
population. Each measurement is a fresh subprocess (``run_all.ONE_MODEL``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.bench_model import measure
from benchmarks.run_all import ONE_MODEL

NO_PEOPLE = "people.enabled=false"
#: (label, scenario, overrides); people are on by default
CONFIGS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "core flow as before: constant community share, no people",
        "baseline",
        ("community.model=share", NO_PEOPLE),
    ),
    ("same-day access and NHS 111, no people", "baseline", (NO_PEOPLE,)),
    ("baseline: same-day access + people (default)", "baseline", ()),
    ("+ urgent community response", "urgent_community_response", ()),
    ("+ virtual wards", "virtual_wards", ()),
    ("neighbourhood_health (all services, seed interventions)", "neighbourhood_health", ()),
)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="benchmarks/results")
    args = ap.parse_args(argv)
    from sim.config import load_config

    registered = sum(nb.registered for nb in load_config("baseline").population.neighbourhoods)
    big = 1_000_000 / registered
    walls: dict[str, list[float]] = {}
    events: dict[str, float] = {}
    for _ in range(args.repeats):
        for label, scenario, overrides in CONFIGS:
            m = measure(ONE_MODEL, scenario, 1, 1.0, "-", *overrides)
            walls.setdefault(label, []).append(m["wall"])
            events[label] = m["events"]
    med = statistics.median
    base = med(walls[CONFIGS[0][0]])
    rows = [
        (label, f"{med(w) / base:.2f}", f"{events[label] / events[CONFIGS[0][0]]:.2f}")
        for label, w in walls.items()
    ]
    # linear in the population: 1M residents against the default borough, each pair
    # measured back to back
    scaling = []
    for label, overrides in (("baseline without people", (NO_PEOPLE,)), ("baseline", ())):
        ratios, rss = [], []
        for _ in range(args.repeats):
            small = measure(ONE_MODEL, "baseline", 1, 1.0, "-", *overrides)
            large = measure(ONE_MODEL, "baseline", big, 1.0, "-", *overrides)
            ratios.append(large["wall"] / small["wall"])
            rss.append((small["rss_mb"], large["rss_mb"], large["rss_imports_mb"]))
        scaling.append((label, med(ratios), [med(x) for x in zip(*rss, strict=True)]))
    lines = [
        f"One replication-year, median of {args.repeats} interleaved repeats; ratios to "
        f"the first row (base {base:.2f} s on this machine).",
        "",
        "| configuration | time ratio | events ratio |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        f"1 million residents ({big:.2f}x the default borough, capacities scaled):",
        "",
        "| configuration | time at 1M / default | peak RSS default (MB) | peak RSS 1M (MB) "
        "| of which imports (MB) |",
        "|---|---|---|---|---|",
        *[
            f"| {label} | {r:.2f} (population x{big:.2f}) | {a:.0f} | {b:.0f} | {c:.0f} |"
            for label, r, (a, b, c) in scaling
        ],
    ]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "neighbourhood.md").write_text("\n".join(lines) + "\n")
    (out / "neighbourhood.json").write_text(
        json.dumps(
            {
                "rows": rows,
                "scaling": [{"config": a, "time_ratio": r, "rss_mb": x} for a, r, x in scaling],
                "population_factor": big,
            },
            indent=2,
        )
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
