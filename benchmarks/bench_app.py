"""How soon the web app shows its first results, and whether it stays responsive.

The issue's benchmark: a baseline-versus-one-scenario comparison of 10
replications over one year, started from the app, should show its first
results in under 30 seconds on a 2-core machine, and the page should stay
responsive meanwhile. This starts ``nsim-app`` on a free port, drives it in
Debian's Chromium with Playwright as a planner would (Run page: baseline
against TREAT, 10 replications, Start), and measures in one run:

* seconds from the click to the first interim paired effects on the page;
* seconds from the click to the finished comparison;
* while the run goes: how long the app takes to draw another page (About) and to
  come back, and the latency of the server's health check (each repeated);
* for scale, the same comparison run as ``nsim`` from the command line.

Run: ``.venv/bin/python benchmarks/bench_app.py [replications]``; writes
``benchmarks/results/app.md``. Needs the ``app`` and ``test`` extras and chromium.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' helpers: how the app is started and Chromium run
from tests.conftest import CHROMIUM_ARGS, start_app  # noqa: E402


def wait_quiet(pg: object) -> None:
    pg.wait_for_selector("h1", timeout=120_000)  # type: ignore[attr-defined]
    time.sleep(1.0)
    pg.wait_for_selector(  # type: ignore[attr-defined]
        '[data-testid="stStatusWidget"]', state="detached", timeout=120_000
    )


def health_latency(url: str, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        t = time.perf_counter()
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=30) as r:
            r.read()
        out.append(time.perf_counter() - t)
        time.sleep(0.5)


def main() -> None:
    from playwright.sync_api import sync_playwright

    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    data = Path(tempfile.mkdtemp(prefix="nsim-bench-app-"))
    server, url = start_app(data)
    try:
        chromium = os.environ.get("NSIM_CHROMIUM") or shutil.which("chromium") or "chromium"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            pg = browser.new_page(viewport={"width": 1280, "height": 2000})
            pg.goto(f"{url}/run")
            wait_quiet(pg)
            box = pg.get_by_label("Compare with", exact=True)
            box.click()
            pg.keyboard.type("treat:")
            pg.get_by_role("option", name="treat:").first.click()
            pg.keyboard.press("Escape")
            reps_box = pg.get_by_label("Replications", exact=True)
            reps_box.fill(str(reps))
            reps_box.press("Enter")
            wait_quiet(pg)
            stop = threading.Event()
            latencies: list[float] = []
            clicked = time.perf_counter()
            pg.get_by_role("button", name="Start run").click()
            watcher = threading.Thread(target=health_latency, args=(url, stop, latencies))
            watcher.start()
            pg.get_by_text("First results from").first.wait_for(timeout=600_000)
            first = time.perf_counter() - clicked
            page_times = []
            for _ in range(3):  # another page, and back, while the run goes on
                t = time.perf_counter()
                pg.get_by_role("link", name="About", exact=True).click()
                pg.get_by_role("heading", name="About").wait_for()
                pg.get_by_role("link", name="Run", exact=True).click()
                pg.get_by_role("heading", name="Run").first.wait_for()
                page_times.append(time.perf_counter() - t)
            pg.get_by_text("Finished in").wait_for(timeout=900_000)
            finished = time.perf_counter() - clicked
            stop.set()
            watcher.join()
            browser.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    cli_dir = data / "cli"
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "compare=[treat]",
            f"run.replications={reps}",
            f"hydra.run.dir={cli_dir}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cli = time.perf_counter() - t
    shutil.rmtree(data, ignore_errors=True)
    from sim.build_info import mode as build_kind

    lines = [
        "# Web app: first results and responsiveness",
        "",
        f"`benchmarks/bench_app.py {reps}`: baseline against TREAT, {reps} replications of a "
        f"year, started from the Run page in Chromium ({os.cpu_count()} cores, "
        f"{build_kind()} model).",
        "",
        "| measure | seconds |",
        "|---|---|",
        f"| click to first interim paired effects on the page | {first:.1f} |",
        f"| click to finished comparison (tables, report, charts) | {finished:.1f} |",
        f"| the same comparison as `nsim` on the command line | {cli:.1f} |",
        f"| another page and back during the run (median of {len(page_times)}) | "
        f"{statistics.median(page_times):.2f} |",
        f"| health check during the run (median / max of {len(latencies)}) | "
        f"{statistics.median(latencies):.3f} / {max(latencies):.3f} |",
        "",
        f"Target: first results under 30 s. {'Met' if first < 30 else 'NOT met'}.",
    ]
    out = ROOT / "benchmarks" / "results" / "app.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
