"""Right data on every backend: instants with their offsets, finite reports, and no 500 from any
input (each case runs on SQLite and on PostgreSQL)."""
import io
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from grader import auth, storage


def strict_json(text):
    """json.loads that refuses NaN and Infinity, as strict parsers (browsers, Go, Java) do."""
    def refuse(constant):
        raise ValueError(f"non-finite number {constant} in a JSON document")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def api(backend_app):
    """(client, headers by role) on a fresh database of each backend, with course c1 and learner ann."""
    storage.upgrade(backend_app)
    with backend_app.app_context():
        admin = {"Authorization": f"Bearer {auth.create_key(storage.session(backend_app), role='admin').key}"}
    client = backend_app.test_client()
    assert client.post("/api/v1/courses", json={"id": "c1", "title": "RNNs"}, headers=admin).status_code == 201
    teacher = {"Authorization": f"Bearer {client.post('/api/v1/courses/c1/instructors', headers=admin).json['key']}"}
    rows = client.post("/api/v1/courses/c1/learners", json={"learners": ["ann"], "keys": True}, headers=teacher).json
    return client, {"admin": admin, "teacher": teacher, "ann": {"Authorization": f"Bearer {rows[0]['key']}"}}


def _answer_right(client, headers, exercise_id="linear-bptt"):
    from grader.reference.linear import linear_bptt
    instance = client.post(f"/api/v1/exercises/{exercise_id}/instances", json={}, headers=headers).json["instance"]
    answer = {k: v.tolist() for k, v in linear_bptt(**{k: np.asarray(v) for k, v in instance["params"].items()}).items()}
    return instance, answer


def test_deadlines_with_an_offset_are_enforced_in_utc(api):
    client, keys = api
    minus_five = timezone(timedelta(hours=-5))
    due = (datetime.now(timezone.utc) + timedelta(hours=1)).astimezone(minus_five).replace(microsecond=0)
    created = client.post("/api/v1/courses/c1/assignments", headers=keys["teacher"],
                          json={"exercise_id": "linear-bptt", "due_at": due.isoformat()})
    assert created.status_code == 201
    returned = datetime.fromisoformat(created.json["due_at"])
    assert returned.tzinfo is not None and returned == due
    listed = client.get("/api/v1/courses/c1/assignments", headers=keys["teacher"]).json
    assert datetime.fromisoformat(listed[0]["due_at"]) == due
    instance, answer = _answer_right(client, keys["ann"])
    response = client.post("/api/v1/submissions", headers=keys["ann"], json={
        "exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"], "answer": answer})
    assert response.status_code == 201, response.json  # an hour before the deadline
    assert response.json["late"] is False
    assert datetime.fromisoformat(response.json["created_at"]).tzinfo is not None
    for course in client.get("/api/v1/courses", headers=keys["admin"]).json:
        assert datetime.fromisoformat(course["created_at"]).tzinfo is not None


def test_huge_finite_answers_make_finite_reports(api):
    client, keys = api
    instance, answer = _answer_right(client, keys["ann"])
    huge = {k: (np.full(np.shape(v), 1e308) * (-1) ** i).tolist() for i, (k, v) in enumerate(answer.items())}
    response = client.post("/api/v1/submissions", headers=keys["ann"], json={
        "exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"], "answer": huge})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    report = strict_json(response.get_data(as_text=True))
    assert report["verdict"] == "incorrect"
    assert any("overflow" in p["message"] or "not comparable" in p["message"] for p in report["parts"])
    listing = client.get("/api/v1/submissions", headers=keys["ann"])
    assert strict_json(listing.get_data(as_text=True))[0]["id"] == report["id"]
    stored = client.get(f"/api/v1/submissions/{report['id']}", headers=keys["ann"])
    strict_json(stored.get_data(as_text=True))


@pytest.mark.parametrize("assignment_id", [2 ** 31, 2 ** 63, 2 ** 80])
def test_huge_assignment_ids_are_not_a_500(api, assignment_id):
    client, keys = api
    instance, answer = _answer_right(client, keys["ann"])
    response = client.post("/api/v1/submissions", headers=keys["ann"], json={
        "exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"], "answer": answer,
        "assignment_id": assignment_id})
    assert response.status_code in (404, 422) and response.mimetype == "application/problem+json", response.json


@pytest.mark.parametrize("max_attempts", [2 ** 31, 2 ** 63])
def test_huge_max_attempts_is_not_a_500(api, max_attempts):
    client, keys = api
    response = client.post("/api/v1/courses/c1/assignments", headers=keys["teacher"],
                           json={"exercise_id": "linear-bptt", "max_attempts": max_attempts})
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.json


NUL = "a\x00b"


@pytest.mark.parametrize("where", ["course-id", "course-title", "learner", "label", "query", "exercise-id", "path"])
def test_a_nul_character_is_a_4xx_everywhere(api, where):
    client, keys = api
    requests = {
        "course-id": ("post", "/api/v1/courses", {"id": NUL, "title": "t"}, keys["admin"]),
        "course-title": ("post", "/api/v1/courses", {"id": "c9", "title": NUL}, keys["admin"]),
        "learner": ("post", "/api/v1/courses/c1/learners", {"learners": [NUL]}, keys["teacher"]),
        "label": ("post", "/api/v1/keys", {"role": "learner", "learner": "x", "label": NUL}, keys["admin"]),
        "query": ("get", f"/api/v1/submissions?learner={NUL}", None, keys["admin"]),
        "exercise-id": ("get", f"/api/v1/exercises/{NUL}/stats", None, keys["admin"]),
        "path": ("get", f"/api/v1/submissions/{NUL}", None, keys["admin"]),
    }
    method, path, body, headers = requests[where]
    response = getattr(client, method)(path, json=body, headers=headers) if body else \
        getattr(client, method)(path, headers=headers)
    assert 400 <= response.status_code < 500 and response.mimetype == "application/problem+json", \
        (response.status_code, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("depth", [900, 948, 960, 968, 2000])
def test_deeply_nested_answers_are_a_4xx(api, depth):
    client, keys = api
    instance, _ = _answer_right(client, keys["ann"])
    nested = "[" * depth + "1" + "]" * depth
    body = ('{"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": "%s", "answer": {"dW_hh": %s}}'
            % (instance["token"], nested))
    response = client.post("/api/v1/submissions", headers={**keys["ann"], "Content-Type": "application/json",
                                                           "Idempotency-Key": f"deep-{depth}"}, data=body)
    assert response.status_code in (400, 201, 422) and response.status_code != 500, response.get_data(as_text=True)
    assert response.mimetype in ("application/problem+json", "application/json")


def test_a_chunked_body_over_the_cap_is_413(api):
    """As gunicorn hands a chunked body to the app: no Content-Length, wsgi.input_terminated."""
    client, keys = api
    body = b'{"exercise_id": "linear-bptt", "kind": "numeric", "answer": {"x": "' + b"0" * (1 << 20) + b'"}}'
    response = client.post("/api/v1/submissions", input_stream=io.BytesIO(body),
                           headers={**keys["ann"], "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert response.status_code == 413 and response.mimetype == "application/problem+json", response.json
    small = b'{"exercise_id": "linear-bptt", "kind": "numeric", "answer": {}}'
    response = client.post("/api/v1/submissions", input_stream=io.BytesIO(small),
                           headers={**keys["ann"], "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})
    assert response.status_code == 422 and "instance_token" in json.dumps(response.json)  # read whole, then validated
