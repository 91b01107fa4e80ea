"""What the LTI tests share: the tool served on loopback next to a test platform, registered through
the admin API, and a browser's steps (launch, submit an answer) played with requests."""
from __future__ import annotations

import json
import re
import threading

import numpy as np
import requests
from werkzeug.serving import make_server

from grader import auth, delivery, storage
from grader.reference.linear import linear_bptt
from grader.storage.models import Delivery
from tests.lti_platform import CLIENT_ID, Platform


class ToolAndPlatform:
    """The app served on 127.0.0.1 and a Platform with the given clients, each registered."""

    def __init__(self, app, clients=(CLIENT_ID,)):
        app.config["DELIVERY_THREAD"] = False
        app.config["DELIVERY_BACKOFF_S"] = 0.0
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.tool = f"http://127.0.0.1:{self.server.server_port}"
        self.platform = Platform(clients).start(self.tool)
        with app.app_context():
            self.admin = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='admin').key}"}
        for client in clients:
            response = requests.post(f"{self.tool}/api/v1/lti/registrations", timeout=5, headers=self.admin,
                                     json=self.platform.registration_body(client))
            assert response.status_code == 201, response.text

    def __getitem__(self, name):  # the tests read lti["app"], lti["tool"], lti["platform"]
        return getattr(self, name)

    def stop(self):
        self.platform.stop()
        self.server.shutdown()


def submit_answer(session, tool, exercise_id="linear-bptt", right=True):
    page = session.get(f"{tool}/exercises/{exercise_id}", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    token = re.search(r'name="instance_token" value="([^"]+)"', page).group(1)
    instance = session.get(f"{tool}/exercises/{exercise_id}/instance.json", timeout=10).json()
    answer = linear_bptt(**{k: np.asarray(v) for k, v in instance["params"].items()})
    if not right:
        answer = {k: np.zeros_like(v) for k, v in answer.items()}
    response = session.post(f"{tool}/exercises/{exercise_id}/submit", timeout=10, data={
        "csrf_token": csrf, "kind": "numeric", "instance_token": token, "attempt": "1",
        "answer_json": json.dumps({k: np.asarray(v).tolist() for k, v in answer.items()})})
    assert ('id="verdict">Correct<' if right else 'id="verdict">Not correct yet<') in response.text
    return response


def submit_right_answer(session, tool, exercise_id="linear-bptt"):
    return submit_answer(session, tool, exercise_id, right=True)


def passback_rows(app):
    with app.app_context():
        return storage.session(app).query(Delivery).filter_by(kind="passback").order_by(Delivery.created_at).all()


def passback_row(app):
    (row,) = passback_rows(app)
    return row


def deliver(app):
    with app.app_context():
        return delivery.deliver_due(app)
