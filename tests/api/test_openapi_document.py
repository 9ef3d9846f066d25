"""static/openapi.yaml matches the app: every documented path, response and field exists in real responses."""
import re
from datetime import date, datetime

import pytest
import yaml
from sqlalchemy import delete, select

from tests.conftest import ROOT, TINY_COURSE
from tests.factories import import_course, make_clinic, make_user, take_attempt
from trainer.certification.status import COURSE_STATUSES, EXPIRED, EXPIRING, REVOKED, SUPERSEDED, VALID
from trainer.extensions import db
from trainer.models import Certificate, UserRole
from trainer.services.api_tokens import create_token
from trainer.services.register import SORT_KEYS, STATUS_FILTERS

DOCUMENT = ROOT / "static" / "openapi.yaml"
# Responses a test cannot provoke without breaking the app on purpose.
NOT_PROVOKED = {("/healthz", "503")}


@pytest.fixture
def spec():
    return yaml.safe_load(DOCUMENT.read_text())


@pytest.fixture
def world(app):
    """A clinic: a manager with a token, a former manager with one, a certified practitioner, one not started."""
    app.config["VERIFY_LOOKUPS_PER_MINUTE"] = 2
    course = import_course(TINY_COURSE)
    clinic = make_clinic("Home Clinic")
    manager = make_user("manager", clinic=clinic)
    learner = make_user("learner", clinic=clinic)
    make_user("learner", clinic=clinic)
    for module in course.modules:
        take_attempt(learner, module)
    former = make_user("manager", clinic=clinic)
    former_token = create_token(former, "Old")[1]
    db.session.execute(delete(UserRole).where(UserRole.user_id == former.id, UserRole.role == "manager"))
    db.session.commit()
    return {"code": db.session.scalar(select(Certificate.code)), "token": create_token(manager, "HR")[1],
            "former_token": former_token}


def follow(spec, node):
    """Replace a {$ref: "#/a/b"} node by what it points to."""
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


TYPE_CHECKS = {
    "null": lambda v: v is None, "boolean": lambda v: isinstance(v, bool), "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
}


def check(spec, value, schema, where, patterns_seen):
    """Assert that `value` conforms to `schema` (the subset of JSON Schema the document uses)."""
    schema = follow(spec, schema)
    types = schema.get("type")
    if types:
        types = [types] if isinstance(types, str) else types
        assert any(TYPE_CHECKS[t](value) for t in types), f"{where}: {value!r} is not {types}"
    if value is None:
        return
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if schema.get("format") == "date":
        date.fromisoformat(value)
    if schema.get("format") == "date-time":
        assert datetime.fromisoformat(value).tzinfo is not None, f"{where}: {value!r} has no offset"
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        assert set(schema.get("required", [])) <= set(value), f"{where}: missing {set(schema['required']) - set(value)}"
        assert set(properties) <= set(value), f"{where}: documented but absent: {set(properties) - set(value)}"
        for key, item in value.items():
            if key in properties:
                check(spec, item, properties[key], f"{where}.{key}", patterns_seen)
                continue
            pattern = next((p for p in schema.get("patternProperties", {}) if re.search(p, key)), None)
            assert pattern or schema.get("additionalProperties", True) is not False, f"{where}.{key} is undocumented"
            if pattern:
                patterns_seen.add(pattern)
                check(spec, item, schema["patternProperties"][pattern], f"{where}.{key}", patterns_seen)
    if isinstance(value, list):
        for i, item in enumerate(value):
            check(spec, item, schema["items"], f"{where}[{i}]", patterns_seen)


def cases(world):
    """(documented path, status, url, headers, client IP) for every response the document promises."""
    bearer = {"Authorization": f"Bearer {world['token']}"}
    former_manager = {"Authorization": f"Bearer {world['former_token']}"}
    code = world["code"]
    return [
        ("/api/v1/register", "200", "/api/v1/register", bearer, "10.0.0.1"),
        ("/api/v1/register", "400", "/api/v1/register?sort=salary", bearer, "10.0.0.1"),
        ("/api/v1/register", "401", "/api/v1/register", {}, "10.0.0.1"),
        ("/api/v1/register", "403", "/api/v1/register", former_manager, "10.0.0.1"),
        ("/api/v1/register", "404", "/api/v1/register?course=nope", bearer, "10.0.0.1"),
        ("/api/v1/certificates/{code}", "200", f"/api/v1/certificates/{code}", {}, "10.0.0.2"),
        ("/api/v1/certificates/{code}", "404", "/api/v1/certificates/nope", {}, "10.0.0.2"),
        ("/api/v1/certificates/{code}", "429", f"/api/v1/certificates/{code}", {}, "10.0.0.2"),
        ("/verify", "200", "/verify", {}, "10.0.0.5"),
        ("/verify", "302", f"/verify?code={code}", {}, "10.0.0.5"),
        ("/verify", "400", "/verify?code=+", {}, "10.0.0.5"),
        ("/verify/{code}", "200", f"/verify/{code}", {}, "10.0.0.3"),
        ("/verify/{code}", "404", "/verify/nope", {}, "10.0.0.3"),
        ("/verify/{code}", "429", f"/verify/{code}", {}, "10.0.0.3"),
        ("/healthz", "200", "/healthz", {}, "10.0.0.4"),
        ("/api/v1/openapi.yaml", "200", "/api/v1/openapi.yaml", {}, "10.0.0.4"),
    ]


def test_the_document_is_served_and_is_openapi_3_1(app, client, spec):
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert yaml.safe_load(response.get_data(as_text=True)) == spec
    assert spec["openapi"].startswith("3.1.")
    assert spec["components"]["securitySchemes"]["bearerToken"] == {
        **spec["components"]["securitySchemes"]["bearerToken"], "type": "http", "scheme": "bearer"}


def test_every_documented_response_happens_and_matches_its_schema(app, world, spec):
    client = app.test_client()
    covered, patterns_seen = set(), set()
    for path, status, url, headers, ip in cases(world):
        response = client.get(url, headers=headers, environ_base={"REMOTE_ADDR": ip})
        assert str(response.status_code) == status, f"GET {url} -> {response.status_code}, documented {status}"
        documented = follow(spec, spec["paths"][path]["get"]["responses"][status])
        content = documented.get("content", {})
        assert response.mimetype in content, f"GET {url}: {response.mimetype} not in {list(content)}"
        for header in documented.get("headers", {}):
            assert header in response.headers, f"GET {url}: documented header {header} missing"
        if response.mimetype == "application/json":
            check(spec, response.get_json(), content["application/json"]["schema"], f"GET {url}", patterns_seen)
        covered.add((path, status))
    documented = {(path, status) for path, item in spec["paths"].items() for status in item["get"]["responses"]}
    assert documented - NOT_PROVOKED == covered
    all_patterns = {p for s in spec["components"]["schemas"].values() for p in s.get("patternProperties", {})}
    assert patterns_seen == all_patterns


def test_register_rows_carry_a_best_score_per_module(app, world, spec):
    body = app.test_client().get("/api/v1/register", headers={"Authorization": f"Bearer {world['token']}"}).get_json()
    pattern = next(iter(spec["components"]["schemas"]["RegisterRow"]["patternProperties"]))
    for row in body["rows"]:
        assert sorted(k for k in row if re.search(pattern, k)) == sorted(
            f"{m['slug']}_best_score" for m in body["course"]["modules"])


def test_every_public_and_api_route_is_documented(app, spec):
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule) for rule in app.url_map.iter_rules()
              if rule.endpoint.split(".")[0] in ("api", "public")}
    assert routes == set(spec["paths"])


def test_documented_enums_match_the_code(spec):
    parameters = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/register"]["get"]["parameters"]}
    schemas = spec["components"]["schemas"]
    assert parameters["status"]["enum"] == list(STATUS_FILTERS)
    assert parameters["sort"]["enum"] == list(SORT_KEYS)
    assert set(schemas["RegisterRow"]["properties"]["status"]["enum"]) == set(COURSE_STATUSES)
    certificate_states = {VALID, EXPIRING, EXPIRED, REVOKED, SUPERSEDED}
    assert set(schemas["Certificate"]["properties"]["status"]["enum"]) == certificate_states
