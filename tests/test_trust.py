"""The trust rules at the API: fresh hidden instances per code submission, rounded numbers, bounded
reports, authorization, one code job in flight per learner, and no 500 from a learner's input."""
import json
import time

import numpy as np
import pytest
from sqlalchemy import select, update

from grader import storage, tokens
from grader.storage.models import Submission
from tests.conftest import count_submissions, regrade_and_wait, set_rate_limits
from tests.test_catalog import CATALOG

pytestmark = pytest.mark.usefixtures("either_zygote")  # every test from both zygotes (torch loaded)

TANH = CATALOG["tanh-rnn-bptt"]


def _rows(app, learner):
    with app.app_context():
        return list(storage.session(app).scalars(select(Submission).where(Submission.learner == learner)
                                                 .order_by(Submission.created_at)))


def _lookup_table_source(instances):
    """A 'solution' with no gradient code: the answers of instances it has seen, keyed by W_hh."""
    table = {json.dumps(np.round(inst.params["W_hh"], 12).tolist()): {k: np.asarray(v).tolist()
                                                                      for k, v in inst.answer.items()}
             for inst in instances}
    return ("import json\nimport numpy as np\n\nTABLE = " + repr(table) + "\n\n"
            "def rnn_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):\n"
            "    return TABLE[json.dumps(np.round(W_hh, 12).tolist())]\n")


def test_hidden_inputs_learned_once_are_useless_next_time(app, zygote, alice, submit_code):
    """The attack of issue 11: inputs leaked once, answers computed elsewhere, a lookup table."""
    first = submit_code("tanh-rnn-bptt", TANH.solution, alice).json
    assert first["verdict"] == "correct"
    (row,) = _rows(app, "alice")
    with app.app_context():
        legacy = {tokens.derive_seed("test-secret", TANH.id, TANH.version, "alice", -(k + 1)) for k in range(2)}
        seen = legacy | set(getattr(row, "hidden_seeds", None) or [])  # per-learner seeds before, stored ones now
    instances = [TANH.instance(seed) for seed in seen]
    instances += [edge for seed in seen for edge in TANH.edge_instances(seed)]
    cheat = submit_code("tanh-rnn-bptt", _lookup_table_source(instances), alice).json
    assert cheat["verdict"] != "correct" and cheat["score"] < 0.5, cheat["message"]
    first_row, second_row = _rows(app, "alice")
    assert len(first_row.hidden_seeds) == 2 and set(first_row.hidden_seeds).isdisjoint(second_row.hidden_seeds)
    assert not any(str(seed) in json.dumps(first) for seed in first_row.hidden_seeds)  # never shown


def test_a_regrade_replays_the_stored_hidden_instances(app, client, zygote, alice, admin, submit_code):
    source = TANH.solution.replace("def rnn_bptt(", "def _right(") + (
        "\n\ndef rnn_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):\n"
        "    answer = _right(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y)\n"
        "    return answer if W_hh[0, 0] > 0 else {k: 0 * v for k, v in answer.items()}\n")
    responses = [submit_code("tanh-rnn-bptt", source, alice) for _ in range(3)]
    assert [r.status_code for r in responses] == [201] * 3, [r.json for r in responses]
    before = [r.json for r in responses]
    with app.app_context():
        db = storage.session(app)
        db.execute(update(Submission).values(exercise_version=0))
        db.commit()
    job = regrade_and_wait(client, "tanh-rnn-bptt", admin)
    assert (job["status"], job["done"], job["changed"]) == ("done", 3, 0)
    after = {row.id: row.report for row in _rows(app, "alice")}
    for old in before:
        new = after[old["id"]]
        assert [(i["sizes"], i["verdict"]) for i in new["instances"]] == \
            [(i["sizes"], i["verdict"]) for i in old["instances"]]


def test_numbers_in_reports_have_two_significant_digits(client, alice, fetch_instance, submit):
    instance = fetch_instance("linear-bptt", alice)
    from grader.reference.linear import linear_bptt
    answer = {k: v.tolist() for k, v in linear_bptt(**instance["arrays"]).items()}
    answer["dW_hh"] = (np.asarray(answer["dW_hh"]) * 1.2345678).tolist()
    answer["dW_hx"] = (np.asarray(answer["dW_hx"]) + np.eye(*np.shape(answer["dW_hx"])) * 0.0123456).tolist()
    report = submit(instance, answer, alice).json
    parts = {p["name"]: p for p in report["parts"]}
    for name in ("dW_hh", "dW_hx"):
        error = parts[name]["relative_error"]
        assert error > 0 and abs(error - float(f"{error:.2g}")) <= 1e-12 * error, error
    assert parts["dW_hh"]["relation"]["factor"] == pytest.approx(1.2, abs=1e-12)
    assert "1.2345" not in json.dumps(report)


def test_unknown_fields_make_a_small_invalid_report(client, alice, fetch_instance, submit):
    instance = fetch_instance("linear-bptt", alice)
    answer = {f"x{i}": 0 for i in range(70_000)}  # just under the 1 MiB body cap
    response = submit(instance, answer, alice)
    assert response.status_code == 201 and response.json["verdict"] == "invalid"
    assert len(json.dumps(response.json)) < 16_000
    assert "and 69995 more" in json.dumps(response.json)


@pytest.fixture
def two_courses(client, admin):
    for course in ("ca", "cb"):
        assert client.post("/api/v1/courses", json={"id": course, "title": course}, headers=admin).status_code == 201
    teacher = {"Authorization": f"Bearer {client.post('/api/v1/courses/ca/instructors', headers=admin).json['key']}"}
    client.post("/api/v1/courses/ca/learners", json={"learners": ["ann"]}, headers=teacher)
    rows = client.post("/api/v1/courses/cb/learners", json={"learners": ["bob"], "keys": True}, headers=admin).json
    return {"teacher": teacher, "bob": {"Authorization": f"Bearer {rows[0]['key']}"}}


def test_an_instructor_acts_only_for_their_own_learners(app, client, two_courses, fetch_instance, submit):
    set_rate_limits(app, {"learner_exercise": {"count": 1, "window_s": 3600}})
    bob_instance = fetch_instance("linear-bptt", two_courses["bob"])
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": bob_instance["token"],
            "answer": {"dW_hh": [[0]]}, "learner": "bob"}
    response = client.post("/api/v1/submissions", json=body, headers=two_courses["teacher"])
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert _rows(app, "bob") == []
    own = submit(bob_instance, {"dW_hh": [[0]]}, two_courses["bob"])  # bob's limit of 1 is still his
    assert own.status_code == 201


def test_a_course_less_instructor_key_reads_no_statistics(client, admin, make_key):
    lone = make_key("instructor")
    assert client.get("/api/v1/exercises/linear-bptt/stats", headers=lone).status_code == 403
    assert client.get("/api/v1/exercises/linear-bptt/stats", headers=admin).status_code == 200


@pytest.mark.parametrize("target", ["/%09/evil.example/", "//evil.example/", "/%0D%0A/x", "/\\evil.example",
                                    "https://evil.example/", "/%5Cevil.example"])
def test_login_redirects_only_to_local_paths(app, client, alice, target):
    app.config["WTF_CSRF_ENABLED"] = False  # the redirect, not the form's token, is under test
    response = client.post(f"/login?next={target}", data={"api_key": alice["Authorization"].split()[1]})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_a_local_next_is_kept(app, client, alice):
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/login?next=/history%3Fx%3D1", data={"api_key": alice["Authorization"].split()[1]})
    assert response.headers["Location"] == "/history?x=1"


def test_a_second_code_job_in_flight_is_refused_with_retry_after(app, zygote, alice, submit_code):
    from grader.storage.models import CodeJob
    with app.app_context():
        db = storage.session(app)
        db.add(CodeJob(learner="alice", expires_at=time.time() + 12))  # a job another worker is running
        db.commit()
    response = submit_code("tanh-rnn-bptt", TANH.solution, alice)
    assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 13
    assert count_submissions(app) == 0
    with app.app_context():  # that worker died: its claim expires and is taken over
        db = storage.session(app)
        db.execute(update(CodeJob).values(expires_at=time.time() - 1))
        db.commit()
    assert submit_code("tanh-rnn-bptt", TANH.solution, alice).json["verdict"] == "correct"
    with app.app_context():
        assert storage.session(app).scalars(select(CodeJob)).all() == []  # released after the job


def test_one_learner_in_flight_does_not_block_another(app, zygote, alice, make_key, submit_code):
    from grader.storage.models import CodeJob
    with app.app_context():
        db = storage.session(app)
        db.add(CodeJob(learner="alice", expires_at=time.time() + 12))
        db.commit()
    bob = make_key("learner", "bob")
    assert submit_code("tanh-rnn-bptt", TANH.solution, bob).json["verdict"] == "correct"


@pytest.mark.parametrize("notebook", [
    {"cells": [{"cell_type": "code", "source": 5}]},
    {"cells": [{"cell_type": "code", "source": [1, 2]}]},
    {"cells": [{"cell_type": "code", "source": {"a": "b"}}]},
    "[" * 100_000 + "]" * 100_000,
], ids=["number", "list-of-numbers", "object", "deeply-nested-string"])
def test_malformed_notebooks_are_422(client, alice, notebook):
    response = client.post("/api/v1/submissions", headers=alice,
                           json={"exercise_id": "tanh-rnn-bptt", "kind": "code", "notebook": notebook})
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.json


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/", "http://[::1/", "https://example.org:0x50/"])
def test_a_malformed_callback_url_is_422(client, alice, fetch_instance, submit, url):
    instance = fetch_instance("linear-bptt", alice)
    response = client.post("/api/v1/submissions", headers=alice,
                           json={"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"],
                                 "answer": {}, "callback_url": url})
    assert response.status_code == 422 and response.mimetype == "application/problem+json", response.json
