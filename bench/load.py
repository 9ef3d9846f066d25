"""The fallback page client when wrk is missing, run in its own process: `python bench/load.py JSON-SPEC`
prints JSON. C threads, each with a keep-alive connection and the given session cookie, request one path
(or POST a body with a rising sequence number appended) for S seconds. It tops out near 1,800 req/s on the
bare route, so ratios measured with it come out too high; bench/pages.py prefers wrk.
"""
from __future__ import annotations

import http.client
import json
import sys
import threading
import time


def measure(spec: dict, path: str) -> dict:
    latencies: list[float] = []
    errors: list[int] = []
    stop = time.monotonic() + spec["seconds"]
    headers = {"Cookie": spec.get("cookie", ""), "User-Agent": spec.get("user_agent", "trainer-bench")}
    if spec.get("body"):
        headers.update({"Content-Type": "application/x-www-form-urlencoded", "X-Requested-With": "fetch",
                        "Accept": "application/json"})
    counter = iter(range(1, 10**12))  # rising sequence numbers shared by the threads (next() is atomic in CPython)

    def worker() -> None:
        conn = http.client.HTTPConnection(spec["host"], spec["port"], timeout=60)
        while time.monotonic() < stop:
            started = time.perf_counter()
            if spec.get("body"):
                conn.request("POST", path, body=spec["body"] + str(next(counter)), headers=headers)
            else:
                conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status >= 400:
                errors.append(response.status)

    threads = [threading.Thread(target=worker) for _ in range(spec["clients"])]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "errors": len(errors),
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else None}


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(json.dumps({path: measure(spec, path) for path in spec["paths"]}))
