"""Fixtures: an app on a temporary SQLite database, a client, keys for each role, instances."""
import contextlib
import json
import subprocess
import uuid
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from grader import auth, create_app, storage
from grader.catalog import selftest
from grader.sandbox import ZYGOTE


ZYGOTE_DIR = Path(tempfile.mkdtemp(prefix="bptt-zygote-"))
ZYGOTE_SOCKET = str(ZYGOTE_DIR / "sandbox.sock")
TEST_LIMITS = {"wall_s": 3.0, "cpu_s": 1, "memory_bytes": 1 << 30}


@pytest.fixture(scope="session")
def zygote():
    """The sandbox zygote, started as production starts it: by path, with an empty environment."""
    with open(ZYGOTE_DIR / "zygote.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-I", str(ZYGOTE), "--socket", ZYGOTE_SOCKET, "--slots", "4"],
                                   env={}, stdout=subprocess.PIPE, stderr=log, text=True)
    ready = json.loads(process.stdout.readline())
    assert ready["event"] == "zygote-ready", ready
    yield {"process": process, "socket": ZYGOTE_SOCKET, "report": ready, "log": ZYGOTE_DIR / "zygote.log"}
    process.terminate()
    process.wait(timeout=10)
    process.stdout.close()


@pytest.fixture(scope="module", params=["numpy-zygote", "torch-zygote"])
def either_zygote(request, zygote):
    """A module's jobs twice: from the numpy zygote, then from the torch zygote, whose jobs hold torch
    (every SandboxClient.run asks for torch). The attack suite uses it: every attack with torch loaded."""
    from grader.sandbox import SandboxClient
    if request.param == "numpy-zygote":
        yield request.param
        return
    probe = "import sys\ndef f(x):\n    return {'torch': int('torch' in sys.modules)}\n"
    run = SandboxClient.run
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SandboxClient, "run", lambda self, *args, **kwargs: run(self, *args, **{**kwargs, "torch": True}))
        outcome = SandboxClient(zygote["socket"]).run(probe, "f", [{"x": 1}], TEST_LIMITS)
        assert outcome.results[0]["value"] == {"torch": 1}, "the jobs do not run with torch loaded"
        yield request.param


@contextlib.contextmanager
def own_zygote(path: str, *args: str):
    """A zygote of its own on `path`, started as production starts it, with these extra arguments."""
    process = subprocess.Popen([sys.executable, "-I", str(ZYGOTE), "--socket", path, *args],
                               env={}, stdout=subprocess.PIPE, text=True)
    process.stdout.readline()
    try:
        yield path
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'grader.sqlite'}",
                      "SECRET_KEY": "test-secret", "SANDBOX_SOCKET": ZYGOTE_SOCKET, "SANDBOX_LIMITS": TEST_LIMITS})
    storage.upgrade(app)
    return app


@pytest.fixture
def lti(app):
    """The tool on loopback with a test LTI platform (one client) registered."""
    from tests.lti_support import ToolAndPlatform
    pair = ToolAndPlatform(app)
    yield pair
    pair.stop()


@pytest.fixture
def lti_two_clients(app):
    """As lti, with two clients (developer keys) under the platform's one issuer, as on hosted Canvas."""
    from tests.lti_support import ToolAndPlatform
    pair = ToolAndPlatform(app, clients=("grader-tool", "grader-tool-2"))
    yield pair
    pair.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_key(app):
    """make_key(role, learner=None) -> headers with a fresh Bearer key."""
    def make(role, learner=None):
        with app.app_context():
            issued = auth.create_key(storage.session(app), role=role, learner=learner)
        return {"Authorization": f"Bearer {issued.key}"}
    return make


@pytest.fixture
def alice(make_key):
    return make_key("learner", "alice")


@pytest.fixture
def admin(make_key):
    return make_key("admin")


@pytest.fixture
def fetch_instance(client):
    """fetch_instance(exercise_id, headers, attempt=1) -> the instance dict, params as arrays too."""
    def fetch(exercise_id, headers, attempt=1):
        response = client.post(f"/api/v1/exercises/{exercise_id}/instances", json={"attempt": attempt},
                               headers=headers)
        assert response.status_code == 200, response.json
        instance = response.json["instance"]
        instance["arrays"] = {k: np.asarray(v) for k, v in instance["params"].items()}
        return instance
    return fetch


@pytest.fixture
def submit(client):
    """submit(instance, answer, headers) -> the response of POST /submissions."""
    def post(instance, answer, headers):
        body = {"exercise_id": instance["exercise_id"], "kind": "numeric",
                "instance_token": instance["token"],
                "answer": selftest.to_json(answer)}
        return client.post("/api/v1/submissions", json=body, headers=headers)
    return post


def count_submissions(app):
    from sqlalchemy import func, select

    from grader.storage.models import Submission
    with app.app_context():
        return storage.session(app).scalar(select(func.count()).select_from(Submission))


@pytest.fixture
def submit_code(client):
    """submit_code(exercise_id, source, headers) -> the response of POST /submissions."""
    def post(exercise_id, source, headers):
        return client.post("/api/v1/submissions", json={"exercise_id": exercise_id, "kind": "code", "source": source},
                           headers=headers)
    return post


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (the browser tests take a screenshot on failure)."""
    outcome = yield
    setattr(item, "report_" + call.when, outcome.get_result())


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_reachable() -> bool:
    import psycopg
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@contextlib.contextmanager
def fresh_postgres_database(prefix="bptt_test"):
    """A new PostgreSQL database on 127.0.0.1 (trust auth), dropped afterwards; yields its URL."""
    import psycopg
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_app(request, tmp_path):
    """An app on a fresh database of each backend (PostgreSQL: a new database, dropped after)."""
    if request.param == "sqlite":
        yield create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tmp_path}/g.sqlite"})
        return
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432 (trust auth, user postgres)")
    with fresh_postgres_database() as url:
        app = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": url})
        yield app
        storage.engine_of(app).dispose()


def set_rate_limits(app, limits: dict) -> None:
    """Give this app its own rate limits (the default dict is shared by every app: never mutate it)."""
    from dataclasses import replace
    app.extensions["grader.context"] = replace(app.extensions["grader.context"], rate_limits=limits)


def free_port_number() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def regrade_and_wait(client, exercise_id, headers, query="", polls=1200):
    """POST a regrade (202 + Location), then read its job until it is no longer queued or running
    (bounded: polls x 50 ms); returns the job."""
    import time
    response = client.post(f"/api/v1/exercises/{exercise_id}/regrade{query}", headers=headers)
    assert response.status_code == 202, response.get_data(as_text=True)
    job = response.json
    for _ in range(polls):
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.05)
        job = client.get(response.headers["Location"], headers=headers).json
    raise AssertionError(f"the regrade did not finish: {job}")


def wait_until_serving(port: int, answers: int = 6, seconds: float = 180) -> None:
    """gunicorn's master binds the port at once; its workers answer only once they have loaded the
    app, which takes seconds on a loaded machine: wait until health has answered a few times."""
    import http.client
    import time
    answered, deadline = 0, time.time() + seconds
    while time.time() < deadline and answered < answers:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", "/api/v1/health", headers={"Connection": "close"})
            conn.getresponse().read()
            conn.close()
            answered += 1
        except OSError:
            time.sleep(0.2)
    if answered < answers:
        raise RuntimeError(f"nothing serves on 127.0.0.1:{port}")
