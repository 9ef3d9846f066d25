"""Load driver, run in its own process: `python bench/load.py JSON-SPEC` prints JSON results.

Scenarios:
  pages    -- signed-in (or anonymous) GETs of a list of paths by C clients for S seconds
  autosave -- each client signs in as its own learner, starts an attempt and fires saves with
              rising sequence numbers; every acknowledged save is recorded for checking afterwards
"""
from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import time
from urllib.parse import urlencode


class Client:
    """One browser-like client: a keep-alive connection and a session cookie."""

    def __init__(self, host: str, port: int):
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = urlencode(body, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location"), payload.decode("utf-8", "replace")

    def csrf(self, path: str) -> str:
        _, _, html = self.request("GET", path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    def login(self, email: str, password: str) -> None:
        token = self.csrf("/login")
        status, _, _ = self.request("POST", "/login", {"email": email, "password": password, "csrf_token": token})
        if status != 302:
            raise SystemExit(f"sign-in failed for {email}: {status}")


def pages(spec: dict) -> dict:
    results = {}
    for path in spec["paths"]:
        latencies, errors = [], []
        stop = time.monotonic() + spec["seconds"]

        def worker(path: str, stop: float, latencies: list, errors: list) -> None:
            client = Client(spec["host"], spec["port"])
            if spec.get("email"):
                client.login(spec["email"], spec["password"])
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                status, _, _ = client.request("GET", path)
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    errors.append(status)

        threads = [threading.Thread(target=worker, args=(path, stop, latencies, errors))
                   for _ in range(spec["clients"])]
        t_start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t_start
        latencies.sort()
        results[path] = {"requests": len(latencies), "rps": len(latencies) / elapsed, "errors": len(errors),
                         "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
                         "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)] if latencies else None}
    return results


def autosave(spec: dict) -> dict:
    acknowledged = []  # (attempt_id, position, seq)
    failures = []
    lock = threading.Lock()

    def worker(email: str):
        client = Client(spec["host"], spec["port"])
        client.login(email, spec["password"])
        token = client.csrf(spec["module_path"])
        status, location, _ = client.request("POST", spec["module_path"] + "/attempts", {"csrf_token": token})
        attempt_id = int(location.rstrip("/").rsplit("/", 1)[1])
        _, _, page = client.request("GET", f"/attempts/{attempt_id}")
        # Questions answered with one radio or checkbox value: position -> the values offered.
        options: dict[int, list[str]] = {}
        for position, value in re.findall(r'name="q(\d+)" value="([^"]+)"', page):
            options.setdefault(int(position), []).append(value)
        positions = sorted(options)
        for seq in range(1, spec["saves"] + 1):
            position = positions[seq % len(positions)]
            values = options[position]
            status, _, body = client.request(
                "POST", f"/attempts/{attempt_id}/answers/{position}",
                {f"q{position}": values[seq % len(values)], "seq": str(seq), "csrf_token": token},
                {"X-Requested-With": "fetch", "Accept": "application/json"})
            with lock:
                if status == 200 and json.loads(body).get("saved"):
                    acknowledged.append((attempt_id, position, seq))
                elif status != 200:
                    failures.append(status)

    threads = [threading.Thread(target=worker, args=(email,)) for email in spec["emails"]]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    return {"acknowledged": acknowledged, "failures": failures, "saves_per_second": len(acknowledged) / elapsed}


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(json.dumps({"pages": pages, "autosave": autosave}[spec["scenario"]](spec)))
