"""The chain-wide register export for 5,000 staff, as CSV and as XLSX, timed in-process.

`python -m bench.export_timing JSON-ARGS` (the app's environment, a migrated database with a course)
prints JSON. The staff are created in bulk (25 clinics of 200 learners, no attempts yet) and the admin's
session is minted, both before timing; then the two downloads are requested through the app (routing,
queries, records, file) in alternation, three times each: the medians of wall-clock and CPU time.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

from bench.common import USER_AGENT
from bench.prepare import create_people, mint_session
from trainer import create_app
from trainer.extensions import db

ROUNDS = 3
PER_CLINIC = 200


def time_exports(staff: int, password: str, prefix: str) -> dict:
    app = create_app()
    with app.app_context():
        _, admin = create_people(staff, prefix, PER_CLINIC, password)
        session = mint_session(app, admin)
        db.session.remove()
    client = app.test_client()
    name, value = session["cookie"].split("=", 1)
    client.set_cookie(name, value, domain="localhost")
    times: dict[str, dict[str, list[float]]] = {fmt: {"wall": [], "cpu": []} for fmt in ("csv", "xlsx")}
    sizes = {}
    for _ in range(ROUNDS):
        for fmt in ("csv", "xlsx"):
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.get(f"/manage/register.{fmt}?clinic=all", headers={"User-Agent": USER_AGENT})
            times[fmt]["wall"].append(time.perf_counter() - wall)
            times[fmt]["cpu"].append(time.process_time() - cpu)
            if response.status_code != 200:
                raise SystemExit(f"register.{fmt} answered {response.status_code}")
            sizes[fmt] = len(response.get_data())
    return {"staff": staff, "rounds": ROUNDS,
            **{fmt: {"wall_s": statistics.median(t["wall"]), "cpu_s": statistics.median(t["cpu"]),
                     "bytes": sizes[fmt]} for fmt, t in times.items()}}


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    print(json.dumps(time_exports(args["staff"], args["password"], args["prefix"])))
