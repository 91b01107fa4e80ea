"""Durability under faults: gunicorn with several workers, a burst of submissions, one worker killed
with SIGKILL mid-burst, the service restarted. Every 2xx submission is stored with its report, none
twice, and the gradebook agrees with the stored reports. On SQLite and, where reachable, PostgreSQL."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from sqlalchemy import func, select

from grader import auth, create_app, storage
from grader.reference.linear import linear_bptt
from grader.storage.models import Submission
from tests.conftest import fresh_postgres_database, postgres_reachable, wait_until_serving

LEARNERS = [f"l{k}" for k in range(12)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/faults.sqlite"
        return
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (trust auth, user postgres)")
    with fresh_postgres_database("bptt_faults") as url:
        yield url


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(env, port):
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "3",
                                "--log-level", "warning", "wsgi:app"], env={**os.environ, **env},
                               start_new_session=True)
    wait_until_serving(port)
    return process


def call(port, method, path, headers, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={**headers, "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_a_killed_worker_loses_no_acknowledged_submission(database_url, tmp_path):
    env = {"GRADER_DATABASE_URL": database_url, "GRADER_SECRET_KEY": "fault-secret",
           "GRADER_RATE_LIMITS": "{}", "GRADER_SANDBOX_SOCKET": str(tmp_path / "none.sock")}
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "fault-secret"})
    storage.upgrade(app)
    with app.app_context():
        admin = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='admin').key}"}
    port = free_port()
    service = start_service(env, port)
    try:
        assert call(port, "POST", "/api/v1/courses", admin, {"id": "c1", "title": "c"})[0] == 201
        assert call(port, "POST", "/api/v1/courses/c1/learners", admin, {"learners": LEARNERS})[0] == 201
        assert call(port, "POST", "/api/v1/courses/c1/assignments", admin, {"exercise_id": "linear-bptt"})[0] == 201
        bodies = []
        for k, learner in enumerate(LEARNERS):
            _, reply = call(port, "POST", "/api/v1/exercises/linear-bptt/instances", admin, {"learner": learner})
            instance = reply["instance"]
            answer = {n: v.tolist() for n, v in linear_bptt(**{p: np.asarray(v) for p, v in
                                                                 instance["params"].items()}).items()}
            for attempt in range(8):
                given = answer if (attempt + k) % 3 else {**answer, "dW_hh": np.zeros_like(answer["dW_hh"]).tolist()}
                bodies.append({"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"],
                               "answer": given, "learner": learner, "assignment_id": 1})
        acknowledged, lock = {}, threading.Lock()
        queue = list(enumerate(bodies))

        def client():
            while True:
                with lock:
                    if not queue:
                        return
                    index, body = queue.pop()
                for _ in range(5):  # an LMS retries with the same Idempotency-Key
                    try:
                        status, reply = call(port, "POST", "/api/v1/submissions",
                                             {**admin, "Idempotency-Key": f"burst-{index}"}, body)
                    except (OSError, http.client.HTTPException):
                        time.sleep(0.05)
                        continue
                    if 200 <= status < 300:
                        with lock:
                            acknowledged[index] = reply
                        break

        threads = [threading.Thread(target=client) for _ in range(6)]
        for t in threads:
            t.start()
        while len(acknowledged) < len(bodies) // 3:
            time.sleep(0.01)
        workers = subprocess.run(["pgrep", "-P", str(service.pid)], capture_output=True, text=True).stdout.split()
        os.kill(int(workers[0]), signal.SIGKILL)
        for t in threads:
            t.join(timeout=120)
        assert len(acknowledged) == len(bodies)
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=30)
    service = start_service(env, port)  # the restart
    try:
        for reply in acknowledged.values():
            status, stored = call(port, "GET", f"/api/v1/submissions/{reply['id']}", admin)
            assert status == 200 and stored == reply
        with app.app_context():
            db = storage.session(app)
            assert db.scalar(select(func.count()).select_from(Submission)) == len(bodies)
            duplicates = db.execute(select(Submission.idempotency_key).group_by(Submission.idempotency_key)
                                    .having(func.count() > 1)).all()
            assert duplicates == []
            best = dict(db.execute(select(Submission.learner, func.max(Submission.final_score))
                                   .group_by(Submission.learner)).all())
        _, book = call(port, "GET", "/api/v1/gradebook?course_id=c1", admin)
        assert {row["learner"]: row["score"] for row in book} == pytest.approx(best)
        assert all(row["attempts"] == 8 for row in book)
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=30)
        storage.engine_of(app).dispose()
