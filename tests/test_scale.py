"""The database-side gradebook, statistics and listings give the same answers as the implementation
they replaced (tests/gradebook_oracle.py) on the same rows, on SQLite and PostgreSQL, page by page."""
import csv
import io
import random
import re
import uuid
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone

import pytest

from grader import auth, storage
from grader.courses import gradebook, summaries
from grader.catalog import get_catalog
from grader.storage.models import Assignment, Course, Enrollment, Submission, SubmissionMisconception
from tests import gradebook_oracle
from tests.conftest import regrade_and_wait

EXERCISES = ("linear-bptt", "tanh-rnn-bptt", "gradient-clipping")


@pytest.fixture
def filled(backend_app):
    """A course of 23 learners (3 never submitted), 3 assignments (best, last, late penalty) and
    about 150 submissions with ties in time and score, invalid and pending ones, and misconceptions."""
    storage.upgrade(backend_app)
    rng = random.Random(7)
    catalog = get_catalog(backend_app)
    with backend_app.app_context():
        db = storage.session(backend_app)
        db.add(Course(id="big", title="Big"))
        db.add(Course(id="other", title="Other"))
        db.flush()
        learners = [f"l{k:03d}" for k in range(23)]
        db.add_all(Enrollment(course_id="big", learner=who) for who in learners)
        rules = [("best", 0.0), ("last", 0.0), ("best", 0.3)]
        assignments = []
        for exercise_id, (scoring, penalty) in zip(EXERCISES, rules):
            assignment = Assignment(course_id="big", exercise_id=exercise_id, title=exercise_id, scoring=scoring,
                                    late_policy="penalty", late_penalty=penalty)
            db.add(assignment)
            assignments.append(assignment)
        db.flush()
        start = datetime(2030, 1, 1, tzinfo=timezone.utc)
        for _ in range(150):
            who = rng.choice(learners[:20])
            assignment = rng.choice(assignments)
            exercise = catalog[assignment.exercise_id]
            verdict = rng.choice(["correct", "incorrect", "partially_correct", "invalid", "pending"])
            score = {"correct": 1.0, "incorrect": 0.0, "invalid": 0.0, "pending": 0.0}.get(verdict,
                                                                                          rng.choice([0.25, 0.5]))
            late = rng.random() < 0.3
            slugs = rng.sample(list(exercise.misconceptions)[:3], rng.randint(0, 2)) if verdict != "invalid" else []
            created = start + timedelta(hours=rng.randint(0, 60), seconds=rng.choice([0, 0, 1]))
            row_id = uuid.uuid4().hex
            db.add(Submission(id=row_id, exercise_id=exercise.id, exercise_version=1, kind="numeric", learner=who,
                              verdict=verdict, score=score, max_score=1.0, created_at=created, course_id="big",
                              assignment_id=assignment.id, late=late,
                              final_score=round(score * (1 - (assignment.late_penalty if late else 0.0)), 10),
                              report={"id": row_id, "verdict": verdict,
                                      "misconceptions": [{"slug": s} for s in slugs]}))
            db.add_all(SubmissionMisconception(submission_id=row_id, slug=s, learner=who, exercise_id=exercise.id,
                                               course_id="big", created_at=created) for s in slugs)
        db.commit()
        summaries.rebuild(db.connection())  # rows loaded behind the service's back, as `flask rebuild-summaries` does
        db.commit()
        admin = auth.create_key(db, role="admin").key
    return backend_app, {"Authorization": f"Bearer {admin}"}


def test_the_gradebook_agrees_with_the_old_implementation_page_by_page(filled):
    app, admin = filled
    with app.app_context():
        db = storage.session(app)
        expected = gradebook_oracle.gradebook(db, "big")
        pages, after = [], None
        while True:
            page = gradebook.gradebook(db, "big", after=after, limit=4)
            if not page:
                break
            pages.extend(page)
            after = page[-1]["learner"]
        assert _normal(pages) == _normal(expected)
        streamed = "".join(gradebook.csv_lines(db, "big"))
        assert list(csv.DictReader(io.StringIO(streamed))) == list(csv.DictReader(io.StringIO(
            gradebook_oracle.as_csv(expected))))
        for who in ("l003", "l021"):
            assert _normal(gradebook.gradebook(db, "big", who)) == _normal(gradebook_oracle.gradebook(db, "big", who))


def _normal(rows):
    return [{**r, "score": None if r["score"] is None else round(r["score"], 9)} for r in rows]


def test_the_gradebook_api_pages_with_a_next_link(filled):
    app, admin = filled
    client = app.test_client()
    seen, url = [], "/api/v1/gradebook?course_id=big&limit=5"
    while url:
        response = client.get(url, headers=admin)
        assert response.status_code == 200
        seen.extend(response.json)
        link = response.headers.get("Link")
        url = re.match(r"<([^>]+)>; rel=\"next\"", link).group(1) if link else None
    assert len(seen) == 23 * 3 and len({r["learner"] for r in seen}) == 23
    csv_rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/gradebook?course_id=big", headers={
        **admin, "Accept": "text/csv"}).get_data(as_text=True))))
    assert len(csv_rows) == 23 * 3


@pytest.mark.parametrize("course_id", ["big", None])
def test_statistics_agree_with_the_old_implementation(filled, course_id):
    app, _ = filled
    catalog = get_catalog(app)
    with app.app_context():
        db = storage.session(app)
        for exercise_id in EXERCISES:
            new = gradebook.stats(db, catalog[exercise_id], course_id)
            old = gradebook_oracle.stats(db, catalog[exercise_id], course_id)
            rate_new, rate_old = new.pop("first_try_correct_rate"), old.pop("first_try_correct_rate")
            assert {m.pop("origin") for m in new["misconceptions"]} <= {"catalog"}  # no group named here
            assert (rate_new is None and rate_old is None) or rate_new == pytest.approx(rate_old, abs=1e-12)
            assert new == old


def test_listings_page_with_a_cursor_in_the_old_order(filled):
    app, admin = filled
    client = app.test_client()
    with app.app_context():
        db = storage.session(app)
        expected = [(r.created_at, r.id) for r in db.query(Submission).filter(Submission.course_id == "big")]
    expected.sort(reverse=True)
    seen, url = [], "/api/v1/submissions?course_id=big&limit=7"
    while url:
        response = client.get(url, headers=admin)
        assert response.status_code == 200
        seen.extend(report["id"] for report in response.json)
        link = response.headers.get("Link")
        url = re.match(r"<([^>]+)>; rel=\"next\"", link).group(1) if link else None
    assert seen == [row_id for _, row_id in expected]
    bad = client.get("/api/v1/submissions?course_id=big&cursor=bm90LWEtY3Vyc29y", headers=admin)
    assert bad.status_code == 422


def test_a_regrade_commits_batch_by_batch_and_resumes_where_it_stopped(app, client, admin, make_key,
                                                                       fetch_instance, submit, monkeypatch):
    from grader.courses import regrade
    from grader.auth import Principal
    from grader.reference.linear import linear_bptt
    ann = make_key("learner", "ann")
    for attempt in range(1, 13):
        instance = fetch_instance("linear-bptt", ann, attempt)
        answer = {k: v.tolist() for k, v in linear_bptt(**instance["arrays"]).items()}
        assert submit(instance, answer, ann).status_code == 201
    with app.app_context():
        db = storage.session(app)
        db.query(Submission).update({Submission.exercise_version: 0})
        db.commit()
        ctx = app.extensions["grader.context"]
        job = regrade.start(db, ctx, Principal(key_id=None, role="admin", learner=None), "linear-bptt")
        real, calls = regrade.grade_numeric, []

        def dies_on_the_eighth(*args):
            calls.append(1)
            if len(calls) == 8:
                raise RuntimeError("the worker was killed")
            return real(*args)
        monkeypatch.setattr(regrade, "grade_numeric", dies_on_the_eighth)
        stopped = regrade.run(db, ctx, job.id, batch=5)
        assert (stopped.status, stopped.done, stopped.total) == ("failed", 5, 12)
        assert db.query(Submission).filter(Submission.exercise_version == 1).count() == 5  # one batch committed
    monkeypatch.setattr(regrade, "grade_numeric", real)
    finished = regrade_and_wait(client, "linear-bptt", admin)
    assert finished["id"] == job.id and (finished["status"], finished["done"], finished["total"]) == ("done", 12, 12)
    with app.app_context():
        rows = storage.session(app).query(Submission).all()
        assert all(r.exercise_version == 1 and len(r.history) == 1 for r in rows)  # each regraded once


@pytest.mark.parametrize("backend_app", ["sqlite"], indirect=True)  # plans are read on SQLite: PostgreSQL's planner
def test_every_read_of_submissions_goes_through_an_index(filled):  # scans small tables by choice, so they say little
    """The readers of `submissions` (gradebook, a learner's standing and attempts, listings, the
    statistics' refresh, the queue's sweep, the erasure export) each read an index, never the whole
    table: the indexes left after migration 0016 (partial ones included) serve every one of them."""
    from sqlalchemy import event, text

    from grader import courses, learners, tasks
    from grader.auth import Principal

    app, admin = filled
    engine = storage.engine_of(app)
    sent = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        if "submissions" in statement and statement.lstrip().upper().startswith(("SELECT", "INSERT INTO LEARNER")):
            sent.append((statement, parameters))

    client = app.test_client()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with app.app_context():
            db = storage.session(app)
            assignment = db.scalars(select_assignment()).first()
            assignment.max_attempts = 99
            db.commit()
            gradebook.gradebook(db, "big")
            gradebook.gradebook(db, "big", "l003")
            gradebook.standing(db, assignment, "l003")
            courses.place(db, Principal("k", "admin", None), "l003", assignment.exercise_id, assignment.id)
            learners.export(db, "l003")
            with summaries.changing(db, assignment.exercise_id, ["l003"]):
                pass
            app.extensions[tasks.EXTENSION] = SimpleNamespace(enqueue=lambda submission_id, _delay: None)
            tasks.sweep_pending(app, older_than_s=0)
            db.rollback()
        for query in ("course_id=big", "learner=l003", "exercise_id=linear-bptt", ""):
            assert client.get(f"/api/v1/submissions?{query}&limit=3", headers=admin).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(sent) == 11  # each reader above sent its statements
    with engine.connect() as connection:
        for statement, parameters in sent:
            plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            reads = [step for step in plan if re.search(r"\bsubmissions\b", step)]
            unfiltered = "WHERE" not in statement.split("FROM submissions", 1)[-1]  # an admin's listing of all
            assert reads and all(("SCAN" if unfiltered else "SEARCH") in step and "INDEX" in step for step in reads), \
                (statement, plan)


def select_assignment():
    from sqlalchemy import select
    return select(Assignment).where(Assignment.course_id == "big").order_by(Assignment.id)
