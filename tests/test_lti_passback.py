"""AGS passback against the test platform: access tokens per client under one issuer, a 401 answered
with a new token, the gradebook's score (not the attempt's) in the LMS, microsecond timestamps that
never repeat, one line item per resource link, and the platform's refusal shown to the instructor."""
import re
from datetime import datetime, timezone

import time

import pytest
import requests

from grader import auth, storage
from grader.lti import passback
from grader.storage.models import LtiLink, Submission
from tests.lti_platform import follow_launch
from tests.lti_support import deliver, passback_row, passback_rows, submit_answer, submit_right_answer


def launch(lti, **options):
    session = requests.Session()
    landed, _ = follow_launch(session, lti["platform"].start_url(exercise="linear-bptt", **options))
    assert landed.status_code == 200, landed.text
    return session


def test_two_clients_under_one_issuer_post_with_their_own_tokens(lti_two_clients):
    lti = lti_two_clients
    first = launch(lti, user="ann", client="grader-tool", lineitem=7, context="course-a")
    second = launch(lti, user="bob", client="grader-tool-2", lineitem=8, context="course-b")
    submit_right_answer(first, lti["tool"])
    deliver(lti["app"])
    submit_right_answer(second, lti["tool"])
    deliver(lti["app"])
    assert [row.status for row in passback_rows(lti["app"])] == ["delivered", "delivered"]
    assert {(s["lineitem"], s["userId"]) for s in lti["platform"].scores} == {(7, "ann"), (8, "bob")}
    assert lti["platform"].token_requests == ["grader-tool", "grader-tool-2"]


def test_a_revoked_token_is_replaced_and_the_score_still_posted(lti):
    session = launch(lti, user="stu-1")
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    lti["platform"].revoke_tokens()
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    rows = passback_rows(lti["app"])
    assert [(r.status, r.attempts) for r in rows] == [("delivered", 1), ("delivered", 1)], rows[-1].last_error
    assert len(lti["platform"].token_requests) == 2 and len(lti["platform"].scores) == 2


def test_a_401_is_retried_once_with_a_new_token(lti):
    lti["platform"].score_statuses = [401]
    session = launch(lti, user="stu-2")
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    row = passback_row(lti["app"])
    assert (row.status, row.attempts) == ("delivered", 1) and len(lti["platform"].token_requests) == 2


def test_another_4xx_ends_the_passback_with_the_platforms_answer_for_the_instructor(lti):
    lti["platform"].score_statuses = [403]
    session = launch(lti, user="stu-3")
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    deliver(lti["app"])
    row = passback_row(lti["app"])
    assert row.status == "failed" and row.attempts == 1 and "grades are locked" in row.last_error
    with lti["app"].app_context():
        db = storage.session(lti["app"])
        course_id = db.query(Submission).one().course_id
        teacher = auth.create_key(db, role="instructor", course_id=course_id).key
    listed = requests.get(f"{lti['tool']}/api/v1/courses/{course_id}/passbacks", timeout=5,
                          headers={"Authorization": f"Bearer {teacher}"}).json()["passbacks"]
    assert listed[0]["status"] == "failed" and "HTTP 403" in listed[0]["last_error"]


def test_the_lms_keeps_the_best_score_when_a_wrong_answer_follows_a_right_one(lti):
    session = launch(lti, user="stu-4")
    submit_answer(session, lti["tool"], right=True)
    deliver(lti["app"])
    submit_answer(session, lti["tool"], right=False)
    deliver(lti["app"])
    assert [r.status for r in passback_rows(lti["app"])] == ["delivered", "delivered"]
    assert [s["scoreGiven"] for s in lti["platform"].scores] == [pytest.approx(1.0), pytest.approx(1.0)]
    assert lti["platform"].shown[(7, "stu-4")]["score"] == pytest.approx(1.0)


def test_grades_in_one_second_reach_the_lms_in_order_with_microseconds(lti):
    session = launch(lti, user="stu-5")
    submit_answer(session, lti["tool"], right=False)
    submit_answer(session, lti["tool"], right=True)
    deliver(lti["app"])
    stamps = [s["timestamp"] for s in lti["platform"].scores]
    assert len(stamps) == 2 and all(re.search(r"T\d\d:\d\d:\d\d\.\d{6}", s) for s in stamps)
    assert datetime.fromisoformat(stamps[0]) < datetime.fromisoformat(stamps[1])
    assert lti["platform"].shown[(7, "stu-5")]["score"] == pytest.approx(1.0)


def test_timestamps_increase_strictly_even_when_the_clock_stands_still(monkeypatch):
    frozen = datetime(2026, 11, 30, 8, 0, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(passback, "utcnow", lambda: frozen)
    link = LtiLink(learner="x", assignment_id=1)
    stamps = [passback.next_timestamp(link) for _ in range(3)]
    assert stamps[0] == frozen and stamps[0] < stamps[1] < stamps[2]
    assert stamps[2].isoformat(timespec="microseconds").endswith(".000002+00:00")


def test_two_links_to_one_exercise_each_receive_the_score(lti):
    session = launch(lti, user="stu-6", link="week-1", lineitem=7)
    follow_launch(session, lti["platform"].start_url(exercise="linear-bptt", user="stu-6", link="week-2",
                                                     lineitem=8))
    submit_right_answer(session, lti["tool"])
    deliver(lti["app"])
    shown = lti["platform"].shown
    assert shown[(7, "stu-6")]["score"] == pytest.approx(1.0) and shown[(8, "stu-6")]["score"] == pytest.approx(1.0)


def test_a_regrade_that_changes_the_score_sends_it_to_the_lms(lti):
    session = launch(lti, user="stu-7")
    submit_right_answer(session, lti["tool"])
    with lti["app"].app_context():  # as if an older, buggy version had graded it 0 and nothing was sent
        db = storage.session(lti["app"])
        row = db.query(Submission).one()
        row.exercise_version, row.verdict, row.score, row.final_score = 0, "incorrect", 0.0, 0.0
        row.report = {**row.report, "verdict": "incorrect", "score": 0.0, "exercise_version": 0}
        for sent in passback_rows(lti["app"]):
            db.delete(db.merge(sent))
        db.commit()
    started = requests.post(f"{lti['tool']}/api/v1/exercises/linear-bptt/regrade", headers=lti["admin"], timeout=30)
    assert started.status_code == 202
    job = started.json()
    for _ in range(600):  # a regrade is a job: read its progress until it ends (bounded)
        if job["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)
        job = requests.get(f"{lti['tool']}{started.headers['Location']}", headers=lti["admin"], timeout=30).json()
    assert (job["status"], job["changed"]) == ("done", 1)
    deliver(lti["app"])
    assert [(s["userId"], s["scoreGiven"]) for s in lti["platform"].scores] == [("stu-7", pytest.approx(1.0))]


def test_a_link_without_a_line_item_gets_one_bound_to_it_once(lti):
    first = launch(lti, user="stu-8", link="practice", lineitem=None)
    second = launch(lti, user="stu-9", link="practice", lineitem=None)
    submit_right_answer(first, lti["tool"])
    deliver(lti["app"])
    submit_right_answer(second, lti["tool"])
    deliver(lti["app"])
    (made,) = lti["platform"].lineitems
    assert made["resourceLinkId"] == "practice" and made["tag"] == "linear-bptt" and made["scoreMaximum"] == 1.0
    assert {(s["lineitem"], s["userId"]) for s in lti["platform"].scores} == {(100, "stu-8"), (100, "stu-9")}
    assert {row.target for row in passback_rows(lti["app"])} == {made["id"]}


def test_the_lms_receives_the_last_score_or_the_late_penalty_when_the_assignment_says_so(lti):
    from grader.storage.models import Assignment
    session = launch(lti, user="stu-10")
    submit_answer(session, lti["tool"], right=True)
    with lti["app"].app_context():
        db = storage.session(lti["app"])
        assignment = db.query(Assignment).one()
        assignment.scoring, assignment.late_penalty = "last", 0.5
        assignment.due_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
        db.commit()
    submit_answer(session, lti["tool"], right=False)
    submit_answer(session, lti["tool"], right=True)
    deliver(lti["app"])
    assert [s["scoreGiven"] for s in lti["platform"].scores] == [pytest.approx(1.0), pytest.approx(0.0),
                                                                  pytest.approx(0.5)]
