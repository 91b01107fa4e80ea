"""Asynchronous grading on Celery and Redis with PostgreSQL: two web processes and two workers on
loopback grade a burst; one worker is killed with SIGKILL mid-burst; every accepted submission ends
graded exactly once. Plus the queue's bound and a poisoned submission."""
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from grader import auth, create_app, storage
from grader.storage.models import Submission
from tests.test_faults import call, free_port, start_service
from tests.conftest import fresh_postgres_database, postgres_reachable

REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, flushed by these tests
SOLUTION = Path("exercises/tanh-rnn-bptt/solution.py").read_text()
# the same solution, 0.4 s per hidden instance: a job that is surely running when its worker is killed
SLOW = SOLUTION + "\n_fast = rnn_bptt\n\ndef rnn_bptt(*args, **kwargs):\n    import time\n    time.sleep(0.4)\n" \
                  "    return _fast(*args, **kwargs)\n"


def redis_reachable():
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not (redis_reachable() and postgres_reachable()),
                                reason="needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432")


@pytest.fixture
def cluster(zygote):
    with fresh_postgres_database("bptt_queue") as url:
        yield from _cluster(zygote, url)


def _cluster(zygote, url):
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {"GRADER_DATABASE_URL": url, "GRADER_SECRET_KEY": "queue-secret", "GRADER_QUEUE_URL": REDIS_URL,
           "GRADER_SANDBOX_SOCKET": zygote["socket"], "GRADER_RATE_LIMITS": "{}",
           "GRADER_QUEUE_VISIBILITY_TIMEOUT_S": "4", "GRADER_LOG_LEVEL": "WARNING"}
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "queue-secret", "QUEUE_URL": REDIS_URL})
    storage.upgrade(app)
    with app.app_context():
        admin_key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='admin').key}"}
    processes = {"web": [], "workers": []}
    ports = [free_port(), free_port()]
    for port in ports:
        processes["web"].append(start_service(env, port))
    for k in range(2):
        processes["workers"].append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wsgi:celery_app", "worker", "--pool", "solo", "-Q", "grading",
             "--loglevel", "WARNING", "-n", f"w{k}@%h"], env={**os.environ, **env}, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    deadline = time.time() + 180  # both workers ready (each has loaded the app and joined the queue)
    while time.time() < deadline and len(app.extensions["celery"].control.ping(timeout=1.0)) < 2:
        time.sleep(0.5)
    yield {"app": app, "ports": ports, "admin": admin_key, "processes": processes}
    for process in processes["web"] + processes["workers"]:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    storage.engine_of(app).dispose()


def test_a_burst_survives_a_killed_worker_and_is_graded_once(cluster):
    accepted = []

    def send(k, source):
        status, reply = call(cluster["ports"][k % 2], "POST", "/api/v1/submissions",
                             {**cluster["admin"], "Prefer": "respond-async"},
                             {"exercise_id": "tanh-rnn-bptt", "kind": "code", "source": source, "learner": f"l{k}"})
        assert status == 202 and reply["verdict"] == "pending"
        accepted.append(reply["id"])

    send(0, SLOW)
    send(1, SLOW)
    time.sleep(1.0)  # each worker is inside a 2-second job
    victim = cluster["processes"]["workers"][0]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    for k in range(2, 24):
        send(k, SOLUTION)
    app = cluster["app"]
    deadline = time.time() + 120
    with app.app_context():
        db = storage.session(app)
        while time.time() < deadline:
            db.expire_all()
            if db.scalar(select(func.count()).select_from(Submission).where(Submission.verdict == "pending")) == 0:
                break
            time.sleep(0.5)
        rows = db.scalars(select(Submission)).all()
    assert sorted(r.id for r in rows) == sorted(accepted)
    assert all(r.verdict == "correct" and r.graded_at is not None for r in rows), [r.verdict for r in rows]
    assert all(1 <= r.grading_attempts <= 2 for r in rows)
    slow = [r for r in rows if r.id in accepted[:2]]
    assert sorted(r.grading_attempts for r in slow) == [1, 2]  # the killed worker's job was delivered again
    status, stored = call(cluster["ports"][1], "GET", f"/api/v1/submissions/{accepted[0]}", cluster["admin"])
    assert status == 200 and stored["verdict"] == "correct" and len(stored["instances"]) == 5


def test_wait_returns_the_graded_report(cluster, zygote):
    trace = f"trace-{secrets.token_hex(6)}"
    status, reply = call(cluster["ports"][0], "POST", "/api/v1/submissions?wait=20",
                         {**cluster["admin"], "X-Request-ID": trace},
                         {"exercise_id": "tanh-rnn-bptt", "kind": "code", "source": SOLUTION, "learner": "w"})
    assert status == 201 and reply["verdict"] == "correct"
    jobs = [json.loads(line) for line in zygote["log"].read_text().splitlines() if trace in line]
    assert [job["status"] for job in jobs] == ["ok"]  # the id went web -> queue -> worker -> sandbox
    _, health = call(cluster["ports"][0], "GET", "/api/v1/health", {})
    assert health["checks"]["queue"]["status"] == "ok"
    conn = http.client.HTTPConnection("127.0.0.1", cluster["ports"][0], timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()  # gthread workers keep the connection alive
    assert "grader_queue_depth" in text and "grader_http_requests_total" in text


def test_a_full_queue_answers_503_and_stores_nothing(tmp_path, zygote):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/q.sqlite", "SECRET_KEY": "s", "QUEUE_URL": REDIS_URL,
                      "QUEUE_MAX": 0, "SANDBOX_SOCKET": zygote["socket"]})
    storage.upgrade(app)
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='f').key}"}
    response = app.test_client().post("/api/v1/submissions", headers=key,
                                      json={"exercise_id": "tanh-rnn-bptt", "kind": "code", "source": SOLUTION})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    with app.app_context():
        assert storage.session(app).scalar(select(func.count()).select_from(Submission)) == 0


def test_a_poisoned_submission_is_given_up_not_retried_forever(tmp_path, zygote):
    from grader.tasks import grade_queued
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite", "SECRET_KEY": "s", "QUEUE_URL": REDIS_URL,
                      "SANDBOX_SOCKET": zygote["socket"], "GRADING_MAX_ATTEMPTS": 3})
    storage.upgrade(app)
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='p').key}"}
    pending = app.test_client().post("/api/v1/submissions", headers={**key, "Prefer": "respond-async"},
                                     json={"exercise_id": "tanh-rnn-bptt", "kind": "code", "source": SOLUTION}).json
    redis.Redis.from_url(REDIS_URL).flushdb()  # no worker here: the test plays the redeliveries
    with app.app_context():
        db = storage.session(app)
        db.get(Submission, pending["id"]).grading_attempts = 3  # three deliveries already died mid-grading
        db.commit()
        assert grade_queued(app, pending["id"]) == "error"
        assert grade_queued(app, pending["id"]) == "already-graded"
        db.expire_all()
        row = db.get(Submission, pending["id"])
        assert row.verdict == "error" and "could not be graded after 3 deliveries" in row.report["message"]


def test_a_queued_grade_moves_the_statistics_summaries(tmp_path, zygote):
    """A pending submission counts as an ungraded attempt; once a worker grades it, the statistics'
    summaries are what a rebuild from the stored rows gives (a wrong solution names its slug)."""
    from grader.courses import gradebook, summaries
    from grader.catalog import get_catalog
    from grader.tasks import grade_queued
    from tests.test_summaries import snapshot
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/s.sqlite", "SECRET_KEY": "s", "QUEUE_URL": REDIS_URL,
                      "SANDBOX_SOCKET": zygote["socket"]})
    storage.upgrade(app)
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='q').key}"}
    wrong = SOLUTION.replace("MISTAKE = None", 'MISTAKE = "missing-tanh-derivative"')
    assert wrong != SOLUTION
    pending = [app.test_client().post("/api/v1/submissions", headers={**key, "Prefer": "respond-async"}, json={
        "exercise_id": "tanh-rnn-bptt", "kind": "code", "source": source}).json for source in (SOLUTION, wrong)]
    redis.Redis.from_url(REDIS_URL).flushdb()  # no worker here: the test plays it
    exercise = get_catalog(app)["tanh-rnn-bptt"]
    with app.app_context():
        db = storage.session(app)
        assert gradebook.stats(db, exercise, None)["score_distribution"][0]["count"] == 2  # two ungraded attempts
        verdicts = [grade_queued(app, p["id"]) for p in pending]
        assert verdicts[0] == "correct" and verdicts[1] in ("incorrect", "partially_correct")
        db.expire_all()
        kept = snapshot(db)
        summaries.rebuild(db.connection())
        assert snapshot(db) == kept
        db.rollback()
        stats = gradebook.stats(db, exercise, None)
        assert stats["score_distribution"][4]["count"] == 1 and stats["first_try_correct_rate"] == pytest.approx(1.0)
        assert [m["slug"] for m in stats["misconceptions"]] == ["missing-tanh-derivative"]
