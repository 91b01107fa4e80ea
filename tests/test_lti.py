"""LTI 1.3 end to end against a test platform built on lti1p3platform, with real RSA keys, JWTs and
HTTP on loopback: login, launch, deep link, submit, and the platform receives the score."""
import re

import pytest
import requests

from grader import auth, storage
from tests.lti_platform import follow_launch
from tests.lti_support import deliver, passback_row, submit_right_answer


def test_launch_submit_and_the_platform_receives_the_score(lti):
    session = requests.Session()
    landed, _ = follow_launch(session, lti["platform"].start_url(exercise="linear-bptt", user="stu-7"))
    assert landed.status_code == 200 and "Your instance" in landed.text and "stu-7@127.0.0.1" in landed.text
    submit_right_answer(session, lti["tool"])
    assert deliver(lti["app"]) == 1
    (score,) = lti["platform"].scores
    assert score["userId"] == "stu-7" and score["scoreGiven"] == pytest.approx(1.0)
    assert score["scoreMaximum"] == pytest.approx(1.0) and score["gradingProgress"] == "FullyGraded"
    assert score["activityProgress"] == "Completed" and score["timestamp"] and "correct" in score["comment"]


def test_deep_linking_returns_a_content_item_with_a_line_item(lti):
    session = requests.Session()
    picker, _ = follow_launch(session, lti["platform"].start_url(deep_link=True, user="teacher-1"))
    assert "Add an exercise to your course" in picker.text
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text).group(1)
    answer = session.post(f"{lti['tool']}/lti/deep-link", data={"launch_id": launch_id,
                                                                "exercise_id": "tanh-rnn-bptt"}, timeout=10)
    action = re.search(r'action="([^"]+)"', answer.text).group(1)
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1)
    assert session.post(action, data={"JWT": jwt_value}, timeout=10).text == "content items received"
    (items,) = lti["platform"].deep_links
    (item,) = items
    assert item["custom"] == {"exercise_id": "tanh-rnn-bptt"} and item["lineItem"]["scoreMaximum"] == 1.0
    assert item["url"].endswith("/lti/launch")


@pytest.mark.parametrize("options, needle", [
    ({"tamper": True}, "LTI launch refused"),
    ({"foreign_key": True}, "LTI launch refused"),
    ({"audience": "someone-else"}, "LTI launch refused"),
    ({"deployment": "dep-unknown"}, "LTI launch refused"),
    ({"expired": True}, "LTI launch refused"),
], ids=["tampered-signature", "unknown-key-id", "wrong-audience", "wrong-deployment", "expired"])
def test_bad_launches_are_refused(lti, options, needle):
    response, _ = follow_launch(requests.Session(), lti["platform"].start_url(exercise="linear-bptt", **options))
    assert response.status_code == 403 and needle in response.text


def test_a_replayed_launch_is_refused(lti):
    session = requests.Session()
    landed, fields = follow_launch(session, lti["platform"].start_url(exercise="linear-bptt"))
    assert landed.status_code == 200
    replay = session.post(f"{lti['tool']}/lti/launch", data=fields, timeout=10)
    assert replay.status_code == 403


def test_platform_failure_then_success_replays_the_same_timestamp(lti):
    lti["platform"].score_statuses = [503]
    session = requests.Session()
    follow_launch(session, lti["platform"].start_url(exercise="linear-bptt", user="stu-8"))
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    row = passback_row(lti["app"])
    assert row.status == "pending" and row.last_error == "HTTP 503"
    first_timestamp = row.payload["timestamp"]
    deliver(lti["app"])
    (score,) = lti["platform"].scores
    assert score["timestamp"] == first_timestamp


@pytest.mark.parametrize("status", [409, 400])
def test_a_stale_timestamp_rejection_ends_as_done(lti, status):
    lti["platform"].score_statuses = [status]
    session = requests.Session()
    follow_launch(session, lti["platform"].start_url(exercise="linear-bptt"))
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    deliver(lti["app"])
    row = passback_row(lti["app"])
    assert row.status == "done" and row.last_error == "stale" and row.attempts == 1
    assert lti["platform"].scores == []


def test_no_score_scope_means_no_passback(lti):
    session = requests.Session()
    follow_launch(session, lti["platform"].start_url(exercise="linear-bptt", scores=False))
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    row = passback_row(lti["app"])
    assert row.status == "failed" and "score scope" in row.last_error and lti["platform"].scores == []


def test_tool_configuration_endpoints(lti):
    jwks = requests.get(f"{lti['tool']}/lti/jwks", timeout=5).json()
    assert jwks["keys"][0]["kty"] == "RSA" and jwks["keys"][0]["kid"]
    config = requests.get(f"{lti['tool']}/lti/config.json", timeout=5).json()
    assert config["oidc_initiation_url"].endswith("/lti/login") and config["public_jwk_url"].endswith("/lti/jwks")


def test_the_instructor_sees_each_passback(lti):
    lti["platform"].score_statuses = [503]
    session = requests.Session()
    follow_launch(session, lti["platform"].start_url(exercise="linear-bptt", user="stu-9"))
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    app = lti["app"]
    with app.app_context():
        from grader.storage.models import Submission
        db = storage.session(app)
        course_id = db.query(Submission).one().course_id
        teacher = auth.create_key(db, role="instructor", course_id=course_id).key
    listed = requests.get(f"{lti['tool']}/api/v1/courses/{course_id}/passbacks",
                          headers={"Authorization": f"Bearer {teacher}"}, timeout=5).json()["passbacks"]
    assert [(p["learner"], p["status"], p["attempts"], p["last_error"]) for p in listed] == \
        [("stu-9@127.0.0.1", "pending", 1, "HTTP 503")]


def test_platforms_are_registered_by_the_cli(app):
    result = app.test_cli_runner().invoke(args=[
        "lti-register", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
        "--login-url", "https://moodle.example.edu/mod/lti/auth.php",
        "--token-url", "https://moodle.example.edu/mod/lti/token.php",
        "--jwks-url", "https://moodle.example.edu/mod/lti/certs.php", "--deployment", "3"])
    assert result.exit_code == 0 and "registered https://moodle.example.edu" in result.output
    from grader.lti.tool import tool_conf
    with app.app_context():
        registration = tool_conf(app, storage.session(app)).find_registration_by_params("https://moodle.example.edu", "abc")
        assert registration.get_auth_token_url() == "https://moodle.example.edu/mod/lti/token.php"


def test_launch_data_lives_in_the_database_and_nonces_are_single_use(app):
    from pylti1p3.contrib.flask import FlaskRequest
    from grader.lti.launch_storage import DbLaunchDataStorage
    with app.test_request_context("/lti/launch", method="POST"):
        store = DbLaunchDataStorage(app)
        store.set_request(FlaskRequest())
        store.set_value("lti1p3-nonce-abc", True, exp=60)
        store.set_value("lti1p3-state-xyz", {"k": 1}, exp=60)
        assert store.check_value("lti1p3-nonce-abc") and not store.check_value("lti1p3-nonce-abc")
        assert store.get_value("lti1p3-state-xyz") == {"k": 1} and store.check_value("lti1p3-state-xyz")
        store.set_value("lti1p3-old", 1, exp=-1)
        assert store.get_value("lti1p3-old") is None
