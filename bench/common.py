"""What the benchmarks share: a database made ready for the app, gunicorn on 127.0.0.1, in-app steps."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-password-1"
WORKERS = os.environ.get("BENCH_WORKERS", "2")
WORKER_CLASS = os.environ.get("BENCH_WORKER_CLASS", "sync")
#: BENCH_PRELOAD=0 lets each worker import the app itself instead of forking from a master that did (--preload).
PRELOAD = os.environ.get("BENCH_PRELOAD", "1") != "0"
RESULTS = ROOT / "bench" / "results"
#: Every client sends this User-Agent, so Flask-Login's session identifier matches the minted sessions'.
USER_AGENT = "trainer-bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(database_url: str) -> dict:
    return {**os.environ, "FLASK_APP": "wsgi.py", "DATABASE_URL": database_url, "SECRET_KEY": "bench-only",
            "TRAINER_DEMO_PASSWORD": PASSWORD}


def flask(env: dict, *args: str) -> str:
    done = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def migrate_and_import(env: dict) -> None:
    prepare(env, "setup")


def prepare(env: dict, step: str, args: dict | None = None):
    """One step of bench/prepare.py inside the app (outside any timing); its JSON answer."""
    done = subprocess.run([sys.executable, "-m", "bench.prepare", step, json.dumps(args or {})], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"bench.prepare {step} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def serve(app: str, env: dict, port: int, ready_path: str = "/healthz") -> subprocess.Popen:
    """gunicorn with the bench's worker settings (BENCH_WORKERS, BENCH_WORKER_CLASS), once its workers answer.

    The master listens before its workers have imported the app; waiting for a few answers of `ready_path`
    keeps the workers' start-up out of the measurements.
    """
    # --preload as `make run` (trainer/serving.py): workers fork from a master that has imported the app.
    process = subprocess.Popen([str(BIN / "gunicorn"), *(["--preload"] if PRELOAD else []), "--workers", WORKERS,
                                "--worker-class", WORKER_CLASS,
                                "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app], cwd=ROOT, env=env)
    answers, deadline = 0, time.monotonic() + 120
    while answers < 2 * int(WORKERS) and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=30) as response:
                answers += response.status == 200
        except OSError:
            time.sleep(0.2)
    if answers < 2 * int(WORKERS):
        process.kill()
        raise SystemExit(f"{app} did not start")
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def worker_pids(master: subprocess.Popen) -> list[int]:
    """The gunicorn workers: the master's child processes."""
    pids = []
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            status = (pid / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master.pid):
            pids.append(int(pid.name))
    return pids


def worker_rss_kib(master: subprocess.Popen) -> int:
    """Resident memory of the gunicorn workers, in KiB."""
    total = 0
    for pid in worker_pids(master):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += int(next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), "0"))
    return total


def kill_one_worker(master: subprocess.Popen) -> int | None:
    """kill -9 one gunicorn worker (the master starts another); its pid, or None when there was none."""
    pids = worker_pids(master)
    if not pids:
        return None
    os.kill(pids[0], signal.SIGKILL)
    return pids[0]


def count_lost(env: dict, acknowledged: list) -> int:
    """Acknowledged saves whose answer is not in the database (a newer save of the same question may win)."""
    newest: dict[tuple[int, int], int] = {}
    for attempt_id, position, seq in acknowledged:
        newest[(attempt_id, position)] = max(seq, newest.get((attempt_id, position), 0))
    stored = {(a, p): s for a, p, s in prepare(env, "answers")}
    return sum(1 for key, seq in newest.items() if stored.get(key, 0) < seq)
