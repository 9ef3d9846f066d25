"""Page throughput as a ratio to a bare Flask route under the same gunicorn settings.

Measured with wrk (`apt-get install wrk`; without it, the slower Python client in bench/load.py, and the
report says so) and pre-made sessions, so no sign-in (bcrypt) falls inside the timed window. Each round
measures the baseline and then the page, for every page; three rounds, the median of each page's ratios.
"""
from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

from bench.common import (
    PASSWORD,
    ROOT,
    USER_AGENT,
    WORKER_CLASS,
    WORKERS,
    app_env,
    flask,
    free_port,
    migrate_and_import,
    prepare,
    serve,
    stop,
    worker_rss_kib,
)

ROUNDS = 3
CONNECTIONS = 8
_OPTION = re.compile(r'name="q(\d+)" value="([^"]+)"')
# wrk's autosave: the same answer with a rising sequence number, as a learner's page sends it.
AUTOSAVE_LUA = """
local seq = 0
request = function()
  seq = seq + 1
  return wrk.format("POST", nil, nil, wrk.body .. seq)
end
"""


def get(port: int, path: str, cookie: str = "") -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Cookie": cookie, "User-Agent": USER_AGENT})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def wrk(port: int, target: dict, seconds: float) -> dict:
    """One wrk run: requests per second, p50/p99 latency, responses that were not 2xx/3xx."""
    command = ["wrk", "-t1" if target.get("body") else "-t2", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency",
               "-H", f"User-Agent: {USER_AGENT}"]
    if target.get("cookie"):
        command += ["-H", f"Cookie: {target['cookie']}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if target.get("body"):  # autosave: a POST whose last field is the sequence number the script adds
            script.write(AUTOSAVE_LUA.replace("wrk.body", json.dumps(target["body"])))
            script.flush()
            command += ["-s", script.name, "-H", "Content-Type: application/x-www-form-urlencoded",
                        "-H", "X-Requested-With: fetch", "-H", "Accept: application/json"]
        out = subprocess.run([*command, f"http://127.0.0.1:{port}{target['path']}"], capture_output=True,
                             text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise SystemExit(f"wrk printed no request rate for {target['path']}: {out[-300:]}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(rps.group(1)), "p50_ms": _wrk_ms(out, "50%"), "p99_ms": _wrk_ms(out, "99%"),
            "errors": int(non_2xx.group(1)) if non_2xx else 0}


def _wrk_ms(out: str, percentile: str) -> float | None:
    found = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if not found:
        return None
    return float(found.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[found.group(2)]


def python_client(port: int, target: dict, seconds: float) -> dict:
    """The fallback without wrk: bench/load.py's threads (caps near 1,800 req/s, so ratios come out too high)."""
    spec = {"scenario": "pages", "host": "127.0.0.1", "port": port, "paths": [target["path"]], "seconds": seconds,
            "clients": CONNECTIONS, "cookie": target.get("cookie", ""), "user_agent": USER_AGENT,
            "body": target.get("body")}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), json.dumps(spec)], capture_output=True,
                          text=True, check=True)
    result = json.loads(done.stdout)[target["path"]]
    return {"rps": result["rps"], "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"], "errors": result["errors"]}


def targets(env: dict, app_port: int) -> dict[str, dict]:
    """The pages to measure, with minted sessions; each checked to answer 200 before it is timed."""
    flask(env, "demo", "seed", "--clinics", "1", "--staff", "200", "--attempts", "1", "--seed", "11")
    manager = prepare(env, "sessions", {"emails": ["staff11-1-1@demo.clinic"]})["sessions"][0]
    learner = prepare(env, "people", {"count": 1, "prefix": "pages", "password": PASSWORD})
    person = learner["people"][0]
    paths = prepare(env, "attempts", {"email": person["email"]})
    _, quiz = get(app_port, paths["quiz_path"], person["cookie"])
    option = _OPTION.search(quiz)
    if option is None:
        raise SystemExit(f"the quiz page {paths['quiz_path']} offers no answer to save")
    position, value = option.groups()
    save_body = (f"q{position}={urllib.parse.quote(value)}&csrf_token={urllib.parse.quote(person['csrf'])}&seq=")
    found = {
        "/healthz": {"path": "/healthz"},
        "sign-in page": {"path": "/login"},
        "learner home": {"path": "/learn", "cookie": person["cookie"]},
        "module page": {"path": learner["module_path"], "cookie": person["cookie"]},
        "quiz page": {"path": paths["quiz_path"], "cookie": person["cookie"]},
        "result page": {"path": paths["result_path"], "cookie": person["cookie"]},
        "manager console, 200 staff": {"path": "/manage/", "cookie": manager["cookie"]},
        "autosave": {"path": f"{paths['quiz_path']}/answers/{position}", "cookie": person["cookie"],
                     "body": save_body},
    }
    for name, target in found.items():
        if "body" not in target and get(app_port, target["path"], target.get("cookie", ""))[0] != 200:
            raise SystemExit(f"{name} ({target['path']}) does not answer 200 with its session")
    return found


def run_pages(label: str, database_url: str, seconds: float) -> dict:
    env = app_env(database_url)
    migrate_and_import(env)
    measure = wrk if shutil.which("wrk") else python_client
    client = "wrk" if measure is wrk else "Python threads (wrk missing: apt-get install wrk)"
    bare_port, app_port = free_port(), free_port()
    bare = serve("bench.bare_app:app", env, bare_port, ready_path="/")
    app = serve("wsgi:app", env, app_port)
    try:
        pages = targets(env, app_port)
        rounds: dict[str, list[tuple[dict, dict]]] = {name: [] for name in pages}
        for _ in range(ROUNDS):
            for name, target in pages.items():
                baseline = measure(bare_port, {"path": "/"}, seconds)
                rounds[name].append((baseline, measure(app_port, target, seconds)))
        memory = {"app_mib": worker_rss_kib(app) / 1024, "bare_mib": worker_rss_kib(bare) / 1024}
    finally:
        stop(app)
        stop(bare)
    results = {}
    for name, pairs in rounds.items():
        results[name] = {"ratio": statistics.median(page["rps"] / base["rps"] for base, page in pairs),
                         "rps": statistics.median(page["rps"] for _, page in pairs),
                         "baseline_rps": statistics.median(base["rps"] for base, _ in pairs),
                         "p50_ms": statistics.median(page["p50_ms"] or 0 for _, page in pairs),
                         "p99_ms": statistics.median(page["p99_ms"] or 0 for _, page in pairs),
                         "errors": sum(page["errors"] for _, page in pairs)}
    return {"label": label, "client": client, "seconds": seconds, "pages": results, **memory}


def format_pages(result: dict) -> str:
    lines = [f"== pages on {result['label']}: gunicorn {WORKERS} {WORKER_CLASS} workers, {result['client']}, "
             f"{CONNECTIONS} connections, {ROUNDS} rounds of {result['seconds']:g} s (baseline, page), medians ==",
             f"{'page':30} {'req/s':>8} {'bare req/s':>10} {'ratio':>7} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>7}"]
    for name, r in result["pages"].items():
        lines.append(f"{name:30} {r['rps']:8.0f} {r['baseline_rps']:10.0f} {r['ratio']:7.3f} {r['p50_ms']:8.1f} "
                     f"{r['p99_ms']:8.1f} {r['errors']:7}")
    lines.append(f"worker memory ({WORKERS} workers together): app {result['app_mib']:.0f} MiB, "
                 f"bare {result['bare_mib']:.0f} MiB")
    return "\n".join(lines)

