"""The statistics' summaries (grader.courses.summaries), kept as submissions are stored, regraded and erased,
are exactly what a rebuild from the stored rows gives, on SQLite and PostgreSQL; and the statistics
read from them agree with the implementation they replaced (tests/gradebook_oracle.py)."""
import numpy as np
import pytest
from sqlalchemy import select, text

from grader import auth, storage
from grader.courses import gradebook, summaries
from grader.catalog import get_catalog
from grader.storage.models import Assignment, Course, Enrollment, Submission
from tests import gradebook_oracle
from tests.conftest import regrade_and_wait

TABLES = ("learner_summaries", "misconception_learners", "misconception_days")
LEARNERS = ("ada", "bob", "cy", "dee")


def snapshot(db) -> dict:
    return {table: sorted(tuple(str(v) for v in row) for row in db.execute(text(f"SELECT * FROM {table}")))
            for table in TABLES}


def assert_as_rebuilt(app):
    """What the service kept equals what a rebuild from the stored rows gives (then rolled back)."""
    with app.app_context():
        db = storage.session(app)
        kept = snapshot(db)
        summaries.rebuild(db.connection())
        assert snapshot(db) == kept
        db.rollback()
        assert sum(len(rows) for rows in kept.values()) > 0


def assert_stats_as_before(app, exercise_ids):
    catalog = get_catalog(app)
    with app.app_context():
        db = storage.session(app)
        for exercise_id in exercise_ids:
            for course_id in ("big", None):
                new = gradebook.stats(db, catalog[exercise_id], course_id)
                old = gradebook_oracle.stats(db, catalog[exercise_id], course_id)
                rate_new, rate_old = new.pop("first_try_correct_rate"), old.pop("first_try_correct_rate")
                assert {m.pop("origin") for m in new["misconceptions"]} <= {"catalog"}
                assert (rate_new is None and rate_old is None) or rate_new == pytest.approx(rate_old, abs=1e-12)
                assert new == old


@pytest.fixture
def course(backend_app):
    """A course with two assignments, four learners with keys, and an admin key."""
    storage.upgrade(backend_app)
    with backend_app.app_context():
        db = storage.session(backend_app)
        db.add(Course(id="big", title="Big"))
        db.flush()
        db.add_all(Enrollment(course_id="big", learner=who) for who in LEARNERS)
        db.add_all(Assignment(course_id="big", exercise_id=e, title=e, scoring="best")
                   for e in ("linear-bptt", "tanh-rnn-bptt"))
        db.commit()
        keys = {who: {"Authorization": f"Bearer {auth.create_key(db, role='learner', learner=who, course_id='big').key}"}
                for who in LEARNERS}
        keys["admin"] = {"Authorization": f"Bearer {auth.create_key(db, role='admin').key}"}
    return backend_app, keys


def submit_mix(app, keys):
    """Right, scaled (a misconception), half-scaled and malformed (invalid) answers from every learner."""
    client, catalog = app.test_client(), get_catalog(app)
    verdicts = []
    for n, who in enumerate(LEARNERS):
        for exercise_id in ("linear-bptt", "tanh-rnn-bptt"):
            for attempt, factor in enumerate((2.0, 1.0, 0.5, None)[n % 2:], start=1):
                instance = client.post(f"/api/v1/exercises/{exercise_id}/instances", json={"attempt": attempt},
                                       headers=keys[who]).json["instance"]
                right = catalog[exercise_id].solve({k: np.asarray(v) for k, v in instance["params"].items()})
                answer = ({k: "not a number" for k in right} if factor is None
                          else {k: (factor * np.asarray(v)).tolist() for k, v in right.items()})
                response = client.post("/api/v1/submissions", headers=keys[who], json={
                    "exercise_id": exercise_id, "kind": "numeric", "instance_token": instance["token"],
                    "answer": answer})
                assert response.status_code == 201, response.json
                verdicts.append(response.json["verdict"])
    return verdicts


def test_submissions_keep_the_summaries_a_rebuild_gives(course):
    app, keys = course
    verdicts = submit_mix(app, keys)
    assert {"correct", "incorrect", "invalid"} <= set(verdicts)
    with app.app_context():
        assert storage.session(app).execute(text("SELECT count(*) FROM misconception_learners")).scalar() > 0
    assert_as_rebuilt(app)
    assert_stats_as_before(app, ("linear-bptt", "tanh-rnn-bptt"))


def test_a_regrade_and_an_erasure_keep_them_too(course):
    app, keys = course
    submit_mix(app, keys)
    with app.app_context():  # right answers, stored by an older version, that this version finds wrong
        db = storage.session(app)
        for row in db.scalars(select(Submission).where(Submission.exercise_id == "linear-bptt",
                                                       Submission.verdict == "correct")):
            row.answer = {k: (2.0 * np.asarray(v)).tolist() for k, v in row.answer.items()}
            row.exercise_version = 0
        db.commit()
    job = regrade_and_wait(app.test_client(), "linear-bptt", keys["admin"])
    assert job["status"] == "done" and job["changed"] > 0
    assert_as_rebuilt(app)
    assert_stats_as_before(app, ("linear-bptt",))
    response = app.test_client().delete("/api/v1/learners/bob", headers=keys["admin"])
    assert response.status_code == 200, response.json
    assert_as_rebuilt(app)
    assert_stats_as_before(app, ("linear-bptt", "tanh-rnn-bptt"))
    with app.app_context():
        assert storage.session(app).execute(text(
            "SELECT count(*) FROM learner_summaries WHERE learner = 'bob'")).scalar() == 0


def test_rebuild_summaries_command(course):
    app, keys = course
    submit_mix(app, keys)
    with app.app_context():
        db = storage.session(app)
        kept = snapshot(db)
        db.execute(text("DELETE FROM learner_summaries"))
        db.commit()
    result = app.test_cli_runner().invoke(args=["rebuild-summaries"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert snapshot(storage.session(app)) == kept


def test_the_first_attempt_is_the_earliest_whatever_order_they_were_stored_in(course, monkeypatch):
    """A submission stamped earlier but stored later (it waited for the writer lock) is the first."""
    from datetime import datetime, timedelta, timezone
    from grader import service
    app, keys = course
    start = datetime(2030, 1, 1, 12, tzinfo=timezone.utc)
    stamps = iter([start + timedelta(seconds=5), start])
    monkeypatch.setattr(service, "utcnow", lambda: next(stamps))
    post_one(app, keys["ada"], 2.0)  # stamped later, stored first, wrong
    post_one(app, keys["ada"], 1.0)  # stamped earlier, stored second, right
    assert_as_rebuilt(app)
    assert_stats_as_before(app, ("linear-bptt",))
    with app.app_context():
        rate = gradebook.stats(storage.session(app), get_catalog(app)["linear-bptt"], "big")["first_try_correct_rate"]
    assert rate == pytest.approx(1.0)


def test_erasing_everyone_leaves_no_empty_day_rows(course):
    app, keys = course
    submit_mix(app, keys)
    for who in LEARNERS:
        assert app.test_client().delete(f"/api/v1/learners/{who}", headers=keys["admin"]).status_code == 200
    with app.app_context():
        assert snapshot(storage.session(app)) == {table: [] for table in TABLES}


def test_an_empty_course_id_means_every_course(course):
    app, keys = course
    submit_mix(app, keys)
    with app.app_context():
        db, exercise = storage.session(app), get_catalog(app)["linear-bptt"]
        assert gradebook.stats(db, exercise, "") == gradebook.stats(db, exercise, None)


@pytest.mark.parametrize("backend_app", ["postgresql"], indirect=True)  # SQLite has one writer: no such race
def test_concurrent_refreshes_of_one_learner_on_postgresql(course):
    """Two workers finish work on the same learner at once (a queued grade and a regrade batch):
    the second refresh, which waited for the first's row lock, neither fails nor loses the row."""
    import threading
    app, keys = course
    post_one(app, keys["ada"], 1.0)
    engine = storage.engine_of(app)
    assert engine.dialect.name == "postgresql"
    params = {"exercise_id": "linear-bptt", "learners": ["ada"]}
    first, second = engine.connect(), engine.connect()
    first_tx, second_tx, errors = first.begin(), second.begin(), []
    first.execute(summaries.REFRESH[0], params)  # DELETE: the row is locked

    def refresh():
        try:
            for statement in summaries.REFRESH:  # its DELETE waits for the first transaction
                second.execute(statement, params)
            second_tx.commit()
        except Exception as exc:  # recorded for the assertion below, which names it
            errors.append(exc)
            second_tx.rollback()
    thread = threading.Thread(target=refresh)
    thread.start()
    for statement in summaries.REFRESH[1:]:
        first.execute(statement, params)
    first_tx.commit()
    thread.join()
    first.close()
    second.close()
    assert errors == []
    assert_as_rebuilt(app)


def post_one(app, key, factor, exercise_id="linear-bptt"):
    client = app.test_client()
    instance = client.post(f"/api/v1/exercises/{exercise_id}/instances", json={}, headers=key).json["instance"]
    right = get_catalog(app)[exercise_id].solve({k: np.asarray(v) for k, v in instance["params"].items()})
    response = client.post("/api/v1/submissions", headers=key, json={
        "exercise_id": exercise_id, "kind": "numeric", "instance_token": instance["token"],
        "answer": {k: (factor * np.asarray(v)).tolist() for k, v in right.items()}})
    assert response.status_code == 201, response.json
    return response.json
