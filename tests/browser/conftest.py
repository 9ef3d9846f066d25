"""Real-browser fixtures: the app served on 127.0.0.1 from its own SQLite file, driven by Debian's Chromium.

Nothing here downloads a browser: Playwright launches /usr/bin/chromium. When that binary (or the
playwright package) is missing, every test in this directory is reported as skipped with the reason.
"""
from __future__ import annotations

import contextlib
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from tests.conftest import TINY_COURSE, make_app
from tests.factories import PASSWORD, import_course, make_user
from trainer.extensions import db

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
HERE = Path(__file__).resolve().parent
TIMED_SLUG = "tiny-timed"


def _missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the Python 'playwright' package"
    return None


def pytest_collection_modifyitems(config, items):
    """Mark every test in this directory `browser`, and skip them all when Chromium is missing."""
    reason = _missing_reason()
    for item in items:
        if HERE not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


# --- the live server ------------------------------------------------------------------------

def _timed_copy(target: Path) -> Path:
    """The tiny course under another slug, every quiz timed as the shipped ones are.

    `basics` has a one-minute limit (the countdown reaches zero inside a test); `care` has twenty
    minutes, so tests of saving meet the countdown running beside the autosave, as learners do.
    """
    shutil.copytree(TINY_COURSE, target)
    spec = yaml.safe_load((target / "course.yaml").read_text())
    spec["slug"], spec["title"] = TIMED_SLUG, "Tiny Timed Course"
    for module in spec["modules"]:
        module["quiz"]["time_limit_minutes"] = 1 if module["slug"] == "basics" else 20
    (target / "course.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return target


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app with CSRF on, its own SQLite file (not `database_url`), both tiny courses imported."""
    tmp = tmp_path_factory.mktemp("browser")
    app = make_app(f"sqlite:///{tmp / 'browser.db'}", WTF_CSRF_ENABLED=True, SERVER_NAME=None)
    with app.app_context():
        db.create_all()
        import_course(TINY_COURSE)
        import_course(_timed_copy(tmp / "tiny-timed"))
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    """Base URL of a threaded werkzeug server on a free port of 127.0.0.1."""
    if _missing_reason():
        pytest.skip(_missing_reason())
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def in_app(live_app):
    """`with in_app():` runs database code in the live app (its own session, released at the end)."""
    @contextmanager
    def context():
        with live_app.app_context():
            try:
                yield
            finally:
                # SQLite transactions here start with BEGIN IMMEDIATE: never hold one open.
                db.session.rollback()
                db.session.remove()
    return context


@pytest.fixture
def learner(in_app):
    """A fresh learner for each test (so attempts never carry over between tests)."""
    with in_app():
        user = make_user("learner")
        return SimpleNamespace(id=user.id, email=user.email, password=PASSWORD)


# --- the browser ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    reason = _missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server):
    """Open fresh browser contexts (cookie jars) on the live server; all are closed after the test."""
    contexts = []

    def open_context():
        context = browser.new_context(base_url=live_server)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        with contextlib.suppress(Exception):  # already closed by the test
            context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()
