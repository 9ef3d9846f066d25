"""`make bench`: request rates of the main pages as ratios to a bare Flask route, and an autosave
load whose every acknowledged answer is checked against the database afterwards.

Everything runs on this machine: gunicorn on 127.0.0.1, a seeded SQLite database in a temporary
folder (and PostgreSQL too when BENCH_DATABASE_URL is set), the load driver in its own process.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-password-1"
WORKERS = os.environ.get("BENCH_WORKERS", "2")
SECONDS = float(os.environ.get("BENCH_SECONDS", "4"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict, *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def serve(app: str, env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([str(BIN / "gunicorn"), "--workers", WORKERS, "--bind", f"127.0.0.1:{port}",
                                "--log-level", "warning", app], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{app} did not start")


def worker_rss_kib(master: subprocess.Popen) -> int:
    """Resident memory of the gunicorn workers (children of the master), in KiB."""
    total = 0
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            status = (pid / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master.pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def load(spec: dict) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), json.dumps(spec)],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"load driver failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def bench_database(label: str, database_url: str, tmp: Path) -> dict:
    env = {**os.environ, "FLASK_APP": "wsgi.py", "DATABASE_URL": database_url, "SECRET_KEY": "bench-only",
           "TRAINER_DEMO_PASSWORD": PASSWORD}
    flask(env, "db", "upgrade")
    flask(env, "banks", "import", "question_banks")
    flask(env, "demo", "seed", "--clinics", "3", "--staff", "40", "--attempts", "3", "--seed", "11")

    bare_port, app_port = free_port(), free_port()
    bare = serve("bench.bare_app:app", env, bare_port)
    try:
        baseline = load({"scenario": "pages", "host": "127.0.0.1", "port": bare_port, "paths": ["/"],
                         "seconds": SECONDS, "clients": CLIENTS})["/"]
        bare_rss = worker_rss_kib(bare)
    finally:
        bare.terminate()
        bare.wait()
    app = serve("wsgi:app", env, app_port)
    try:
        manager = "staff11-1-1@demo.clinic"  # the seed makes each clinic's first person its manager
        learner = "staff11-1-2@demo.clinic"
        results = {}
        results.update(load({"scenario": "pages", "host": "127.0.0.1", "port": app_port, "paths": ["/healthz"],
                             "seconds": SECONDS, "clients": CLIENTS}))
        results.update(load({"scenario": "pages", "host": "127.0.0.1", "port": app_port, "email": manager,
                             "password": PASSWORD, "paths": ["/manage/", "/manage/register.csv"],
                             "seconds": SECONDS, "clients": CLIENTS}))
        results.update(load({"scenario": "pages", "host": "127.0.0.1", "port": app_port, "email": learner,
                             "password": PASSWORD, "paths": ["/learn", "/learn/microneedling-practitioner/safety"],
                             "seconds": SECONDS, "clients": CLIENTS}))
        emails = [f"staff11-2-{n}@demo.clinic" for n in range(2, 2 + CLIENTS)]
        saves = load({"scenario": "autosave", "host": "127.0.0.1", "port": app_port, "password": PASSWORD,
                      "emails": emails, "module_path": "/learn/microneedling-practitioner/aftercare", "saves": 40})
        app_rss = worker_rss_kib(app)
    finally:
        app.terminate()
        app.wait()
    lost = check_acknowledged(env, saves["acknowledged"])
    return {"label": label, "baseline": baseline, "pages": results, "bare_rss_kib": bare_rss, "app_rss_kib": app_rss,
            "saves_acknowledged": len(saves["acknowledged"]), "save_failures": len(saves["failures"]),
            "saves_per_second": saves["saves_per_second"], "lost": lost}


def check_acknowledged(env: dict, acknowledged: list) -> int:
    """Count acknowledged saves whose answer is not in the database (a newer save for the same question may win)."""
    newest: dict[tuple[int, int], int] = {}
    for attempt_id, position, seq in acknowledged:
        newest[(attempt_id, position)] = max(seq, newest.get((attempt_id, position), 0))
    script = (
        "import json,sys\n"
        "from trainer import create_app\nfrom trainer.extensions import db\n"
        "from trainer.models import AttemptQuestion\n"
        "app=create_app()\n"
        "with app.app_context():\n"
        "    rows=db.session.query(AttemptQuestion.attempt_id,AttemptQuestion.position,\n"
        "                          AttemptQuestion.response_seq).all()\n"
        "    print(json.dumps([[a,p,s] for a,p,s in rows]))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    stored = {(a, p): s for a, p, s in json.loads(done.stdout)}
    return sum(1 for key, seq in newest.items() if stored.get(key, 0) < seq)


def report(result: dict) -> None:
    base = result["baseline"]["rps"]
    print(f"\n== {result['label']}: gunicorn {WORKERS} workers, {CLIENTS} clients, {SECONDS:g}s per page ==")
    print(f"{'page':45} {'req/s':>8} {'ratio':>7} {'p50 ms':>8} {'p95 ms':>8} {'errors':>6}")
    print(f"{'bare Flask route (baseline)':45} {base:8.0f} {1:7.2f} {result['baseline']['p50_ms']:8.1f} "
          f"{result['baseline']['p95_ms']:8.1f} {result['baseline']['errors']:6}")
    for path, r in result["pages"].items():
        print(f"{path:45} {r['rps']:8.0f} {r['rps'] / base:7.2f} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['errors']:6}")
    print(f"worker memory: app {result['app_rss_kib'] / 1024:.0f} MiB vs bare {result['bare_rss_kib'] / 1024:.0f} MiB "
          f"(ratio {result['app_rss_kib'] / max(1, result['bare_rss_kib']):.2f})")
    print(f"autosave: {result['saves_acknowledged']} acknowledged ({result['saves_per_second']:.0f}/s), "
          f"{result['save_failures']} refused, {result['lost']} acknowledged answers missing from the database")


def main() -> None:
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", f"sqlite:///{tmp}/bench.db"))
        if os.environ.get("BENCH_DATABASE_URL"):
            targets.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
        results = [bench_database(label, url, Path(tmp)) for label, url in targets]
    for result in results:
        report(result)
    if any(r["lost"] for r in results):
        raise SystemExit("acknowledged answers were lost")


if __name__ == "__main__":
    main()
