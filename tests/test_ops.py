"""Operations: storage that cannot take a request is a 503 with Retry-After (a full disk, a lost
PostgreSQL), health writes a heartbeat so it sees a full disk, keys are checked before bodies are
parsed, and pending submissions whose enqueue never happened are swept back into the queue."""
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import update

from grader import auth, create_app, storage
from grader.storage.models import Submission, utcnow
from tests.conftest import free_port_number

SOLUTION = Path("exercises/tanh-rnn-bptt/solution.py").read_text()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 4 MiB tmpfs: the database's disk, which the test fills up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)], check=True)
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_is_a_503_and_health_sees_it(tiny_disk):
    app = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tiny_disk}/g.sqlite"})
    storage.upgrade(app)
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='ann').key}"}
    client = app.test_client()
    assert client.get("/api/v1/health").status_code == 200
    filler = _fill(tiny_disk)
    instance = client.post("/api/v1/exercises/linear-bptt/instances", json={}, headers=key).json["instance"]
    body = {"exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"],
            "answer": {"dW_hh": [[0.0] * 50] * 50}}
    statuses = set()
    for _ in range(20):  # until the WAL needs a page the disk cannot give
        response = client.post("/api/v1/submissions", json=body, headers=key)
        statuses.add(response.status_code)
        if response.status_code != 201:
            break
    assert response.status_code == 503 and response.headers["Retry-After"] == "5", response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json" and 500 not in statuses
    health = client.get("/api/v1/health")
    assert health.status_code == 503 and health.json["checks"]["storage"]["status"] == "failing"
    filler.unlink()
    assert client.get("/api/v1/health").status_code == 200
    assert client.post("/api/v1/submissions", json=body, headers=key).status_code == 201


def test_a_lost_database_is_a_503_with_retry_after():
    port = free_port_number()  # nothing listens there: as a PostgreSQL that went away
    app = create_app({"TESTING": True, "SECRET_KEY": "s",
                      "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{port}/gone?connect_timeout=2"})
    client = app.test_client()
    response = client.post("/api/v1/submissions", json={"exercise_id": "linear-bptt"},
                           headers={"Authorization": "Bearer bptt_0123456789abcdef.secret"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/health").status_code == 503


def test_unauthenticated_requests_are_refused_before_their_body_is_read(client):
    for headers in ({}, {"Authorization": "Bearer bptt_0123456789abcdef.wrong"}):
        response = client.post("/api/v1/submissions", json={"not": "a submission"}, headers=headers)
        assert response.status_code == 401, response.json
        response = client.post("/api/v1/submissions", data="{not json", headers={**headers,
                                                                                "Content-Type": "application/json"})
        assert response.status_code == 401, response.json


QUEUE_REDIS = "redis://127.0.0.1:6379/14"


def _redis_reachable():
    try:
        return redis.Redis.from_url(QUEUE_REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def queued_app(tmp_path, zygote):
    if not _redis_reachable():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    broker = redis.Redis.from_url(QUEUE_REDIS)
    broker.flushdb()
    app = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tmp_path}/q.sqlite",
                      "QUEUE_URL": QUEUE_REDIS, "SANDBOX_SOCKET": zygote["socket"]})
    storage.upgrade(app)
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='q').key}"}
    yield app, key, broker
    broker.flushdb()


def _age_all(app, minutes):
    with app.app_context():
        db = storage.session(app)
        db.execute(update(Submission).values(created_at=utcnow() - timedelta(minutes=minutes)))
        db.commit()


def test_a_pending_submission_never_enqueued_is_swept(queued_app):
    from grader import tasks
    app, key, broker = queued_app
    client = app.test_client()
    assert client.post("/api/v1/submissions?wait=0", headers=key, json={
        "exercise_id": "tanh-rnn-bptt", "kind": "code", "source": SOLUTION}).status_code == 202
    broker.delete(tasks.QUEUE)  # the web worker died between its commit and its enqueue
    with app.app_context():
        assert tasks.sweep_pending(app) == 0  # too young: it may still be on its way
    _age_all(app, 20)
    with app.app_context():
        assert tasks.sweep_pending(app) == 1
    assert broker.llen(tasks.QUEUE) == 1


def test_a_retry_with_its_idempotency_key_enqueues_a_stale_pending_submission(queued_app):
    from grader import tasks
    app, key, broker = queued_app
    client = app.test_client()
    body = {"exercise_id": "tanh-rnn-bptt", "kind": "code", "source": SOLUTION}
    headers = {**key, "Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/submissions?wait=0", headers=headers, json=body)
    broker.delete(tasks.QUEUE)
    _age_all(app, 20)
    again = client.post("/api/v1/submissions?wait=0", headers=headers, json=body)
    assert again.json["id"] == first.json["id"] and again.headers["Idempotent-Replayed"] == "true"
    assert broker.llen(tasks.QUEUE) == 1
