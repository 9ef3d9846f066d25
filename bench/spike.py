"""The exam-start spike: N learners with session cookies start within `ramp` seconds, save an answer every
`interval` seconds, then submit; p50/p95 per kind of request, errors, and every acknowledged save checked
in the database afterwards. Optionally one gunicorn worker is killed (-9) mid-run, and optionally `sign_ins`
further people sign in through the login form (bcrypt at the app's normal cost) during the ramp, a row of their own.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.chart import latency_svg, percentile
from bench.common import (
    PASSWORD,
    RESULTS,
    ROOT,
    WORKER_CLASS,
    WORKERS,
    app_env,
    count_lost,
    free_port,
    kill_one_worker,
    prepare,
    serve,
    stop,
)

KINDS = ("module page", "start", "quiz page", "autosave", "submit")
SIGN_IN = "sign-in"  # a row only when the spike has sign-ins


@dataclass
class SpikeSettings:
    learners: int = 1000
    ramp: float = 10.0
    saves: int = 10
    interval: float = 10.0
    kill_worker_at: float | None = None
    sign_ins: int = 0


def run_spike(label: str, database_url: str, settings: SpikeSettings, results_dir: Path = RESULTS) -> dict:
    """Run the spike against a fresh app on `database_url`; the report, also written as JSON, text and SVG."""
    env = app_env(database_url)
    prefix = f"spike{int(time.time())}"  # new people every run, so a reused PostgreSQL database works too
    prepared = prepare(env, "people", {"count": settings.learners, "prefix": prefix, "password": PASSWORD,
                                       "sign_ins": settings.sign_ins, "setup": True})
    port = free_port()
    app = serve("wsgi:app", env, port)
    killed = None
    try:
        spec = {"hosts": [f"127.0.0.1:{port}"], "people": prepared["people"], "module_path": prepared["module_path"],
                "ramp": settings.ramp, "saves": settings.saves, "interval": settings.interval,
                "sign_ins": prepared["sign_ins"], "password": PASSWORD}
        driver = subprocess.Popen([sys.executable, "-m", "bench.spike_driver"], cwd=ROOT, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = driver.communicate(json.dumps(spec), timeout=settings.kill_worker_at)
        except subprocess.TimeoutExpired:  # the moment to kill a worker
            killed = kill_one_worker(app)
            out, err = driver.communicate()
    finally:
        stop(app)
    if driver.returncode:
        raise SystemExit(f"spike driver failed: {err.strip()[-800:]}")
    run = json.loads(out)
    report = summarise(label, settings, run, count_lost(env, run["acknowledged"]), killed)
    write_report(report, run["samples"], results_dir)
    return report


def summarise(label: str, settings: SpikeSettings, run: dict, lost: int, killed: int | None) -> dict:
    kinds = {}
    for kind in (*KINDS, SIGN_IN) if settings.sign_ins else KINDS:
        latencies = [s[2] for s in run["samples"] if s[1] == kind]
        kinds[kind] = {"requests": len(latencies), "errors": run["errors"].get(kind, 0),
                       "p50_ms": percentile(latencies, 0.5) if latencies else None,
                       "p95_ms": percentile(latencies, 0.95) if latencies else None,
                       "max_ms": max(latencies) if latencies else None}
    return {"label": label, "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
            "gunicorn": f"{WORKERS} {WORKER_CLASS} workers", "settings": settings.__dict__, "kinds": kinds,
            "errors": sum(run["errors"].values()), "retried": run["retried"],
            "acknowledged": len(run["acknowledged"]), "lost": lost, "killed_worker": killed,
            "learners_done": run["learners_done"], "elapsed_s": run["elapsed_s"],
            "driver_cpu_s": run["driver_cpu_s"]}


def machine() -> str:
    """The CPU model, core count and load average, to go with every figure."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, {model}, load average {load} at the end"


def format_report(report: dict) -> str:
    s = report["settings"]
    sign_ins = f", {s['sign_ins']} sign-ins spread over the ramp" if s.get("sign_ins") else ""
    lines = [f"== spike on {report['label']}: {s['learners']} learners starting within {s['ramp']:g} s, "
             f"{s['saves']} saves {s['interval']:g} s apart, then submit{sign_ins} ({report['gunicorn']}) ==",
             f"{'':14} {'requests':>9} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'errors':>7}"]
    for kind, k in report["kinds"].items():
        if k["requests"]:
            lines.append(f"{kind:14} {k['requests']:9} {k['p50_ms']:9.0f} {k['p95_ms']:9.0f} {k['max_ms']:9.0f} "
                         f"{k['errors']:7}")
        elif k["errors"]:  # every one failed before its timed request (sign-ins: at the sign-in page)
            lines.append(f"{kind:14} {0:9} {'-':>9} {'-':>9} {'-':>9} {k['errors']:7}")
    cpu_share = 100 * report["driver_cpu_s"] / max(report["elapsed_s"], 1e-9)
    lines += [f"errors {report['errors']}, lost answers {report['lost']} of {report['acknowledged']} acknowledged "
              f"saves; {report['retried']} dropped connections retried; "
              f"{report['learners_done']}/{s['learners']} learners submitted",
              f"run {report['elapsed_s']:.0f} s; load driver CPU {report['driver_cpu_s']:.1f} s "
              f"({cpu_share:.0f}% of one core)"]
    if s["kill_worker_at"] is not None:
        lines.append(f"worker {report['killed_worker']} killed (-9) at {s['kill_worker_at']:g} s")
    lines.append(f"{report['date']}; {report['machine']}")
    return "\n".join(lines)


def write_report(report: dict, samples: list, results_dir: Path) -> None:
    """spike-<database>.json/.txt/.svg in `results_dir` (the newest run of each database)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = results_dir / f"spike-{report['label'].lower()}"
    report["report"], report["chart"] = str(stem.with_suffix(".txt")), str(stem.with_suffix(".svg"))
    stem.with_suffix(".json").write_text(json.dumps(report, indent=1))
    stem.with_suffix(".txt").write_text(format_report(report) + "\n")
    sign_ins = report["settings"]["sign_ins"]
    title = (f"Spike on {report['label']}: {report['settings']['learners']} learners"
             f"{f', {sign_ins} sign-ins' if sign_ins else ''}, {report['gunicorn']}, {report['date']}")
    stem.with_suffix(".svg").write_text(latency_svg(samples, title, report["settings"]["kill_worker_at"]))
