"""Webhooks: the report POSTed to callback_url, signed per Standard Webhooks (verified with the
official standardwebhooks package), retried with the same id and timestamp, never to private
addresses unless allowed."""
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook
from sqlalchemy import select

from grader import create_app, delivery, storage
from grader.reference.linear import linear_bptt
from grader.storage.models import Delivery
from tests.conftest import count_submissions


class Receiver:
    """An HTTP endpoint on 127.0.0.1 answering the scripted statuses, then 200, and recording requests."""

    def __init__(self, statuses=()):
        self.requests, self.statuses = [], list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]
    yield make
    for r in made:
        r.close()


@pytest.fixture
def hook_app(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/w.sqlite", "SECRET_KEY": "s",
                      "WEBHOOK_ALLOW_PRIVATE": True, "DELIVERY_THREAD": False, "DELIVERY_BACKOFF_S": 0.0})
    storage.upgrade(app)
    return app


def submit_with_callback(app, url):
    from grader import auth
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='h').key}"}
    client = app.test_client()
    instance = client.post("/api/v1/exercises/linear-bptt/instances", json={}, headers=key).json["instance"]
    import numpy as np
    answer = {k: v.tolist() for k, v in linear_bptt(**{k: np.asarray(v) for k, v in instance["params"].items()}).items()}
    return client.post("/api/v1/submissions", headers=key, json={
        "exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["token"], "answer": answer,
        "callback_url": url})


def secret_of(app):
    return "whsec_" + base64.b64encode(delivery.webhook_secret(app)).decode()


def test_the_report_arrives_signed(hook_app, receiver):
    hook = receiver()
    report = submit_with_callback(hook_app, hook.url).json
    with hook_app.app_context():
        assert delivery.deliver_due(hook_app) == 1
    (request,) = hook.requests
    payload = Webhook(secret_of(hook_app)).verify(request["body"], request["headers"])
    assert payload["type"] == "submission.graded" and payload["data"]["id"] == report["id"]
    assert payload["data"]["verdict"] == "correct"
    with pytest.raises(Exception):
        Webhook(secret_of(hook_app)).verify(request["body"].replace(b"correct", b"incorrect"), request["headers"])


def test_retries_keep_the_id_and_timestamp(hook_app, receiver):
    hook = receiver(statuses=[500, 503])
    submit_with_callback(hook_app, hook.url)
    with hook_app.app_context():
        for _ in range(3):
            delivery.deliver_due(hook_app)
        row = storage.session(hook_app).scalars(select(Delivery)).one()
        assert row.status == "delivered" and row.attempts == 3
    ids = {(r["headers"]["webhook-id"], r["headers"]["webhook-timestamp"]) for r in hook.requests}
    assert len(hook.requests) == 3 and len(ids) == 1
    for request in hook.requests:
        Webhook(secret_of(hook_app)).verify(request["body"], request["headers"])


def test_a_permanent_refusal_is_not_retried(hook_app, receiver):
    hook = receiver(statuses=[410])
    submit_with_callback(hook_app, hook.url)
    with hook_app.app_context():
        delivery.deliver_due(hook_app)
        delivery.deliver_due(hook_app)
        row = storage.session(hook_app).scalars(select(Delivery)).one()
    assert row.status == "failed" and row.last_error == "HTTP 410" and len(hook.requests) == 1


def test_private_callbacks_are_refused_by_default(app, receiver):
    hook = receiver()
    response = submit_with_callback(app, hook.url)
    assert response.status_code == 422 and "callback_url" in response.json["errors"]
    assert count_submissions(app) == 0


def test_the_background_loop_delivers_without_being_asked(tmp_path, receiver):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite", "SECRET_KEY": "s",
                      "WEBHOOK_ALLOW_PRIVATE": True, "DELIVERY_INTERVAL_S": 0.2})
    storage.upgrade(app)
    hook = receiver()
    submit_with_callback(app, hook.url)
    deadline = time.time() + 5
    while not hook.requests and time.time() < deadline:
        time.sleep(0.05)
    assert len(hook.requests) == 1
    assert json.loads(hook.requests[0]["body"])["data"]["verdict"] == "correct"
