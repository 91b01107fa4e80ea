"""Names and Role Provisioning Services against the test platform: an instructor syncs the LMS
roster from the course page, the CLI or the API; learners who never launched appear in the gradebook."""
import re

import requests
from sqlalchemy import select

from grader import auth, storage
from grader.storage.models import Enrollment
from tests.lti_platform import INSTRUCTOR, LIS, follow_launch

MEMBERS = [
    {"user_id": "s-1", "roles": [LIS + "Learner"], "status": "Active", "name": "Ada Lovelace"},
    {"user_id": "s-2", "roles": [LIS + "Learner"], "given_name": "Alan", "family_name": "Turing"},
    {"user_id": "s-3", "roles": [LIS + "Learner"], "status": "Inactive", "name": "Gone Away"},
    {"user_id": "prof", "roles": [LIS + "Instructor"], "name": "The Professor"},
    {"user_id": "s-4", "roles": ["Learner"]},
]


def instructor_session(lti, **options):
    session = requests.Session()
    landed, _ = follow_launch(session, lti["platform"].start_url(exercise="linear-bptt", user="prof",
                                                                 roles=INSTRUCTOR, **options))
    return session, landed


def test_the_instructor_syncs_the_roster_from_the_course_page(lti):
    lti["platform"].members = MEMBERS
    session, landed = instructor_session(lti, nrps=True)
    course_id = landed.url.rsplit("/", 1)[1]
    assert 'id="roster-sync"' in landed.text and "s-1@127.0.0.1" not in landed.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', landed.text).group(1)
    synced = session.post(f"{lti['tool']}/courses/{course_id}/roster-sync", data={"csrf_token": csrf}, timeout=10)
    assert synced.status_code == 200 and "3 learners in the LMS roster; 3 newly enrolled" in synced.text
    assert "s-1@127.0.0.1 (Ada Lovelace)" in synced.text and "s-2@127.0.0.1 (Alan Turing)" in synced.text
    assert "s-4@127.0.0.1" in synced.text and "s-3@" not in synced.text and "prof@" not in synced.text
    with lti["app"].app_context():
        enrolled = storage.session(lti["app"]).scalars(select(Enrollment.learner).order_by(Enrollment.learner)).all()
    assert enrolled == ["s-1@127.0.0.1", "s-2@127.0.0.1", "s-4@127.0.0.1"]


def test_the_roster_syncs_from_the_cli_and_the_api(lti):
    lti["platform"].members = MEMBERS[:2]
    _, landed = instructor_session(lti, nrps=True)
    course_id = landed.url.rsplit("/", 1)[1]
    result = lti["app"].test_cli_runner().invoke(args=["lti-sync-roster", course_id])
    assert result.exit_code == 0 and "2 learners in the LMS roster (2 members), 2 newly enrolled" in result.output
    lti["platform"].members = MEMBERS
    with lti["app"].app_context():
        teacher = auth.create_key(storage.session(lti["app"]), role="instructor", course_id=course_id).key
    answer = requests.post(f"{lti['tool']}/api/v1/courses/{course_id}/roster-sync", timeout=10,
                           headers={"Authorization": f"Bearer {teacher}"})
    assert answer.status_code == 200 and answer.json() == {"course_id": course_id, "members": 5, "learners": 3,
                                                           "new": 1}


def test_a_course_without_the_roster_claim_cannot_sync(lti):
    session, landed = instructor_session(lti)
    course_id = landed.url.rsplit("/", 1)[1]
    assert 'id="roster-sync"' not in landed.text
    result = lti["app"].test_cli_runner().invoke(args=["lti-sync-roster", course_id])
    assert result.exit_code != 0 and "no roster service" in result.output
