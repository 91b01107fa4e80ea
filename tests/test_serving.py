"""The serving model under gunicorn as `make run` starts it (gunicorn.conf.py: gthread workers):
slow clients do not take the service down, and gunicorn's own errors are problem documents."""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grader.reference.linear import linear_bptt
from tests.conftest import free_port_number, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn -c gunicorn.conf.py with 2 workers on SQLite, and a learner key."""
    tmp_path = tmp_path_factory.mktemp("served")
    port = free_port_number()
    env = {**os.environ, "GRADER_DATABASE_URL": f"sqlite:///{tmp_path}/s.sqlite", "GRADER_SECRET_KEY": "serve",
           "GRADER_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "2", "GRADER_LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    key = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "create-key", "--role", "learner",
                          "--learner", "ann"], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()[-1]
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile",
                                "/dev/null", "wsgi:app"], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_serving(port)
    yield port, {"Authorization": f"Bearer {key}"}
    os.killpg(process.pid, signal.SIGINT)  # quick shutdown: keep-alive connections are not waited for
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a loaded machine: do not leave the server behind
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def call(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_slow_clients_do_not_take_the_service_down(served):
    """Twice as many connections as workers trickle their headers at 2 bytes/s; meanwhile health and
    a graded submission are answered, while every slow connection is still open."""
    port, key = served
    stop, still_open = threading.Event(), []
    request = b"POST /api/v1/submissions HTTP/1.1\r\nHost: slow\r\nContent-Type: application/json\r\nX-Pad: " \
              + b"a" * 200

    def trickle():
        sock = socket.create_connection(("127.0.0.1", port))
        try:
            for byte in request:
                if stop.wait(0.5):
                    still_open.append(True)
                    return
                sock.send(bytes([byte]))
        except OSError:
            return  # the server closed it: not counted as open
        finally:
            sock.close()
    slow = [threading.Thread(target=trickle) for _ in range(4)]
    for thread in slow:
        thread.start()
    time.sleep(1.0)  # every slow connection has been accepted and is trickling
    status, health = call(port, "GET", "/api/v1/health")
    assert status == 200 and health["checks"]["storage"]["status"] == "ok"
    status, instance = call(port, "POST", "/api/v1/exercises/linear-bptt/instances", key, {})
    answer = {k: v.tolist() for k, v in linear_bptt(**{k: np.asarray(v) for k, v in
                                                       instance["instance"]["params"].items()}).items()}
    status, report = call(port, "POST", "/api/v1/submissions", key, {
        "exercise_id": "linear-bptt", "kind": "numeric", "instance_token": instance["instance"]["token"],
        "answer": answer})
    assert status == 201 and report["verdict"] == "correct"
    stop.set()
    for thread in slow:
        thread.join()
    assert len(still_open) == 4  # the answers above came while all four were still trickling


@pytest.mark.parametrize("raw, status", [
    (b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"NOT A REQUEST LINE\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
], ids=["uri-too-long", "bad-request-line", "header-too-large"])
def test_gunicorns_own_errors_are_problem_documents(served, raw, status):
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode(), head
    assert b"Content-Type: application/problem+json" in head
    assert json.loads(body)["status"] == status
