"""Gradebook, statistics and listings at MOOC scale, through the real schema.

For each size, a fresh database is migrated (alembic, as `flask init-db` does) and filled with one
course of N learners x 12 assignments (one per exercise) x 3 submissions, each with a real report
(a graded linear-bptt report, 2.4 KB) and, for linear-bptt, the real answer; about one
misconception row per wrong submission. Then, in-process through the Flask app (no HTTP):
  - a gradebook page (100 learners x 12 assignments) at a random place, median of 20
  - the statistics of one exercise in the course, median of 10
  - a listing page (100 reports, newest first) and a deep page through its cursor, median of 20
  - a numeric submission (graded, stored durably), p50 of 40, beside the same on an empty database
  - the whole gradebook CSV, streamed in a child process: its time and peak RSS
and the growth of each (log-log slope) from the smallest to the largest size. With --regrade N, a
regrade job of N stored linear-bptt submissions at the largest size, and its time.

Usage: python bench/scale_db.py [--backend postgresql|sqlite] [--sizes 1000,10000,100000] [--regrade 100000]
Defaults: PostgreSQL 1,000 / 10,000 / 100,000 learners; SQLite 1,000 / 10,000.
"""
import argparse
import json
import math
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
EXERCISES = ["linear-bptt", "tanh-rnn-bptt", "hidden-state-gradient", "forward-mode-recursion", "truncated-bptt",
             "randomized-truncation", "matrix-power-eigenvalues", "power-iteration-alignment",
             "gradient-norm-profile", "gradient-clipping", "minibatch-detach", "exploding-gradient-remedies"]
COLUMNS = ("id", "exercise_id", "exercise_version", "kind", "learner", "seed", "attempt", "answer", "verdict", "score",
           "max_score", "report", "created_at", "course_id", "assignment_id", "late", "final_score",
           "grading_attempts")


def make_app(url):
    from grader import create_app, storage
    app = create_app({"SECRET_KEY": "scale-bench", "DATABASE_URL": url, "RATE_LIMITS": {}})
    storage.upgrade(app)
    return app


def template(app):
    """A real graded report and answer of linear-bptt, and the seed they belong to."""
    from grader import auth, storage
    from grader.reference.linear import linear_bptt
    with app.app_context():
        key = auth.create_key(storage.session(app), role="learner", learner="template").key
    client, headers = app.test_client(), {"Authorization": f"Bearer {key}"}
    instance = client.post("/api/v1/exercises/linear-bptt/instances", json={}, headers=headers).json["instance"]
    answer = {k: (v * 1.5).tolist() for k, v in linear_bptt(**{k: np.asarray(v) for k, v in
                                                               instance["params"].items()}).items()}
    report = client.post("/api/v1/submissions", headers=headers, json={
        "exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"], "answer": answer}).json
    with app.app_context():
        from grader.storage.models import Submission
        db = storage.session(app)
        db.query(Submission).delete()
        db.commit()
    return report, answer, report["seed"]


def fill(app, learners, report, answer, seed):
    """The course, its assignments and enrollments, then 36 submissions per learner, streamed in
    chunks (COPY on PostgreSQL, executemany on SQLite)."""
    from grader import storage
    from grader.catalog import get_catalog
    from grader.storage.models import Assignment, Course, Enrollment
    catalog = get_catalog(app)
    with app.app_context():
        db = storage.session(app)
        db.add(Course(id="big", title="A MOOC"))
        db.flush()
        assignments = []
        for exercise_id in EXERCISES:
            assignment = Assignment(course_id="big", exercise_id=exercise_id, title=catalog[exercise_id].title,
                                    scoring="best", late_policy="penalty", late_penalty=0.2)
            db.add(assignment)
            assignments.append(assignment)
        db.flush()
        assignment_ids = [a.id for a in assignments]
        db.commit()
    engine = storage.engine_of(app)
    postgres = engine.dialect.name == "postgresql"
    rng = random.Random(1)
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    report_text, answer_text = json.dumps(report), json.dumps(answer)
    slugs = {e: list(catalog[e].misconceptions)[:4] for e in EXERCISES}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        chunk = 1000
        for first in range(0, learners, chunk):
            names = [f"l{k:07d}" for k in range(first, min(learners, first + chunk))]
            subs, miscs = [], []
            for who in names:
                for exercise_id, assignment_id in zip(EXERCISES, assignment_ids):
                    for attempt in range(3):
                        verdict = rng.choice(("correct", "incorrect", "partially_correct"))
                        score = {"correct": 1.0, "incorrect": 0.0}.get(verdict, 0.5)
                        late = rng.random() < 0.05
                        at = start + timedelta(seconds=rng.randint(0, 90 * 86400))
                        row_id = uuid.uuid4().hex
                        real = exercise_id == "linear-bptt"
                        subs.append((row_id, exercise_id, 1, "numeric", who, seed if real else None, attempt + 1,
                                     answer_text if real else None, verdict, score, 1.0, report_text, at, "big",
                                     assignment_id, late, round(score * (0.8 if late else 1.0), 10), 0))
                        if verdict != "correct":
                            miscs.append((row_id, rng.choice(slugs[exercise_id]), who, exercise_id, "big", at))
            enrollments = [("big", who, start) for who in names]
            if postgres:
                _copy(cursor, "enrollments", ("course_id", "learner", "created_at"), enrollments)
                _copy(cursor, "submissions", COLUMNS, subs)
                _copy(cursor, "submission_misconceptions",
                      ("submission_id", "slug", "learner", "exercise_id", "course_id", "created_at"), miscs)
            else:
                def iso(row):
                    return tuple(v.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ")
                                 if isinstance(v, datetime) else v for v in row)
                cursor.executemany("INSERT INTO enrollments (course_id, learner, created_at) VALUES (?, ?, ?)",
                                   [iso(r) for r in enrollments])
                cursor.executemany(f"INSERT INTO submissions ({', '.join(COLUMNS)}) VALUES "
                                   f"({', '.join('?' * len(COLUMNS))})", [iso(r) for r in subs])
                cursor.executemany("INSERT INTO submission_misconceptions (submission_id, slug, learner, exercise_id, "
                                   "course_id, created_at) VALUES (?, ?, ?, ?, ?, ?)", [iso(r) for r in miscs])
            raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _copy(cursor, table, columns, rows):
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def timed(call, runs):
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def measure(app, learners):
    from grader import auth, storage
    from grader.reference.linear import linear_bptt
    with app.app_context():
        db = storage.session(app)
        admin = {"Authorization": f"Bearer {auth.create_key(db, role='admin').key}"}
        learner = {"Authorization": f"Bearer {auth.create_key(db, role='learner', learner='l0000001', course_id='big').key}"}
    client, rng = app.test_client(), random.Random(2)

    def page():
        after = f"l{rng.randrange(max(1, learners - 100)):07d}"
        response = client.get(f"/api/v1/gradebook?course_id=big&limit=100&after={after}", headers=admin)
        assert response.status_code == 200 and len(response.json) == 1200, response.status_code

    def stats():
        response = client.get("/api/v1/exercises/tanh-rnn-bptt/stats?course_id=big", headers=admin)
        assert response.status_code == 200 and response.json["learners"] == learners

    def listing():
        response = client.get("/api/v1/submissions?course_id=big&limit=100", headers=admin)
        assert response.status_code == 200 and len(response.json) == 100
        link = response.headers["Link"]
        deep = client.get(link[1:link.index(">")], headers=admin)
        assert deep.status_code == 200 and len(deep.json) == 100

    instances = [client.post("/api/v1/exercises/linear-bptt/instances", json={"attempt": k}, headers=learner).json[
        "instance"] for k in range(1, 41)]
    bodies = [{"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": i["token"],
               "answer": {k: v.tolist() for k, v in linear_bptt(**{k: np.asarray(v) for k, v in
                                                                   i["params"].items()}).items()}} for i in instances]
    submissions = iter(bodies)

    def submit():
        response = client.post("/api/v1/submissions", json=next(submissions), headers=learner)
        assert response.status_code == 201 and response.json["verdict"] == "correct"
    return {"gradebook page": timed(page, 20), "stats": timed(stats, 10), "listing page": timed(listing, 20) / 2,
            "numeric submission": timed(submit, 40)}


def csv_child(url):
    """In a child process: stream the whole gradebook CSV; print seconds, bytes and peak RSS."""
    from grader import auth, storage
    app = make_app(url)
    with app.app_context():
        admin = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='admin').key}",
                 "Accept": "text/csv"}
    t0 = time.perf_counter()
    response = app.test_client().get("/api/v1/gradebook?course_id=big", headers=admin, buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    elapsed = time.perf_counter() - t0
    print(json.dumps({"seconds": elapsed, "bytes": size, "lines": lines,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_csv(url):
    out = subprocess.run([sys.executable, __file__, "--csv-child", url], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def regrade(app, rows):
    """Mark `rows` stored linear-bptt submissions as graded by an older version; time the job."""
    from grader import regrade as regrades, storage
    from grader.auth import Principal
    from grader.storage.models import Submission
    from sqlalchemy import select, update
    with app.app_context():
        db = storage.session(app)
        ids = select(Submission.id).where(Submission.exercise_id == "linear-bptt").order_by(Submission.id).limit(rows)
        db.execute(update(Submission).where(Submission.id.in_(ids)).values(exercise_version=0))
        db.commit()
        ctx = app.extensions["grader.context"]
        t0 = time.perf_counter()
        job = regrades.start(db, ctx, Principal(key_id=None, role="admin", learner=None), "linear-bptt", "big")
        job = regrades.run(db, ctx, job.id)
        return job.status, job.done, time.perf_counter() - t0


class Database:
    def __init__(self, backend, label):
        self.backend, self.label = backend, label

    def __enter__(self):
        if self.backend == "sqlite":
            self.folder = tempfile.mkdtemp(prefix="bptt-scale-")
            return f"sqlite:///{self.folder}/scale.sqlite"
        import psycopg
        self.name = f"bptt_scale_{self.label}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"

    def __exit__(self, *exc):
        if self.backend == "sqlite":
            import shutil
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        import psycopg
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{self.name}" WITH (FORCE)')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--sizes", help="learners per course, comma-separated")
    parser.add_argument("--regrade", type=int, default=0, help="regrade this many rows at the largest size")
    parser.add_argument("--csv-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.csv_child:
        return csv_child(args.csv_child)
    sizes = [int(s) for s in (args.sizes or ("1000,10000,100000" if args.backend == "postgresql"
                                              else "1000,10000")).split(",")]
    results = {}
    with Database(args.backend, "empty") as url:
        app = make_app(url)
        report, answer, seed = template(app)
        from grader import auth, storage
        from grader.storage.models import Assignment, Course, Enrollment
        with app.app_context():
            db = storage.session(app)
            db.add(Course(id="big", title="empty"))
            db.flush()
            db.add(Enrollment(course_id="big", learner="l0000001"))
            db.add(Assignment(course_id="big", exercise_id="linear-bptt", title="t", scoring="best"))
            db.commit()
        empty = measure_submission_only(app)
        app.extensions["grader.storage"].kw["bind"].dispose()
    print(f"backend {args.backend}; numeric submission on an empty database: p50 {empty:.1f} ms")
    print(f"{'learners':>9} {'rows':>10} {'fill s':>7} {'page ms':>8} {'stats ms':>9} {'list ms':>8} "
          f"{'submit ms':>9} {'csv s':>7} {'csv MB':>7} {'rss MB':>7}")
    for learners in sizes:
        with Database(args.backend, str(learners)) as url:
            app = make_app(url)
            t0 = time.perf_counter()
            fill(app, learners, report, answer, seed)
            filled = time.perf_counter() - t0
            figures = measure(app, learners)
            csv = run_csv(url)
            figures["csv"] = csv["seconds"]
            results[learners] = figures
            print(f"{learners:>9} {learners * 36:>10} {filled:>7.0f} {figures['gradebook page']:>8.1f} "
                  f"{figures['stats']:>9.1f} {figures['listing page']:>8.1f} {figures['numeric submission']:>9.1f} "
                  f"{csv['seconds']:>7.1f} {csv['bytes'] / 1e6:>7.1f} {csv['rss_mb']:>7.0f}", flush=True)
            if args.regrade and learners == sizes[-1]:
                status, done, seconds = regrade(app, args.regrade)
                print(f"regrade job of {done} stored submissions: {status} in {seconds:.0f} s "
                      f"({seconds / max(done, 1) * 1000:.2f} ms per submission)")
            app.extensions["grader.storage"].kw["bind"].dispose()
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        slopes = {k: math.log(results[large][k] / results[small][k]) / math.log(large / small) for k in results[small]}
        print(f"growth from {small} to {large} learners (log-log slope; 0 = flat, 1 = linear): "
              + ", ".join(f"{k} {v:.2f}" for k, v in slopes.items()))


def measure_submission_only(app):
    from grader import auth, storage
    from grader.reference.linear import linear_bptt
    with app.app_context():
        key = auth.create_key(storage.session(app), role="learner", learner="l0000001", course_id="big").key
    client, headers = app.test_client(), {"Authorization": f"Bearer {key}"}
    bodies = []
    for k in range(1, 41):
        i = client.post("/api/v1/exercises/linear-bptt/instances", json={"attempt": k}, headers=headers).json["instance"]
        bodies.append({"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": i["token"],
                       "answer": {n: v.tolist() for n, v in linear_bptt(**{n: np.asarray(v) for n, v in
                                                                           i["params"].items()}).items()}})
    submissions = iter(bodies)
    return timed(lambda: client.post("/api/v1/submissions", json=next(submissions), headers=headers), 40)


if __name__ == "__main__":
    main()
