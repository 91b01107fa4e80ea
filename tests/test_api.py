"""The API walk-through: catalog, instances, grading, stored reports, and who may read what."""
import numpy as np
import pytest

from tests.conftest import count_submissions


def test_catalog_lists_the_exercises_without_a_key(client):
    listing = client.get("/api/v1/exercises").json
    assert {"linear-bptt", "hidden-state-gradient", "tanh-rnn-bptt"} <= {e["id"] for e in listing}
    entry = next(e for e in listing if e["id"] == "linear-bptt")
    assert entry["kinds"] == ["numeric", "code"] and entry["max_score"] == pytest.approx(1.0)
    assert any("(9.7.15)" in eq for eq in entry["equations"])


def test_exercise_detail_has_statement_fields_and_starter(client):
    detail = client.get("/api/v1/exercises/tanh-rnn-bptt").json
    assert detail["convention"] == "code"
    assert "$$" in detail["statement"]
    assert [f["name"] for f in detail["answer_fields"]] == ["dW_xh", "dW_hh", "db_h", "dW_hq", "db_q", "dH0"]
    assert "def rnn_bptt(" in detail["starter"]
    assert "missing-tanh-derivative" in {m["slug"] for m in detail["misconceptions"]}


def test_same_learner_and_attempt_get_the_same_instance(client, alice, make_key, fetch_instance):
    first, again = fetch_instance("linear-bptt", alice), fetch_instance("linear-bptt", alice)
    assert first["params"] == again["params"]
    assert fetch_instance("linear-bptt", alice, attempt=2)["params"] != first["params"]
    assert fetch_instance("linear-bptt", make_key("learner", "bob"))["params"] != first["params"]


def test_instance_answer_fields_name_concrete_shapes(fetch_instance, alice):
    instance = fetch_instance("linear-bptt", alice)
    T, d = instance["arrays"]["X"].shape
    h, q = instance["arrays"]["W_hh"].shape[0], instance["arrays"]["W_qh"].shape[0]
    fields = instance["answer_fields"]
    assert fields["dW_hx"]["shape"] == [h, d] and fields["dW_qh"]["shape"] == [q, h]
    assert fields["dL_dh"]["shape"] == [T, h]


def linear_answer(arrays):
    from grader.reference.linear import linear_bptt
    return linear_bptt(**arrays)


def test_right_answer_is_stored_and_readable(app, client, alice, fetch_instance, submit):
    instance = fetch_instance("linear-bptt", alice)
    response = submit(instance, linear_answer(instance["arrays"]), alice)
    assert response.status_code == 201
    report = response.json
    assert report["verdict"] == "correct" and report["learner"] == "alice"
    assert response.headers["Location"] == f"/api/v1/submissions/{report['id']}"
    stored = client.get(response.headers["Location"], headers=alice)
    assert stored.status_code == 200 and stored.json == report
    assert count_submissions(app) == 1


def test_wrong_answer_names_the_mistake_and_where(client, alice, fetch_instance, submit):
    instance = fetch_instance("linear-bptt", alice)
    arrays = instance["arrays"]
    answer = linear_answer(arrays)
    H = np.empty((arrays["X"].shape[0], arrays["W_hh"].shape[0]))
    h = arrays["h0"]
    for t in range(len(H)):
        h = H[t] = arrays["W_hx"] @ arrays["X"][t] + arrays["W_hh"] @ h
    answer["dW_hh"] = answer["dL_dh"].T @ H  # pairs dL/dh_t with h_t instead of h_{t-1}
    report = submit(instance, answer, alice).json
    assert report["verdict"] == "partially_correct"
    assert report["score"] == pytest.approx(0.7)
    part = next(p for p in report["parts"] if p["name"] == "dW_hh")
    assert part["verdict"] == "incorrect" and part["misconceptions"] == ["h-t-instead-of-h-prev"]
    assert part["relative_error"] > 1e-3 and len(part["location"]["index"]) == 2
    (match,) = report["misconceptions"]
    assert match["slug"] == "h-t-instead-of-h-prev" and match["parts"] == ["dW_hh"]
    assert "(9.7.16)" in match["equation"]


def test_per_step_error_is_located_in_time(client, alice, fetch_instance, submit):
    instance = fetch_instance("linear-bptt", alice)
    answer = linear_answer(instance["arrays"])
    answer["dL_dh"][1] += 0.5
    part = next(p for p in submit(instance, answer, alice).json["parts"] if p["name"] == "dL_dh")
    assert part["location"]["time_step"] == 2
    assert part["relation"]["kind"] == "time-range" and part["relation"]["time_steps"] == [2, 2]


def test_invalid_answer_is_a_report_not_an_error(app, client, alice, fetch_instance, submit):
    instance = fetch_instance("linear-bptt", alice)
    answer = linear_answer(instance["arrays"])
    answer["dW_hx"] = answer["dW_hx"][:, :1]
    response = submit(instance, answer, alice)
    assert response.status_code == 201
    assert response.json["verdict"] == "invalid" and response.json["score"] == 0.0
    (part,) = response.json["parts"]
    assert part["name"] == "dW_hx" and "expected (" in part["message"]


def test_learners_see_only_their_own_submissions(app, client, alice, admin, make_key, fetch_instance, submit):
    bob = make_key("learner", "bob")
    mine = submit(fetch_instance("linear-bptt", alice), {}, alice).json
    theirs = submit(fetch_instance("linear-bptt", bob), {}, bob).json
    assert client.get(f"/api/v1/submissions/{theirs['id']}", headers=alice).status_code == 404
    assert [s["id"] for s in client.get("/api/v1/submissions", headers=alice).json] == [mine["id"]]
    assert client.get("/api/v1/submissions?learner=bob", headers=alice).status_code == 403
    everyone = client.get("/api/v1/submissions", headers=admin).json
    assert {s["id"] for s in everyone} == {mine["id"], theirs["id"]}
    only_bob = client.get("/api/v1/submissions?learner=bob&exercise_id=linear-bptt", headers=admin).json
    assert [s["id"] for s in only_bob] == [theirs["id"]]
    assert client.get(f"/api/v1/submissions/{mine['id']}", headers=make_key("instructor")).status_code == 404


def test_trusted_keys_act_for_a_named_learner(client, make_key, admin):
    """Admins act for any learner; an instructor only for learners enrolled in its course (issue 11)."""
    assert client.post("/api/v1/courses", json={"id": "k1", "title": "K"}, headers=admin).status_code == 201
    instructor = {"Authorization": f"Bearer {client.post('/api/v1/courses/k1/instructors', headers=admin).json['key']}"}
    client.post("/api/v1/courses/k1/learners", json={"learners": ["carol"]}, headers=instructor)
    for headers, learner in ((admin, "zoe"), (instructor, "carol")):
        response = client.post("/api/v1/exercises/linear-bptt/instances", json={"learner": learner}, headers=headers)
        instance = response.json["instance"]
        assert instance["learner"] == learner
        body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"],
                "answer": {}, "learner": learner}
        assert client.post("/api/v1/submissions", json=body, headers=headers).json["learner"] == learner
    lone = make_key("instructor")
    token = client.post("/api/v1/exercises/linear-bptt/instances", json={"learner": "carol"},
                        headers=lone).json["instance"]["token"]
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": token, "answer": {}, "learner": "carol"}
    assert client.post("/api/v1/submissions", json=body, headers=lone).status_code == 403


def test_admin_creates_keys_through_the_api(client, admin):
    response = client.post("/api/v1/keys", json={"role": "learner", "learner": "dave"}, headers=admin)
    assert response.status_code == 201
    key = response.json["key"]
    dave = {"Authorization": f"Bearer {key}"}
    assert client.post("/api/v1/exercises/linear-bptt/instances", json={}, headers=dave).json[
        "instance"]["learner"] == "dave"
    assert client.post("/api/v1/keys", json={"role": "learner"}, headers=admin).status_code == 422


def test_health_reports_storage_catalog_and_sandbox(client, zygote):
    body = client.get("/api/v1/health").json
    assert body["status"] == "ok"
    assert body["checks"]["storage"]["status"] == "ok" and body["checks"]["catalog"]["exercises"] == 12
    assert body["checks"]["sandbox"]["status"] == "ok" and body["checks"]["sandbox"]["missing"] == []


def test_health_is_degraded_but_up_without_a_sandbox(app, client):
    app.extensions["grader.sandbox"].socket_path = "/nonexistent/sandbox.sock"
    response = client.get("/api/v1/health")
    assert response.status_code == 200 and response.json["status"] == "degraded"
    assert response.json["checks"]["sandbox"]["status"] == "failing"


def test_openapi_document_and_docs_are_served_offline(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {"/api/v1/submissions", "/api/v1/exercises/{exercise_id}/instances"} <= set(spec["paths"])
    assert "Problem" in spec["components"]["schemas"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/api/v1/docs/static/" in docs.data
    with client.get("/api/v1/docs/static/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200
