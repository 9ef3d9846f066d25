"""A real OpenID Connect provider for tests: npm's `oidc-provider` run by Node on 127.0.0.1.

`make test` installs the package into `.cache/oidc` (see the Makefile); without Node or the
package, tests that need the provider are skipped with the reason.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("provider.mjs")
MODULES = ROOT / ".cache" / "oidc"
CLIENT_ID, CLIENT_SECRET = "trainer-tests", "a-test-client-secret-that-is-long-enough"

#: The provider's people, by login: the claims its ID tokens carry.
ACCOUNTS = {
    "sam": {"email": "sam@example.org", "email_verified": True, "name": "Sam Sso", "clinic": "Home Clinic"},
    "sam-entra": {"email": "sam@example.org", "xms_edov": True, "name": "Sam Entra"},
    "sam-unverified": {"email": "sam@example.org", "email_verified": False, "name": "Sam Unverified"},
    "newbie": {"email": "newbie@example.org", "email_verified": True, "name": "Nora Newbie",
               "clinic": "  home CLINIC ", "groups": ["staff"]},
    "new-manager": {"email": "boss@example.org", "email_verified": True, "name": "Bea Boss",
                    "clinic": "Home Clinic", "groups": ["staff", "trainer-managers"]},
    "would-be-admin": {"email": "sneaky@example.org", "email_verified": True, "name": "Sid Sneaky",
                       "clinic": "Home Clinic", "groups": ["admins", "Domain Admins"]},
    "nowhere": {"email": "nowhere@example.org", "email_verified": True, "name": "Nell Nowhere",
                "clinic": "Clinic That Is Not Here"},
    "archived": {"email": "gone@example.org", "email_verified": True, "name": "Gil Gone", "clinic": "Old Clinic"},
    "new-unverified": {"email": "quiet@example.org", "email_verified": False, "name": "Quinn Quiet",
                       "clinic": "Home Clinic"},
    "staff2": {"email": "staff2@example.org", "email_verified": True, "name": "Staff Member 2"},
}


def missing_reason() -> str | None:
    if shutil.which("node") is None:
        return "the single sign-on tests need Node.js (apt-get install nodejs)"
    if not (MODULES / "node_modules" / "oidc-provider").is_dir():
        return "the single sign-on tests need npm's oidc-provider in .cache/oidc (`make test` installs it)"
    return None


@dataclass
class Provider:
    issuer: str

    def app_config(self, **extra) -> dict:
        """Settings that point the app at this provider."""
        return {"OIDC_ISSUER": self.issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "OIDC_PROVIDER_NAME": "Test Identity", **extra}

    def sign_in(self, authorization_url: str, login: str, stop_at: str) -> str:
        """Sign in at the provider as `login`, the way a browser would; return the URL it sends back to `stop_at`."""
        browser = requests.Session()
        url = authorization_url
        for _ in range(10):
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.is_redirect:
                url = urljoin(url, response.headers["Location"])
                if url.startswith(stop_at):
                    return url
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
            assert form, f"no sign-in form at {url}: {response.status_code} {response.text[:300]}"
            response = browser.post(urljoin(url, unescape(form.group(1))), allow_redirects=False, timeout=10,
                                    data={"prompt": "login", "login": login, "password": "any"})
            assert response.is_redirect, response.text[:300]
            url = urljoin(url, response.headers["Location"])
            if url.startswith(stop_at):
                return url
        raise AssertionError(f"the provider never sent the browser back to {stop_at}")


@contextmanager
def running_provider(redirect_uris: list[str]) -> Iterator[Provider]:
    """Start the provider on a free port of 127.0.0.1 for these redirect URIs; stop it afterwards."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    setup = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris,
             "accounts": ACCOUNTS}
    # Its warnings go to a file: a pipe nobody reads could fill up and stall the provider.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(["node", str(SCRIPT)], stdout=subprocess.PIPE, stderr=log, text=True,
                                   env={**os.environ, "OIDC_TEST_SETUP": json.dumps(setup),
                                        "OIDC_PROVIDER_MODULES": str(MODULES)})
        try:
            line = process.stdout.readline() if process.stdout else ""
            if not line.startswith("issuer "):
                process.kill()
                log.seek(0)
                raise RuntimeError(f"the OpenID provider did not start: {line}{log.read()[-2000:]}")
            yield Provider(issuer=line.split(" ", 1)[1].strip())
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            if process.stdout:
                process.stdout.close()
