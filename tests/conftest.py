"""Fixtures: an app on a temporary SQLite database, a client, keys for each role, instances."""
import numpy as np
import pytest

from grader import auth, create_app, storage
from grader.catalog import selftest


@pytest.fixture
def app(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'grader.sqlite'}",
                      "SECRET_KEY": "test-secret"})
    storage.upgrade(app)
    return app


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
