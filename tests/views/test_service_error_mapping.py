"""One mapping from a service's refusal to HTTP, for every blueprint: NotFound is a 404 (saying no more
than any 404), Forbidden a 403 and any other ServiceError a 400, each with the service's message."""
import pytest

from trainer.services import Forbidden, NotFound, ServiceError

REFUSALS = {"not-found": NotFound("Person 7 is in another clinic."), "forbidden": Forbidden("Only an admin can."),
            "refused": ServiceError("Give the person a name.")}


@pytest.fixture
def refusing_app(app):
    @app.route("/_refuse/<kind>")
    def refuse(kind: str):
        raise REFUSALS[kind]

    return app


@pytest.mark.parametrize("kind, status, shown", [("not-found", 404, "There is nothing here"),
                                                 ("forbidden", 403, "Only an admin can."),
                                                 ("refused", 400, "Give the person a name.")])
def test_an_uncaught_service_refusal_becomes_its_status_with_a_clear_message(refusing_app, kind, status, shown):
    client = refusing_app.test_client()
    page = client.get(f"/_refuse/{kind}")
    assert page.status_code == status and shown in page.get_data(as_text=True)
    assert "another clinic" not in page.get_data(as_text=True)  # a 404 never says why
    as_json = client.get(f"/_refuse/{kind}", headers={"Accept": "application/json"})
    assert as_json.status_code == status and as_json.get_json()["status"] == status
