"""Courses, assignments, the gradebook, analytics, rate limits, idempotency, regrades, data rights,
notebooks and batch grading."""
import csv
import io
import json
import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from grader import create_app, storage
from grader.reference.linear import linear_bptt
from tests.conftest import count_submissions, regrade_and_wait


@pytest.fixture
def course(client, admin):
    """Course c1 with an instructor key, learners ann and ben with keys, and course c2 with its own instructor."""
    assert client.post("/api/v1/courses", json={"id": "c1", "title": "RNNs"}, headers=admin).status_code == 201
    assert client.post("/api/v1/courses", json={"id": "c2", "title": "Other"}, headers=admin).status_code == 201
    teacher = client.post("/api/v1/courses/c1/instructors", headers=admin).json["key"]
    other_teacher = client.post("/api/v1/courses/c2/instructors", headers=admin).json["key"]
    teach = {"Authorization": f"Bearer {teacher}"}
    rows = client.post("/api/v1/courses/c1/learners", json={"learners": ["ann", "ben"], "keys": True},
                       headers=teach).json
    keys = {row["learner"]: {"Authorization": f"Bearer {row['key']}"} for row in rows}
    return {"teacher": teach, "other_teacher": {"Authorization": f"Bearer {other_teacher}"}, **keys}


def assign(client, headers, **fields):
    response = client.post("/api/v1/courses/c1/assignments", json={"exercise_id": "linear-bptt", **fields},
                           headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def right_answer(fetch_instance, headers, attempt=1):
    instance = fetch_instance("linear-bptt", headers, attempt)
    return instance, linear_bptt(**instance["arrays"])


def iso(delta_s):
    return (datetime.now(timezone.utc) + timedelta(seconds=delta_s)).isoformat()


def test_bulk_learner_keys_as_csv(client, course):
    response = client.post("/api/v1/courses/c1/learners", json={"learners": ["cat", "dan", "cat"], "keys": True},
                           headers={**course["teacher"], "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv" and [r["learner"] for r in rows] == ["cat", "dan"]
    cat = {"Authorization": f"Bearer {rows[0]['key']}"}
    assert client.post("/api/v1/exercises/linear-bptt/instances", json={}, headers=cat).status_code == 200
    assert [r["learner"] for r in client.get("/api/v1/courses/c1/learners", headers=course["teacher"]).json] == \
        ["ann", "ben", "cat", "dan"]


def test_instructors_manage_only_their_course(client, course):
    assert client.post("/api/v1/courses/c2/learners", json={"learners": ["x"]},
                       headers=course["teacher"]).status_code == 403
    assert [c["id"] for c in client.get("/api/v1/courses", headers=course["teacher"]).json] == ["c1"]
    assert client.post("/api/v1/courses", json={"id": "c3", "title": "t"}, headers=course["teacher"]).status_code == 403


def test_assignment_windows_attempts_and_late_penalty(client, course, fetch_instance, submit):
    not_open = assign(client, course["teacher"], opens_at=iso(3600))
    instance, answer = right_answer(fetch_instance, course["ann"])
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"],
            "answer": {k: v.tolist() for k, v in answer.items()}, "assignment_id": not_open["id"]}
    response = client.post("/api/v1/submissions", json=body, headers=course["ann"])
    assert response.status_code == 403 and response.json["type"].endswith("/assignment-closed")
    closed = assign(client, course["teacher"], due_at=iso(-60), late_policy="refuse")
    assert client.post("/api/v1/submissions", json={**body, "assignment_id": closed["id"]},
                       headers=course["ann"]).status_code == 403
    late = assign(client, course["teacher"], due_at=iso(-60), late_policy="penalty", late_penalty=0.25,
                  max_attempts=2)
    report = client.post("/api/v1/submissions", json={**body, "assignment_id": late["id"]}, headers=course["ann"]).json
    assert report["late"] and report["score"] == pytest.approx(1.0) and report["final_score"] == pytest.approx(0.75)
    assert client.post("/api/v1/submissions", json={**body, "assignment_id": late["id"]},
                       headers=course["ann"]).status_code == 201
    third = client.post("/api/v1/submissions", json={**body, "assignment_id": late["id"]}, headers=course["ann"])
    assert third.status_code == 403 and "attempts" in third.json["detail"]


def test_gradebook_best_and_last_json_and_csv(client, course, fetch_instance):
    best = assign(client, course["teacher"], title="best", scoring="best")
    last = assign(client, course["teacher"], title="last", scoring="last")
    instance, answer = right_answer(fetch_instance, course["ann"])
    good = {k: v.tolist() for k, v in answer.items()}
    half = {**good, "dW_hh": (2 * answer["dW_hh"]).tolist()}
    for assignment in (best, last):
        for given in (good, half):
            body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"],
                    "answer": given, "assignment_id": assignment["id"]}
            assert client.post("/api/v1/submissions", json=body, headers=course["ann"]).status_code == 201
    rows = client.get("/api/v1/gradebook?course_id=c1", headers=course["teacher"]).json
    ann = {r["title"]: r for r in rows if r["learner"] == "ann"}
    assert ann["best"]["score"] == pytest.approx(1.0) and ann["last"]["score"] == pytest.approx(0.7)
    assert ann["best"]["attempts"] == 2
    ben = [r for r in rows if r["learner"] == "ben"]
    assert len(ben) == 2 and all(r["score"] is None and r["attempts"] == 0 for r in ben)
    exported = client.get("/api/v1/gradebook?course_id=c1", headers={**course["teacher"], "Accept": "text/csv"})
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert exported.mimetype == "text/csv" and len(table) == 4
    assert {float(r["score"]) for r in table if r["learner"] == "ann"} == {1.0, 0.7}
    own = client.get("/api/v1/gradebook", headers=course["ann"]).json
    assert {r["learner"] for r in own} == {"ann"}


def test_stats_rank_misconceptions_by_learners(client, course, fetch_instance):
    assign(client, course["teacher"])
    for learner in ("ann", "ben"):
        instance, answer = right_answer(fetch_instance, course[learner])
        wrong = {k: v.tolist() for k, v in answer.items()}
        wrong["dW_hh"] = answer["dW_hh"].T.tolist()
        body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"], "answer": wrong}
        client.post("/api/v1/submissions", json=body, headers=course[learner])
    body["answer"] = {k: v.tolist() for k, v in answer.items()}
    client.post("/api/v1/submissions", json=body, headers=course["ben"])
    stats = client.get("/api/v1/exercises/linear-bptt/stats", headers=course["teacher"]).json
    assert stats["attempts"] == 3 and stats["learners"] == 2 and stats["first_try_correct_rate"] == 0.0
    assert stats["misconceptions"][0]["slug"] == "transposed-convention" and stats["misconceptions"][0]["learners"] == 2
    assert sum(b["count"] for b in stats["score_distribution"]) == 3
    assert client.get("/api/v1/exercises/linear-bptt/stats?course_id=c1",
                      headers=course["other_teacher"]).status_code == 403


def test_rate_limit_is_stored_and_survives_a_restart(tmp_path, admin):
    config = {"DATABASE_URL": f"sqlite:///{tmp_path}/r.sqlite", "SECRET_KEY": "s",
              "RATE_LIMITS": {"learner_exercise": {"count": 2, "window_s": 600}}}
    app = create_app(config)
    storage.upgrade(app)
    with app.app_context():
        from grader import auth
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='r').key}"}
    client = app.test_client()
    token = client.post("/api/v1/exercises/linear-bptt/instances", json={}, headers=key).json["instance"]["token"]
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": token, "answer": {}}
    assert [client.post("/api/v1/submissions", json=body, headers=key).status_code for _ in range(2)] == [201, 201]
    restarted = create_app(config).test_client()
    refused = restarted.post("/api/v1/submissions", json=body, headers=key)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 601
    assert refused.json["type"].endswith("/rate-limited")


def test_idempotency_key(app, client, course, fetch_instance):
    instance, answer = right_answer(fetch_instance, course["ann"])
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"],
            "answer": {k: v.tolist() for k, v in answer.items()}}
    headers = {**course["ann"], "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/submissions", json=body, headers=headers)
    again = client.post("/api/v1/submissions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and count_submissions(app) == 1
    other = client.post("/api/v1/submissions", json={**body, "answer": {}}, headers=headers)
    assert other.status_code == 422 and other.json["type"].endswith("/idempotency-key-reused")


def test_concurrent_duplicates_are_stored_once(app, course, fetch_instance):
    instance, answer = right_answer(fetch_instance, course["ann"])
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"],
            "answer": {k: v.tolist() for k, v in answer.items()}}
    headers = {**course["ann"], "Idempotency-Key": "burst"}
    responses, barrier = [], threading.Barrier(4)

    def post():
        client = app.test_client()
        barrier.wait()
        responses.append(client.post("/api/v1/submissions", json=body, headers=headers))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.json["id"] for r in responses}) == 1 and count_submissions(app) == 1


def test_regrade_replays_stored_answers_and_keeps_the_old_report(tmp_path, admin):
    """Version 1 ships the h_t-for-h_{t-1} mistake as its reference; version 2 fixes it."""
    root = tmp_path / "exercises"
    shutil.copytree("exercises/linear-bptt", root / "linear-bptt")
    exercise_py = root / "linear-bptt" / "exercise.py"
    fixed = exercise_py.read_text()
    exercise_py.write_text(fixed.replace('def solve(p):\n    """', 'def solve(p):\n    return _h_t_instead_of_h_prev_ref(p)\n    """')
                           + "\n\ndef _h_t_instead_of_h_prev_ref(p):\n    answer = linear.linear_bptt(p['W_hx'], p['W_hh'], "
                             "p['W_qh'], p['X'], p['h0'], p['Y'])\n    H, _ = linear.linear_forward(p['W_hx'], p['W_hh'], "
                             "p['W_qh'], p['X'], p['h0'])\n    return {**answer, 'dW_hh': answer['dL_dh'].T @ H}\n"
                           "\n\nVARIANTS = {k: v for k, v in VARIANTS.items() if k != 'h-t-instead-of-h-prev'}\n")
    info_path = root / "linear-bptt" / "info.json"
    info = json.loads(info_path.read_text())
    info["misconceptions"] = [m for m in info["misconceptions"] if m["slug"] != "h-t-instead-of-h-prev"]
    info_path.write_text(json.dumps(info))
    config = {"DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite", "SECRET_KEY": "s", "EXERCISE_DIRS": [str(root)]}
    app = create_app(config)
    storage.upgrade(app)
    with app.app_context():
        from grader import auth
        admin_key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='admin').key}"}
    client = app.test_client()
    instance = client.post("/api/v1/exercises/linear-bptt/instances", json={"learner": "ann"},
                           headers=admin_key).json["instance"]
    right = {k: v.tolist() for k, v in linear_bptt(**{k: np.asarray(v) for k, v in instance["params"].items()}).items()}
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"], "answer": right,
            "learner": "ann"}
    old = client.post("/api/v1/submissions", json=body, headers=admin_key).json
    assert old["verdict"] == "partially_correct"  # the buggy v1 reference marks the right dW_hh wrong
    exercise_py.write_text(fixed)
    info_path.write_text(json.dumps({**json.loads(Path("exercises/linear-bptt/info.json").read_text()), "version": 2}))
    fixed_app = create_app(config)
    job = regrade_and_wait(fixed_app.test_client(), "linear-bptt", admin_key)
    assert (job["status"], job["total"], job["done"], job["changed"]) == ("done", 1, 1, 1)
    export = fixed_app.test_client().get("/api/v1/learners/ann/export", headers=admin_key).json
    (stored,) = export["submissions"]
    assert stored["report"]["id"] == old["id"] and stored["report"]["exercise_version"] == 2
    assert stored["report"]["verdict"] == "correct" and stored["report"]["score"] == pytest.approx(1.0)
    assert stored["history"][0]["verdict"] == "partially_correct" and stored["history"][0]["score"] == \
        pytest.approx(0.7)


def test_learner_export_and_erasure(app, client, course, admin, fetch_instance, submit):
    instance, answer = right_answer(fetch_instance, course["ann"])
    submit(instance, answer, course["ann"])
    mine = client.get("/api/v1/learners/ann/export", headers=course["ann"]).json
    assert len(mine["submissions"]) == 1 and mine["enrollments"][0]["course_id"] == "c1"
    assert "secret" not in json.dumps(mine["keys"])
    assert client.get("/api/v1/learners/ben/export", headers=course["ann"]).status_code == 404
    erased = client.delete("/api/v1/learners/ann", headers=admin).json
    assert erased == {"learner": "ann", "submissions": 1, "enrollments": 1, "keys_revoked": 1}
    assert client.get("/api/v1/learners/ann/export", headers=admin).json["submissions"] == []
    assert client.get("/api/v1/submissions", headers=course["ann"]).status_code == 401


NOTEBOOK = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "markdown", "metadata": {}, "source": ["# My BPTT"]},
    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
     "source": ["%matplotlib inline\n", "!pip install numpy\n", "import numpy as np\n"]},
]}


def notebook_of(source):
    return {**NOTEBOOK, "cells": NOTEBOOK["cells"] + [{"cell_type": "code", "metadata": {}, "outputs": [],
                                                       "execution_count": 2, "source": source}]}


def test_a_notebook_is_a_code_submission(zygote, client, alice):
    solution = Path("exercises/linear-bptt/solution.py").read_text()
    body = {"exercise_id": "linear-bptt", "kind": "code", "notebook": notebook_of(solution)}
    report = client.post("/api/v1/submissions", json=body, headers=alice).json
    assert report["verdict"] == "correct" and "2 IPython magic or shell line(s) were removed" in report["message"]


def test_grade_batch_grades_a_folder_and_reports_bad_files(zygote, app, tmp_path, admin, client):
    client.post("/api/v1/courses", json={"id": "c1", "title": "RNNs"}, headers=admin)
    client.post("/api/v1/courses/c1/assignments", json={"exercise_id": "linear-bptt"}, headers=admin)
    folder = tmp_path / "homework"
    folder.mkdir()
    solution = Path("exercises/linear-bptt/solution.py").read_text()
    (folder / "amy.py").write_text(solution)
    (folder / "bob.ipynb").write_text(json.dumps(notebook_of(solution.replace("MISTAKE = None",
                                                                              "MISTAKE = 'missing-mean-over-time'"))))
    (folder / "cyd.ipynb").write_text("{not json")
    result = app.test_cli_runner().invoke(args=["grade-batch", str(folder), "--course", "c1",
                                                "--exercise", "linear-bptt"])
    assert result.exit_code == 0, result.output
    assert "graded 2 of 3 files" in result.output and "not graded: cyd.ipynb" in result.output
    table = {r["learner"]: r for r in csv.DictReader(io.StringIO((folder / "gradebook.csv").read_text()))}
    # bob forgot the 1/T: right only on the T = 1 edge case, one instance in five
    assert float(table["amy"]["score"]) == pytest.approx(1.0) and float(table["bob"]["score"]) == pytest.approx(0.2)
    assert table["cyd"]["score"] == "" and count_submissions(app) == 2


ROLES = ["self", "other-learner", "instructor", "other-instructor", "admin"]


@pytest.mark.parametrize("who", ROLES)
def test_authorization_matrix(client, course, admin, make_key, fetch_instance, submit, who):
    assign(client, course["teacher"])
    instance, answer = right_answer(fetch_instance, course["ann"])
    mine = submit(instance, answer, course["ann"]).json
    headers = {"self": course["ann"], "other-learner": course["ben"], "instructor": course["teacher"],
               "other-instructor": course["other_teacher"], "admin": admin}[who]
    allowed = who in ("self", "instructor", "admin")
    assert client.get(f"/api/v1/submissions/{mine['id']}", headers=headers).status_code == (200 if allowed else 404)
    listed = client.get("/api/v1/submissions?exercise_id=linear-bptt", headers=headers)
    ids = [s["id"] for s in listed.json] if listed.status_code == 200 else []
    assert (mine["id"] in ids) == allowed
    book = client.get("/api/v1/gradebook?course_id=c1", headers=headers)
    ann_rows = [r for r in book.json if r["learner"] == "ann"] if book.status_code == 200 else []
    assert bool(ann_rows) == allowed
    export = client.get("/api/v1/learners/ann/export", headers=headers)
    assert (export.status_code == 200) == (who in ("self", "admin"))


def test_a_code_submission_past_the_limit_is_refused_before_its_sandbox_job(app, client, monkeypatch):
    """ratelimit.check reads the windows' counts before a code job runs: past the limit, 429 and no job."""
    from grader import auth, codegrading
    from tests.conftest import set_rate_limits
    set_rate_limits(app, {"learner_exercise": {"count": 1, "window_s": 600}})
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='q').key}"}
    token = client.post("/api/v1/exercises/linear-bptt/instances", json={}, headers=key).json["instance"]["token"]
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": token, "answer": {}}
    assert client.post("/api/v1/submissions", json=body, headers=key).status_code == 201
    jobs = []
    monkeypatch.setattr(codegrading, "grade_code", lambda *args, **kwargs: jobs.append(args))
    refused = client.post("/api/v1/submissions", headers=key, json={
        "exercise_id": "linear-bptt", "kind": "code", "source": "def f():\n    return 1\n"})
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 601
    assert jobs == []
