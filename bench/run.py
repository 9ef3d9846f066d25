"""`make bench`: the benchmarks, each on SQLite and, when BENCH_DATABASE_URL is set, PostgreSQL too.

  python -m bench.run                      all three below (the spike with 1,000 learners)
  python -m bench.run pages [--seconds S]  page throughput as ratios to a bare Flask route (wrk, minted sessions)
  python -m bench.run spike [--learners N] [--ramp S] [--saves K] [--interval S] [--kill-worker-at S]
                           [--sign-ins N]
  python -m bench.run export [--staff N]   the chain-wide register export as CSV and XLSX

Everything runs on this machine: gunicorn on 127.0.0.1 (BENCH_WORKERS, default 2; BENCH_WORKER_CLASS,
default sync), a fresh SQLite database in a temporary folder, load drivers in their own processes.
Reports (and the spike's latency chart) go to bench/results/.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from bench.common import PASSWORD, RESULTS, ROOT, app_env, migrate_and_import
from bench.pages import format_pages, run_pages
from bench.spike import SpikeSettings, format_report, run_spike


def databases(tmp: str) -> list[tuple[str, str]]:
    targets = [("SQLite", f"sqlite:///{tmp}/bench.db")]
    if os.environ.get("BENCH_DATABASE_URL"):
        targets.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
    return targets


def export_bench(label: str, database_url: str, staff: int) -> str:
    env = app_env(database_url)
    migrate_and_import(env)
    args = {"staff": staff, "password": PASSWORD, "prefix": f"export{int(time.time())}"}
    done = subprocess.run([sys.executable, "-m", "bench.export_timing", json.dumps(args)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"export bench failed: {done.stderr.strip()[-800:]}")
    r = json.loads(done.stdout)
    return "\n".join([f"== chain-wide register export on {label}: {r['staff']} staff, median of {r['rounds']} ==",
                      *(f"{fmt.upper():5} {r[fmt]['wall_s']:6.2f} s wall, {r[fmt]['cpu_s']:6.2f} s CPU, "
                        f"{r[fmt]['bytes'] / 1024:,.0f} KiB" for fmt in ("csv", "xlsx"))])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n", 1)[0])
    parser.add_argument("scenario", nargs="?", choices=("all", "pages", "spike", "export"), default="all")
    parser.add_argument("--seconds", type=float, default=3, help="pages: seconds per wrk run (default 3)")
    parser.add_argument("--learners", type=int, default=1000, help="spike: learners (default 1000)")
    parser.add_argument("--ramp", type=float, default=10, help="spike: seconds in which all start (default 10)")
    parser.add_argument("--saves", type=int, default=10, help="spike: answers saved per learner (default 10)")
    parser.add_argument("--interval", type=float, default=10, help="spike: seconds between saves (default 10)")
    parser.add_argument("--kill-worker-at", type=float, default=None, metavar="SECONDS",
                        help="spike: kill -9 one gunicorn worker this many seconds into the run")
    parser.add_argument("--sign-ins", type=int, default=0, metavar="N",
                        help="spike: N more people sign in through the login form during the ramp (default 0)")
    parser.add_argument("--staff", type=int, default=5000, help="export: staff in the chain (default 5000)")
    parser.add_argument("--postgresql-only", action="store_true",
                        help="skip the SQLite run (with BENCH_DATABASE_URL set)")
    args = parser.parse_args(argv)
    if args.learners < 1 or args.saves < 1 or args.staff < 1:
        parser.error("--learners, --saves and --staff take a whole number of at least 1")
    if args.sign_ins < 0:
        parser.error("--sign-ins takes a whole number of at least 0")
    if args.postgresql_only and not os.environ.get("BENCH_DATABASE_URL"):
        parser.error("--postgresql-only needs BENCH_DATABASE_URL=postgresql+psycopg://... (an empty database)")
    settings = SpikeSettings(args.learners, args.ramp, args.saves, args.interval, args.kill_worker_at,
                             args.sign_ins)
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="trainer-bench-") as tmp:
        targets = databases(tmp)[1:] if args.postgresql_only else databases(tmp)
        failed = run_all(args.scenario, targets, args, settings)
    if failed:
        raise SystemExit("the spike had errors or lost acknowledged answers")


def run_all(scenario: str, targets: list[tuple[str, str]], args: argparse.Namespace, settings: SpikeSettings) -> bool:
    """Run the chosen scenarios on each database, printing each report as it comes; True when the spike failed."""
    failed = False
    for label, url in targets:
        if scenario in ("all", "pages"):
            result = run_pages(label, url.replace("bench.db", "pages.db"), args.seconds)
            (RESULTS / f"pages-{label.lower()}.json").write_text(json.dumps(result, indent=1))
            print(format_pages(result), flush=True)
        if scenario in ("all", "export"):
            print(export_bench(label, url.replace("bench.db", "export.db"), args.staff), flush=True)
        if scenario in ("all", "spike"):
            report = run_spike(label, url.replace("bench.db", "spike.db"), settings)
            print(format_report(report), f"report {report['report']}, chart {report['chart']}", sep="\n", flush=True)
            failed = failed or report["lost"] > 0 or report["errors"] > 0
    return failed


if __name__ == "__main__":
    main()
