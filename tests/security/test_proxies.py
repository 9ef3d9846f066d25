"""X-Forwarded-For is believed only from the number of proxies TRUSTED_PROXIES names (werkzeug ProxyFix)."""
import pytest
from sqlalchemy import select

from tests.conftest import TINY_COURSE, make_app
from tests.factories import import_course, make_user, take_attempt
from trainer.config import ConfigError, settings_from_environment
from trainer.extensions import db
from trainer.models import Certificate

PROXY = "10.0.0.2"


def _lookups(app, code, forwarded_for):
    client = app.test_client()
    return [client.get(f"/api/v1/certificates/{code}", environ_base={"REMOTE_ADDR": PROXY},
                       headers={"X-Forwarded-For": forwarded_for}).status_code for _ in range(3)]


@pytest.fixture
def code(app):
    course = import_course(TINY_COURSE)
    holder = make_user("learner")
    for module in course.modules:
        take_attempt(holder, module)
    return db.session.scalar(select(Certificate.code))


def test_behind_a_trusted_proxy_each_client_has_its_own_allowance(app, code):
    app.config["VERIFY_LOOKUPS_PER_MINUTE"] = 2
    behind = make_app(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1, VERIFY_LOOKUPS_PER_MINUTE=2)
    db.session.commit()  # the second app shares the database: this session must not hold SQLite's write lock
    assert _lookups(behind, code, "203.0.113.1") == [200, 200, 429]
    assert _lookups(behind, code, "203.0.113.2") == [200, 200, 429]  # another clinic behind the same proxy


def test_without_trusted_proxies_the_header_is_ignored(app, code):
    app.config["VERIFY_LOOKUPS_PER_MINUTE"] = 2
    assert _lookups(app, code, "203.0.113.1") == [200, 200, 429]
    assert _lookups(app, code, "203.0.113.99") == [429, 429, 429]  # a made-up header buys no new allowance


def test_a_trusted_proxy_gives_the_client_and_scheme_never_the_host(database_url):
    behind = make_app(database_url, TRUSTED_PROXIES=1)

    @behind.route("/_seen")
    def seen():
        from flask import request
        return {"scheme": request.scheme, "host": request.host, "remote_addr": request.remote_addr}

    client = behind.test_client()
    response = client.get("/_seen", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
                                             "X-Forwarded-For": "203.0.113.1"}, environ_base={"REMOTE_ADDR": PROXY})
    assert response.get_json() == {"scheme": "https", "host": "trainer.test", "remote_addr": "203.0.113.1"}


def test_trusted_proxies_must_be_a_number(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTED_PROXIES", "yes")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        settings_from_environment(str(tmp_path))
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    assert settings_from_environment(str(tmp_path))["TRUSTED_PROXIES"] == 2
