"""One error shape: every HTTP error is RFC 9457 problem+json, and refused requests store nothing."""
import json

import pytest
from werkzeug.exceptions import abort, default_exceptions

from tests.conftest import count_submissions

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert PROBLEM_KEYS <= set(response.json)
    assert response.json["status"] == status
    return response.json


@pytest.mark.parametrize("code", sorted(default_exceptions), ids=str)
def test_every_werkzeug_error_is_a_problem(app, code):
    @app.route("/raise/<int:code>")
    def raise_code(code):
        abort(code)

    body = assert_problem(app.test_client().get(f"/raise/{code}"), code)
    assert body["type"] == "about:blank"
    assert body["title"] == default_exceptions[code]().name


def test_a_crash_is_a_generic_problem_that_leaks_nothing(app):
    @app.route("/crash")
    def crash():
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    body = assert_problem(app.test_client().get("/crash"), 500)
    assert "secret" not in str(body)


def test_unknown_route_and_method(client):
    assert_problem(client.get("/api/v1/nowhere"), 404)
    assert_problem(client.delete("/api/v1/exercises"), 405)


def numeric_body(instance, answer=None):
    return {"exercise_id": instance["exercise_id"], "kind": "numeric", "instance_token": instance["token"],
            "answer": answer if answer is not None else {}}


@pytest.mark.parametrize("payload, status, needle", [
    ('{"exercise_id": ', 400, "not valid JSON"),
    ('[1, 2]', 422, "Invalid input type"),
    ('{"exercise_id": "linear-bptt", "kind": "numeric", "answer": {"dW_hh": NaN}}', 422, "NaN"),
    ('{"exercise_id": "linear-bptt", "kind": "numeric", "answer": {"dW_hh": [Infinity]}}', 422, "Infinity"),
    ('{"exercise_id": "linear-bptt", "kind": "numeric", "answer": {"dW_hh": [1e999]}}', 422, "overflows"),
    ('{"exercise_id": "linear-bptt", "kind": "essay"}', 422, "failed validation"),
    ('{"exercise_id": "linear-bptt", "kind": "numeric", "surprise": 1}', 422, "failed validation"),
    ('[' * 100_000 + ']' * 100_000, 400, "nested too deeply"),
    ('{"exercise_id": "linear-bptt", "kind": "numeric", "answer": {"dW_hh": [[' + "9" * 400 + ']]}}', 422,
     "overflows a float64"),
], ids=["malformed", "not-an-object", "nan", "infinity", "overflow", "bad-kind", "unknown-field", "deep",
        "huge-integer"])
def test_bad_bodies_get_problems_and_store_nothing(app, client, alice, payload, status, needle):
    response = client.post("/api/v1/submissions", data=payload, content_type="application/json", headers=alice)
    body = assert_problem(response, status)
    assert needle in body["detail"] + str(body.get("errors"))
    assert count_submissions(app) == 0


@pytest.mark.parametrize("body", [
    b'{"answer": {"dW": [[0.0012345678901234567, -1.5e-07], [2.5e+300, 3]]}, "learner": "ann"}',
    b'[123456789012345678901234, -12345678901234567890, 9223372036854775807, 1e18, 1.5]',
    b'123456789012345678901234', b'[100000000000000000000.5]', b'{"a": "x\\ud800"}',
    b'\xef\xbb\xbf{"a": [1, 2]}', '{"a": [1, 2.5]}'.encode("utf-16"), b'[' * 300 + b'1' + b']' * 300,
    b'{"a": 1, "a": 2}', b'{"s": "[[[{{{ 12345678901234567890"}',
], ids=["floats", "wide-integers", "wide-integer-alone", "wide-float", "lone-surrogate", "byte-order-mark",
        "utf-16", "nested", "duplicate-key", "string"])
def test_the_strict_parser_reads_what_json_reads(body):
    """loads_strict hands most bodies to orjson: whatever it reads must be what json reads, value
    and type (an integer beyond 64 bits stays an integer, not orjson's float)."""
    from grader.api.base import loads_strict
    parsed, expected = loads_strict(body), json.loads(body)
    assert parsed == expected and repr(parsed) == repr(expected)


@pytest.mark.parametrize("body, by_orjson", [
    (b'{"answer": {"dW": [[0.0012345678901234567, -1.5e-07], [2.5e+300, 3]]}, "learner": "ann"}', True),
    (b'[123456789012345678, 1e18]', True), (b'[123456789012345678901234]', False), (b'[' * 300 + b']' * 300, False),
    (b'[1e400]', False),
], ids=["floats", "18-digits", "wide-integer", "nested", "overflow"])
def test_the_strict_parser_leaves_to_json_only_what_orjson_may_read_otherwise(monkeypatch, body, by_orjson):
    """A numeric answer is parsed by orjson (a fifth of json's time); a wide integer or deep
    nesting never reaches it, and what orjson refuses (here an overflow) json reads again."""
    from grader.api import base
    calls, original = [], base.orjson.loads

    def counted(data):
        calls.append(data)
        return original(data)
    monkeypatch.setattr(base.orjson, "loads", counted)
    try:
        parsed = base.loads_strict(body)
        answered_by_orjson = calls != [] and parsed == original(body)
    except base.NonFiniteNumber:
        answered_by_orjson = False
    assert answered_by_orjson is by_orjson
    assert calls == ([body] if by_orjson or body == b'[1e400]' else [])


@pytest.mark.parametrize("body, needle", [
    (b'[1e400]', "1e400 overflows"), (b'[-1E+999]', "overflows"), (b'[NaN]', "NaN is not"),
    (b'{"a": -Infinity}', "-Infinity is not"), (b'[1' + b'0' * 400 + b']', "401 digits"),
])
def test_the_strict_parser_refuses_what_is_not_finite(body, needle):
    from grader.api.base import loads_strict
    from grader.problems import NonFiniteNumber
    with pytest.raises(NonFiniteNumber, match=needle):
        loads_strict(body)


def test_deep_answer_within_the_json_limit_is_an_invalid_report(client, alice, fetch_instance):
    instance = fetch_instance("linear-bptt", alice)
    deep = json.loads("[" * 900 + "1.0" + "]" * 900)
    response = client.post("/api/v1/submissions", json=numeric_body(instance, {"dW_hh": deep}), headers=alice)
    assert response.status_code == 201 and response.json["verdict"] == "invalid"


def test_huge_body_is_413_before_it_is_read(app, client, alice):
    payload = '{"answer": "' + "x" * (2 << 20) + '"}'
    assert_problem(client.post("/api/v1/submissions", data=payload, content_type="application/json",
                               headers=alice), 413)
    assert count_submissions(app) == 0


def test_unknown_exercise_is_404(app, client, alice, fetch_instance):
    assert_problem(client.get("/api/v1/exercises/no-such"), 404)
    assert_problem(client.post("/api/v1/exercises/no-such/instances", json={}, headers=alice), 404)
    instance = fetch_instance("linear-bptt", alice)
    body = {**numeric_body(instance), "exercise_id": "no-such"}
    assert_problem(client.post("/api/v1/submissions", json=body, headers=alice), 404)
    assert count_submissions(app) == 0


def test_forged_and_tampered_tokens_are_refused(app, client, alice, fetch_instance):
    instance = fetch_instance("linear-bptt", alice)
    token = instance["token"]
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    for forged in (tampered, "not-a-token", token.replace(".", "x", 1)):
        body = assert_problem(client.post("/api/v1/submissions", json={**numeric_body(instance),
                                                                       "instance_token": forged},
                                          headers=alice), 422)
        assert body["type"].endswith("/invalid-instance-token")
    assert count_submissions(app) == 0


def test_a_token_signed_with_another_secret_is_refused(app, client, alice, fetch_instance):
    from grader import tokens
    instance = fetch_instance("linear-bptt", alice)
    claim = tokens.verify("test-secret", instance["token"], learner="alice", max_age=60)
    foreign = tokens.issue("another-secret", claim)
    assert_problem(client.post("/api/v1/submissions", json={**numeric_body(instance), "instance_token": foreign},
                               headers=alice), 422)


def test_another_learners_token_is_403(app, client, alice, make_key, fetch_instance):
    instance = fetch_instance("linear-bptt", alice)
    bob = make_key("learner", "bob")
    body = assert_problem(client.post("/api/v1/submissions", json=numeric_body(instance), headers=bob), 403)
    assert body["type"].endswith("/foreign-instance-token")
    assert count_submissions(app) == 0


def test_a_token_for_another_exercise_is_refused(client, alice, fetch_instance):
    instance = fetch_instance("linear-bptt", alice)
    body = {**numeric_body(instance), "exercise_id": "tanh-rnn-bptt"}
    assert_problem(client.post("/api/v1/submissions", json=body, headers=alice), 422)


def test_a_kind_the_exercise_does_not_take_is_refused(tmp_path):
    """An instructor's exercise may take numbers only: code for it is a 422 naming the kind."""
    import shutil
    from pathlib import Path
    from grader import auth, create_app, storage
    folder = tmp_path / "exercises" / "linear-bptt"
    shutil.copytree("exercises/linear-bptt", folder)
    info = json.loads((folder / "info.json").read_text())
    (folder / "info.json").write_text(json.dumps({**info, "kinds": ["numeric"]}))
    app = create_app({"TESTING": True, "SECRET_KEY": "s", "DATABASE_URL": f"sqlite:///{tmp_path}/k.sqlite",
                      "EXERCISE_DIRS": [str(folder.parent)]})
    storage.upgrade(app)
    with app.app_context():
        key = {"Authorization": f"Bearer {auth.create_key(storage.session(app), role='learner', learner='k').key}"}
    body = {"exercise_id": "linear-bptt", "kind": "code", "source": Path("exercises/linear-bptt/solution.py").read_text()}
    problem = assert_problem(app.test_client().post("/api/v1/submissions", json=body, headers=key), 422)
    assert "kind" in problem["errors"] and "accepts numeric submissions" in problem["detail"]


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer bptt_0000.zzzz", "Basic abc"])
def test_keys_are_required(client, header):
    headers = {"Authorization": header} if header else {}
    body = assert_problem(client.post("/api/v1/exercises/linear-bptt/instances", json={}, headers=headers), 401)
    assert body["type"].endswith("/unauthorized")
    assert_problem(client.get("/api/v1/submissions", headers=headers), 401)


def test_learner_keys_cannot_create_keys_or_act_for_others(client, alice):
    assert_problem(client.post("/api/v1/keys", json={"role": "admin"}, headers=alice), 403)
    assert_problem(client.post("/api/v1/exercises/linear-bptt/instances", json={"learner": "bob"},
                               headers=alice), 403)
