"""The numeric fast lane (grader.api.fastlane) answers exactly as the Flask view does: the same
requests go to an app with the lane and to one without, and their answers are compared: status,
the headers a client reads, and the JSON body (ids and times aside). The lane must also really
answer the right submissions itself, and leave everything else to Flask."""
import json
import re

import numpy as np
import pytest

from grader import auth, create_app, storage, tokens
from grader.api.fastlane import NumericFastLane
from grader.catalog import get_catalog
from grader.catalog.selftest import to_json
from tests.conftest import TEST_LIMITS, ZYGOTE_SOCKET, count_submissions

EXERCISE = "tanh-rnn-bptt"
SECRET = "fast-lane-secret"
LIMITS = {"learner_exercise": {"count": 7, "window_s": 600}, "key": {"count": 1000, "window_s": 60}}
COMPARED_HEADERS = ("Content-Type", "Idempotent-Replayed", "Retry-After", "WWW-Authenticate", "X-Request-ID")
VARYING = ("id", "created_at")  # a new id and time per stored submission


class Side:
    """One app (lane on or off) with the same secret, its keys and a counter of what Flask answered."""

    def __init__(self, tmp_path, lane: bool, **config):
        self.app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / f'lane-{lane}.sqlite'}",
                               "SECRET_KEY": SECRET, "SANDBOX_SOCKET": ZYGOTE_SOCKET, "SANDBOX_LIMITS": TEST_LIMITS,
                               "RATE_LIMITS": LIMITS, "NUMERIC_FAST_LANE": lane, **config})
        storage.upgrade(self.app)
        with self.app.app_context():
            db = storage.session(self.app)
            self.keys = {"admin": auth.create_key(db, role="admin").key,
                         "ada": auth.create_key(db, role="learner", learner="ada").key,
                         "bob": auth.create_key(db, role="learner", learner="bob").key}
        self.flask_answered = 0
        lane_middleware = self.app.wsgi_app
        if not isinstance(lane_middleware, NumericFastLane):  # behind ProxyFix
            lane_middleware = lane_middleware.app
        flask_app = lane_middleware.next

        def counted(environ, start_response):
            self.flask_answered += 1
            return flask_app(environ, start_response)
        lane_middleware.next = counted
        self.client = self.app.test_client()

    def send(self, who, body, *, raw=None, headers=None, query="", environ=None):
        sent = {"Content-Type": "application/json", **({"Authorization": f"Bearer {self.keys[who]}"} if who else {}),
                **(headers or {})}
        data = raw if raw is not None else json.dumps(body)
        before = self.flask_answered
        response = self.client.post(f"/api/v1/submissions{query}", data=data, headers=sent,
                                    environ_overrides=environ or {})
        return response, self.flask_answered > before


@pytest.fixture
def sides(tmp_path):
    return Side(tmp_path, lane=True), Side(tmp_path, lane=False)


def normalized(response) -> tuple:
    if response.status_code != 201:  # no id or time in it: the same bytes
        return response.status_code, {name: response.headers.get(name) for name in COMPARED_HEADERS
                                       if name != "X-Request-ID"}, response.data
    body = response.get_json(force=True, silent=True)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VARYING}
    headers = {name: response.headers.get(name) for name in COMPARED_HEADERS}
    if re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"] or ""):
        headers["X-Request-ID"] = "a new one"  # none was given
    location = response.headers.get("Location")
    if location is not None:
        headers["Location"] = location.rsplit("/", 1)[0]  # the collection; the id differs
    return response.status_code, headers, body


def requests_to_compare(exercise, instance_of):
    """(name, who, body, extra) with the fast lane expected to answer (True) or to leave it to Flask."""
    ada, bob = instance_of("ada"), instance_of("bob")
    right = {k: np.asarray(v).tolist() for k, v in exercise.instance(ada["seed"]).answer.items()}
    variant_key, variant = next(iter(exercise.instance(ada["seed"]).variants.items()))
    wrong = to_json(variant)
    base = {"exercise_id": EXERCISE, "kind": "numeric", "instance_token": ada["token"]}
    first_part = next(iter(right))
    return [
        ("right, admin for ada", "admin", {**base, "answer": right, "learner": "ada"}, {}, True),
        ("right, ada's own key", "ada", {**base, "answer": right}, {}, True),
        (f"the mistake {variant_key}", "ada", {**base, "answer": wrong}, {}, True),
        ("a wrong shape", "ada", {**base, "answer": {**right, first_part: [[1.0]]}}, {}, True),
        ("an unknown answer field", "ada", {**base, "answer": {**right, "extra": 1}}, {}, True),
        ("the request id kept", "admin", {**base, "answer": right, "learner": "ada"},
         {"headers": {"X-Request-ID": "trace-42"}}, True),
        ("the first of an Idempotency-Key", "admin", {**base, "answer": wrong, "learner": "ada"},
         {"headers": {"Idempotency-Key": "k1"}}, True),
        ("its retry", "admin", {**base, "answer": wrong, "learner": "ada"}, {"headers": {"Idempotency-Key": "k1"}}, True),
        ("the key with another body", "admin", {**base, "answer": right, "learner": "ada"},
         {"headers": {"Idempotency-Key": "k1"}}, True),
        ("ada's eighth: past her limit", "ada", {**base, "answer": right}, {}, True),
        ("bob sends ada's token", "bob", {**base, "answer": right}, {}, True),
        ("ada's key acting for bob", "ada", {**base, "instance_token": bob["token"], "answer": right,
                                             "learner": "bob"}, {}, True),
        ("a forged token", "bob", {**base, "instance_token": bob["token"][:-3] + "abc", "answer": right}, {}, True),
        ("no such exercise", "bob", {**base, "exercise_id": "nö-such", "answer": right}, {}, True),
        ("a lone surrogate in an answer", "bob", None, {"raw": json.dumps(
            {**base, "instance_token": bob["token"], "answer": {"x": "SURROGATE"}}).replace("SURROGATE", "\\ud800")},
         True),
        ("a Content-Length that is not ASCII digits", "bob", {**base, "answer": right},
         {"environ": {"CONTENT_LENGTH": "\u00b2"}}, False),
        ("a body shorter than its Content-Length", "bob", {**base, "answer": right},
         {"environ": {"CONTENT_LENGTH": "99999"}}, False),
        ("no answer", "bob", {**base, "instance_token": bob["token"]}, {}, False),
        ("no key", None, {**base, "answer": right}, {}, False),
        ("a bad key", None, {**base, "answer": right}, {"headers": {"Authorization": "Bearer bptt_x.y"}}, False),
        ("NaN", "bob", None, {"raw": '{"exercise_id": "%s", "kind": "numeric", "instance_token": "%s", '
                                     '"answer": {"a": NaN}}' % (EXERCISE, bob["token"])}, False),
        ("an overflowing number", "bob", None, {"raw": json.dumps({**base, "answer": {"a": 1}}).replace(
            '"a": 1', '"a": 1e400')}, False),
        ("not JSON", "bob", None, {"raw": "{not json"}, False),
        ("an escaped NUL", "bob", {**base, "answer": {"a\u0000": 1}}, {}, False),
        ("text/plain", "bob", {**base, "answer": right}, {"headers": {"Content-Type": "text/plain"}}, False),
        ("an unknown field", "bob", {**base, "answer": right, "colour": "red"}, {}, False),
        ("a null learner", "admin", {**base, "answer": right, "learner": None}, {}, False),
        ("kind nonsense", "bob", {**base, "kind": "nonsense", "answer": right}, {}, False),
        ("a list body", "bob", [base], {}, False),
        ("a query string", "admin", {**base, "answer": right, "learner": "ada"}, {"query": "?wait=1"}, False),
        ("a long Idempotency-Key", "bob", {**base, "answer": right}, {"headers": {"Idempotency-Key": "k" * 201}}, False),
    ]


def test_the_lane_answers_as_flask_does(sides):
    fast, slow = sides
    exercise = get_catalog(fast.app)[EXERCISE]

    def instance_of(learner):
        found = {}
        for side in sides:  # the same secret: the same instance and seed on both
            response = side.client.post(f"/api/v1/exercises/{EXERCISE}/instances", json={"learner": learner},
                                        headers={"Authorization": f"Bearer {side.keys['admin']}"})
            token = response.get_json()["instance"]["token"]
            found[side] = tokens.verify(SECRET, token, learner=learner, max_age=3600)
            found[f"token-{side is fast}"] = token
        assert found[fast].seed == found[slow].seed
        return {"seed": found[fast].seed, "token": found["token-True"]}

    compared = requests_to_compare(exercise, instance_of)
    for name, who, body, extra, lane_answers in compared:
        on, flask_answered_on = fast.send(who, body, **extra)
        off, _ = slow.send(who, body, **extra)
        assert normalized(on) == normalized(off), name
        assert flask_answered_on is not lane_answers, f"{name}: answered by {'Flask' if flask_answered_on else 'the lane'}"
    answered_by_lane = [name for name, *_, lane_answers in compared if lane_answers]
    assert len(answered_by_lane) >= 10 and len(compared) - len(answered_by_lane) >= 10


def test_the_lane_stores_what_flask_stores(sides):
    """The rows of a right and a wrong submission, their slug rows, summaries and rate counts."""
    fast, slow = sides
    for side in sides:
        response = side.client.post(f"/api/v1/exercises/{EXERCISE}/instances", json={"learner": "ada"},
                                    headers={"Authorization": f"Bearer {side.keys['admin']}"})
        instance = response.get_json()["instance"]
        exercise = get_catalog(side.app)[EXERCISE]
        seed = tokens.verify(SECRET, instance["token"], learner="ada", max_age=3600).seed
        generated = exercise.instance(seed)
        for answer in (generated.answer, next(iter(generated.variants.values()))):
            body = {"exercise_id": EXERCISE, "kind": "numeric", "instance_token": instance["token"],
                    "answer": to_json(answer)}
            assert side.send("ada", body)[0].status_code == 201
    tables = {"submissions": "exercise_id, exercise_version, kind, learner, seed, attempt, answer, verdict, score, "
                             "max_score, report, course_id, assignment_id, late, final_score, grading_attempts",
              "submission_misconceptions": "slug, learner, exercise_id, course_id",
              "learner_summaries": "exercise_id, course_key, learner, attempts, bin0, bin1, bin2, bin3, bin4, "
                                   "first_correct",
              "misconception_learners": "*", "misconception_days": "*", "rate_counters": "bucket, count"}
    stored = []
    for side in sides:
        with storage.engine_of(side.app).connect() as connection:
            rows = {}
            for table, columns in tables.items():
                found = connection.exec_driver_sql(f"SELECT {columns} FROM {table} ORDER BY 1, 2").all()
                rows[table] = [tuple(_comparable(value) for value in row) for row in found]
            stored.append(rows)
    assert len(stored[0]["submissions"]) == 2 and stored[0]["submission_misconceptions"]
    for table in tables:
        if table == "rate_counters":  # a key's bucket is named by the key id, which differs
            for rows in stored:
                rows[table] = sorted((b if b.startswith("le:") else "key", c) for b, c in rows[table])
            assert stored[0][table] == stored[1][table] and stored[0][table]
        else:
            assert stored[0][table] == stored[1][table], table


def _comparable(value):
    """Stored JSON compared as data (the lane's orjson and the view's text differ in spacing only);
    the report's own id and time differ per submission."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        data = json.loads(value)
        return json.dumps({k: v for k, v in data.items() if k not in VARYING} if isinstance(data, dict) else data,
                          sort_keys=True)
    return value


def test_the_location_is_built_as_url_for_builds_it(tmp_path):
    """Behind a proxy that says its prefix (X-Forwarded-Prefix, trusted with GRADER_PROXY_HOPS)."""
    fast, slow = Side(tmp_path, lane=True, PROXY_HOPS=1), Side(tmp_path, lane=False, PROXY_HOPS=1)
    locations = []
    for side in (fast, slow):
        response = side.client.post(f"/api/v1/exercises/{EXERCISE}/instances", json={"learner": "ada"},
                                    headers={"Authorization": f"Bearer {side.keys['admin']}"})
        token = response.get_json()["instance"]["token"]
        seed = tokens.verify(SECRET, token, learner="ada", max_age=3600).seed
        answer = to_json(get_catalog(side.app)[EXERCISE].instance(seed).answer)
        response, by_flask = side.send("ada", {"exercise_id": EXERCISE, "kind": "numeric", "instance_token": token,
                                               "answer": answer}, headers={"X-Forwarded-Prefix": "/grader/"})
        assert response.status_code == 201 and by_flask is (side is slow)
        locations.append(response.headers["Location"].rsplit("/", 1)[0])
    assert locations[0] == locations[1] == "/grader/api/v1/submissions"  # one slash
    for prefix, expected in (("/other", "/other/api/v1/submissions"), ("", "/api/v1/submissions")):
        response, by_flask = fast.send("ada", {"exercise_id": EXERCISE, "kind": "numeric", "instance_token": token,
                                               "answer": answer}, headers={"X-Forwarded-Prefix": prefix})
        assert not by_flask and response.headers["Location"].rsplit("/", 1)[0] == expected  # not the first one's


def test_storage_failing_at_the_key_check_is_answered_as_flask_does(sides, monkeypatch):
    from sqlalchemy.exc import OperationalError
    from grader import keycache

    def unavailable(self, db, key_id):
        raise OperationalError("SELECT", {}, Exception("disk I/O error"))
    monkeypatch.setattr(keycache.KeyCache, "get", unavailable)
    answers = [normalized(side.send("bob", {"exercise_id": EXERCISE, "kind": "numeric", "instance_token": "t",
                                            "answer": {}})[0]) for side in sides]
    assert answers[0] == answers[1] and answers[0][0] == 503 and answers[0][1]["Retry-After"] == "5"


def test_a_failure_after_the_commit_is_answered_once_and_stored_once(sides, monkeypatch):
    """Nothing after a submission's commit runs it again: a failure there is a 500, one row stored."""
    from dataclasses import replace
    from tests.conftest import count_submissions
    fast, _ = sides
    context = fast.app.extensions["grader.context"]

    def broken_wakeup():
        raise RuntimeError("the delivery loop would not wake")
    fast.app.extensions["grader.context"] = replace(context, kick_deliveries=broken_wakeup,
                                                    allow_private_callbacks=True)
    response = fast.client.post(f"/api/v1/exercises/{EXERCISE}/instances", json={"learner": "ada"},
                                headers={"Authorization": f"Bearer {fast.keys['admin']}"})
    token = response.get_json()["instance"]["token"]
    seed = tokens.verify(SECRET, token, learner="ada", max_age=3600).seed
    answer = to_json(get_catalog(fast.app)[EXERCISE].instance(seed).answer)  # graded: a webhook is owed
    response, by_flask = fast.send("ada", {"exercise_id": EXERCISE, "kind": "numeric", "instance_token": token,
                                           "answer": answer, "callback_url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 500 and not by_flask
    assert count_submissions(fast.app) == 1


def test_a_submission_that_reads_nothing_opens_no_session(tmp_path):
    """A learner's numeric submission outside a course, its key cached, reads nothing before its
    group commit (which has a connection of its own): the lane opens no session for it (opening and
    closing one cost a few percent of the request)."""
    side = Side(tmp_path, lane=True)
    factory, opened = side.app.extensions[storage.EXTENSION], []

    class Counted(type(factory)):
        def __call__(self, **local_kw):
            opened.append(1)
            return super().__call__(**local_kw)
    counted = Counted(**factory.kw)
    side.app.extensions[storage.EXTENSION] = counted
    requests_before, graded_before = _counted_samples()
    for attempt in range(3):
        response = side.client.post(f"/api/v1/exercises/{EXERCISE}/instances", json={},
                                    headers={"Authorization": f"Bearer {side.keys['ada']}"})
        token = response.get_json()["instance"]["token"]
        seed = tokens.verify(SECRET, token, learner="ada", max_age=3600).seed
        answer = to_json(get_catalog(side.app)[EXERCISE].instance(seed).answer)
        opened.clear()
        response, by_flask = side.send("ada", {"exercise_id": EXERCISE, "kind": "numeric", "instance_token": token,
                                               "answer": answer})
        assert response.status_code == 201 and not by_flask and response.get_json()["verdict"] == "correct"
        assert opened == [], attempt  # the key was cached by the instance's request
    assert count_submissions(side.app) == 3
    requests_after, graded_after = _counted_samples()
    assert requests_after - requests_before == 3 and graded_after - graded_before == 3  # the metrics count them


def _counted_samples() -> tuple[float, float]:
    """The request counter of POST /api/v1/submissions answered 201, and the numeric gradings timed."""
    from prometheus_client import REGISTRY
    requests = REGISTRY.get_sample_value("grader_http_requests_total",
                                         {"route": "/api/v1/submissions", "method": "POST", "status": "201"})
    graded = REGISTRY.get_sample_value("grader_grading_seconds_count", {"exercise": EXERCISE, "kind": "numeric"})
    return requests or 0.0, graded or 0.0
