"""The spike's load driver, run in its own process: `python -m bench.spike_driver < SPEC.json` prints JSON.

One asyncio task per learner, all sharing one aiohttp connector, so 1,000 learners cost the driver
little CPU (it reports its own). Each learner, with a minted session cookie:

  waits a random moment within `ramp` seconds, opens the module page, starts an attempt (POST),
  opens the quiz page, saves an answer every `interval` seconds (`saves` times, rising sequence
  numbers), then submits.

With `sign_ins` (emails, and the `password` they share), each of those people also signs in through
the real login form, the sign-ins spread evenly over the `ramp` seconds: GET /login for the form's
CSRF token and session cookie (not timed), then POST /login (the `sign-in` sample, bcrypt and all).
A 302 to anywhere but the sign-in page is success; anything else is a `sign-in` error.

A dropped connection (a killed worker) is retried, at most RETRIES times; the latency counts from
the first try. Every save the server acknowledged is recorded, for the lost-answer check.
"""
from __future__ import annotations

import asyncio
import json
import random
import re
import resource
import sys
import time
from urllib.parse import urlsplit

import aiohttp

from bench.common import USER_AGENT

RETRIES = 3
_OPTION = re.compile(r'name="q(\d+)" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SIGN_IN = "sign-in"


class Spike:
    def __init__(self, spec: dict):
        self.spec = spec
        self.t0 = 0.0
        self.samples: list[tuple[float, str, float, int]] = []  # (start s, kind, latency ms, status)
        self.acknowledged: list[tuple[int, int, int]] = []  # (attempt id, position, seq)
        self.errors: dict[str, int] = {}
        self.retried = 0
        self.learners_done = 0

    async def call(self, http: aiohttp.ClientSession, base: str, kind: str, method: str, path: str,
                   cookie: str, data: dict | None = None, json_reply: bool = False, timed: bool = True):
        """One request as a browser sends it; (status, Location, body, Set-Cookie as a Cookie header) or None
        after the retries. With `timed` false no sample is kept (a failure still counts as an error of `kind`)."""
        headers = {"User-Agent": USER_AGENT}
        if cookie:
            headers["Cookie"] = cookie
        if json_reply:
            headers.update({"X-Requested-With": "fetch", "Accept": "application/json"})
        started = time.monotonic()
        for attempt in range(RETRIES + 1):
            try:
                async with http.request(method, base + path, data=data, headers=headers,
                                        allow_redirects=False) as response:
                    body = await response.text()
                    status, location = response.status, response.headers.get("Location", "")
                    set_cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in response.cookies.items())
                break
            except (TimeoutError, aiohttp.ClientConnectionError):
                if attempt == RETRIES:
                    if timed:
                        self.samples.append((started - self.t0, kind, 1000 * (time.monotonic() - started), 0))
                    self.errors[kind] = self.errors.get(kind, 0) + 1
                    return None
                self.retried += 1
                await asyncio.sleep(0.2)
        if timed:
            self.samples.append((started - self.t0, kind, 1000 * (time.monotonic() - started), status))
        return status, location, body, set_cookie

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    async def learner(self, http: aiohttp.ClientSession, index: int, person: dict) -> None:
        spec, rng = self.spec, random.Random(index)
        base = f"http://{spec['hosts'][index % len(spec['hosts'])]}"  # round-robin over app servers
        cookie, csrf, module_path = person["cookie"], person["csrf"], spec["module_path"]
        await asyncio.sleep(rng.uniform(0, spec["ramp"]))
        reply = await self.call(http, base, "module page", "GET", module_path, cookie)
        if reply is None or reply[0] != 200:
            return self.error("module page") if reply else None
        reply = await self.call(http, base, "start", "POST", module_path + "/attempts", cookie, {"csrf_token": csrf})
        if reply is None or reply[0] != 302 or "/attempts/" not in reply[1]:
            return self.error("start") if reply else None
        quiz_path = reply[1][reply[1].index("/attempts/"):]
        attempt_id = int(quiz_path.rstrip("/").rsplit("/", 1)[1])
        reply = await self.call(http, base, "quiz page", "GET", quiz_path, cookie)
        if reply is None or reply[0] != 200:
            return self.error("quiz page") if reply else None
        options: dict[int, list[str]] = {}
        for position, value in _OPTION.findall(reply[2]):
            options.setdefault(int(position), []).append(value)
        positions = sorted(options)
        next_save = time.monotonic()
        for seq in range(1, spec["saves"] + 1):
            next_save += spec["interval"]
            await asyncio.sleep(max(0.0, next_save - time.monotonic()))
            position = positions[seq % len(positions)]
            values = options[position]
            reply = await self.call(http, base, "autosave", "POST", f"{quiz_path}/answers/{position}", cookie,
                                    {f"q{position}": values[seq % len(values)], "seq": str(seq), "csrf_token": csrf},
                                    json_reply=True)
            if reply is None:
                continue
            if reply[0] == 200 and json.loads(reply[2]).get("saved"):
                self.acknowledged.append((attempt_id, position, seq))
            else:
                self.error("autosave")
        reply = await self.call(http, base, "submit", "POST", f"{quiz_path}/submit", cookie, {"csrf_token": csrf})
        if reply is not None and (reply[0] != 302 or "/result" not in reply[1]):
            self.error("submit")
        self.learners_done += 1

    async def sign_in(self, http: aiohttp.ClientSession, index: int, email: str) -> None:
        """One person signing in through the form, at their evenly spaced moment of the ramp."""
        spec = self.spec
        base = f"http://{spec['hosts'][index % len(spec['hosts'])]}"
        await asyncio.sleep(index * spec["ramp"] / len(spec["sign_ins"]))
        reply = await self.call(http, base, SIGN_IN, "GET", "/login", "", timed=False)
        if reply is None:
            return
        token = _CSRF.search(reply[2])
        if reply[0] != 200 or token is None or not reply[3]:
            return self.error(SIGN_IN)
        reply = await self.call(http, base, SIGN_IN, "POST", "/login", reply[3],
                                {"email": email, "password": spec["password"], "csrf_token": token.group(1)})
        if reply is not None and (reply[0] != 302 or urlsplit(reply[1]).path.startswith("/login")):
            self.error(SIGN_IN)

    async def run(self) -> dict:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=self.spec.get("timeout", 120))
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         cookie_jar=aiohttp.DummyCookieJar()) as http:
            self.t0 = time.monotonic()
            learners = (self.learner(http, i, person) for i, person in enumerate(self.spec["people"]))
            sign_ins = (self.sign_in(http, i, email) for i, email in enumerate(self.spec.get("sign_ins", [])))
            await asyncio.gather(*learners, *sign_ins)
        elapsed = time.monotonic() - self.t0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"samples": self.samples, "acknowledged": self.acknowledged, "errors": self.errors,
                "retried": self.retried, "learners": len(self.spec["people"]), "learners_done": self.learners_done,
                "elapsed_s": elapsed, "driver_cpu_s": usage.ru_utime + usage.ru_stime}


def main() -> None:
    spec = json.load(sys.stdin)
    print(json.dumps(asyncio.run(Spike(spec).run())))


if __name__ == "__main__":
    main()
