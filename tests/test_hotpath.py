"""The numeric submission path made cheap (issue 18) without changing what it promises: the report
document built directly is the one the schema dumps, cached API keys are refused once revoked,
and concurrent submissions on SQLite are all stored."""
import json
import threading
from dataclasses import replace

import numpy as np
import pytest

from grader import auth, storage
from grader.catalog import get_catalog
from grader.catalog.selftest import to_json
from grader.grading.document import submission_document
from grader.grading.numeric import grade_numeric
from grader.grading.report import InstanceSummary, Verdict
from grader.schemas import SubmissionSchema
from tests.conftest import count_submissions

EXERCISES = ["linear-bptt", "tanh-rnn-bptt", "hidden-state-gradient", "forward-mode-recursion", "truncated-bptt",
             "randomized-truncation", "matrix-power-eigenvalues", "power-iteration-alignment", "gradient-norm-profile",
             "gradient-clipping", "minibatch-detach", "exploding-gradient-remedies"]
META = {"id": "0" * 32, "exercise_id": "x", "exercise_version": 2, "kind": "numeric", "learner": "ann",
        "seed": 12345, "attempt": 3, "course_id": None, "assignment_id": None, "late": False,
        "final_score": 0.5, "created_at": "2030-01-01T00:00:00+00:00"}


def reports_of(exercise, seed):
    """Reports of the right answer, of every misconception variant, of a scaled and of a malformed
    answer; and one as a code submission's, with its hidden instances."""
    instance = exercise.instance(seed)
    answers = [instance.answer, *instance.variants.values()]
    scaled = {k: (3.0 * v if isinstance(v, np.ndarray) else v) for k, v in instance.answer.items()}
    answers.append(scaled)
    reports = [grade_numeric(exercise, instance, to_json(a)) for a in answers]
    reports.append(grade_numeric(exercise, instance, {name: "not a number" for name in instance.answer}))
    summaries = (InstanceSummary(index=0, kind="regular", sizes={"X": [3, 2, 4]}, verdict=Verdict.CORRECT, score=1.0,
                                 message="right"),
                 InstanceSummary(index=1, kind="edge", sizes={"X": [1, 2, 4]}, verdict=Verdict.INCORRECT,
                                 score=np.float64(0.25), message="wrong"))
    reports.append(replace(reports[1], instances=summaries))
    return reports


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_report_document_is_what_the_schema_dumps(app, exercise_id):
    exercise = get_catalog(app)[exercise_id]
    schema, checked = SubmissionSchema(), 0
    for seed in (1, 2):
        for report in reports_of(exercise, seed):
            for meta in (META, {**META, "course_id": "c1", "assignment_id": 7, "late": True, "seed": None,
                                "attempt": None, "final_score": None}):
                expected = schema.dump({**vars(report), **meta})
                assert json.dumps(submission_document(report, meta), sort_keys=True) == \
                    json.dumps(expected, sort_keys=True)
                checked += 1
    assert checked >= 2 * 2 * 4


def test_the_catalog_list_above_is_the_whole_catalog(app):
    assert sorted(get_catalog(app)) == sorted(EXERCISES)


def test_a_revoked_key_is_refused_at_once_though_keys_are_cached(app, client, fetch_instance, submit):
    with app.app_context():
        db = storage.session(app)
        learner = {"Authorization": f"Bearer {auth.create_key(db, role='learner', learner='kim').key}"}
        admin = {"Authorization": f"Bearer {auth.create_key(db, role='admin').key}"}
    instance = fetch_instance("linear-bptt", learner)  # the key is now cached in this worker
    assert client.get("/api/v1/submissions", headers=learner).status_code == 200
    assert client.delete("/api/v1/learners/kim", headers=admin).status_code == 200  # revokes kim's keys
    response = submit(instance, instance["arrays"], learner)
    assert response.status_code == 401 and response.json["detail"] == "The API key is unknown or revoked."


def test_another_worker_with_the_cache_off_refuses_a_key_revoked_elsewhere(tmp_path):
    from grader import create_app
    url = f"sqlite:///{tmp_path}/k.sqlite"
    revoking = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": url})
    other = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": url, "KEY_CACHE_TTL_S": 0})
    storage.upgrade(revoking)
    with revoking.app_context():
        db = storage.session(revoking)
        learner = {"Authorization": f"Bearer {auth.create_key(db, role='learner', learner='lee').key}"}
        admin = {"Authorization": f"Bearer {auth.create_key(db, role='admin').key}"}
    assert other.test_client().get("/api/v1/submissions", headers=learner).status_code == 200
    assert revoking.test_client().delete("/api/v1/learners/lee", headers=admin).status_code == 200
    assert other.test_client().get("/api/v1/submissions", headers=learner).status_code == 401


def submit_concurrently(app, key, exercise_id, instances, threads) -> list[int]:
    """Right answers to these instances from `threads` threads (a client each, as gthread workers
    serve them), started together; the status of every response."""
    solve, statuses, lock, start = get_catalog(app)[exercise_id].solve, [], threading.Lock(), threading.Barrier(threads)

    def send(chunk):
        client = app.test_client()
        start.wait()
        for instance in chunk:
            status = client.post("/api/v1/submissions", headers=key, json={
                "exercise_id": exercise_id, "kind": "numeric", "instance_token": instance["token"],
                "answer": to_json(solve(instance["arrays"]))}).status_code
            with lock:
                statuses.append(status)
    workers = [threading.Thread(target=send, args=(instances[k::threads],)) for k in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return statuses


def test_concurrent_submissions_on_sqlite_are_all_stored(app, fetch_instance):
    """Writers of one process queue on a lock (storage.writing) instead of SQLite's sleeping busy handler."""
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='pat').key}"}
    instances = [fetch_instance("tanh-rnn-bptt", key, attempt=k) for k in range(1, 41)]
    assert submit_concurrently(app, key, "tanh-rnn-bptt", instances, threads=8) == [201] * 40
    assert count_submissions(app) == 40


def test_concurrent_submissions_at_the_limit_cannot_pass_together(app, fetch_instance):
    """The stored count is the check: of 12 concurrent submissions against a limit of 5, 5 are stored."""
    from tests.conftest import set_rate_limits
    set_rate_limits(app, {"learner_exercise": {"count": 5, "window_s": 3600}})
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='max').key}"}
    instances = [fetch_instance("linear-bptt", key, attempt=k) for k in range(1, 13)]
    assert sorted(submit_concurrently(app, key, "linear-bptt", instances, threads=6)) == [201] * 5 + [429] * 7
    assert count_submissions(app) == 5
    with storage.engine_of(app).connect() as connection:  # the refused took their counts back
        assert connection.exec_driver_sql("SELECT count FROM rate_counters WHERE bucket LIKE 'le:max%'").all() == [(5,)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-32"])
@pytest.mark.parametrize("number", ["1e309", "-2.5E+400", "1" + "0" * 400, "9" * 199 + "0e120"])
def test_numbers_that_overflow_are_refused_whatever_their_spelling(app, client, alice, fetch_instance, number,
                                                                   encoding):
    """The JSON parser checks numbers one by one only when the body could hold an overflow: every
    spelling of one, in every encoding JSON allows, still gets the 422 non-finite-number problem."""
    instance = fetch_instance("linear-bptt", alice)
    body = ('{"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": "%s", "answer": {"dW_qh": [[%s]]}}'
            % (instance["token"], number)).encode(encoding)
    response = client.post("/api/v1/submissions", data=body, headers={**alice, "Content-Type": "application/json"})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("/non-finite-number") and "finite numbers only" in response.json["detail"]


def test_a_request_between_revocation_and_its_commit_does_not_keep_the_key_cached(app, client):
    """Another thread of the worker reads the still-live row after the revocation was set but before
    it was committed: the commit forgets the key again."""
    from grader.storage.models import ApiKey, utcnow
    with app.app_context():
        issued = auth.create_key(storage.session(app), role="learner", learner="kim")
    headers = {"Authorization": f"Bearer {issued.key}"}
    assert client.get("/api/v1/submissions", headers=headers).status_code == 200  # cached
    revoking = app.extensions[storage.EXTENSION]()  # the revoking request's own session
    revoking.get(ApiKey, issued.id).revoked_at = utcnow()
    assert client.get("/api/v1/submissions", headers=headers).status_code == 200  # not yet committed: cached again
    revoking.commit()
    revoking.close()
    assert client.get("/api/v1/submissions", headers=headers).status_code == 401
