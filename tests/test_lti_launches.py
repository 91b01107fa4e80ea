"""Launches against the test platform: deployments added and removed (API and CLI), registrations
updated or refused with 409, target_link_uri and azp checked, and staff roles landing on the
course's pages with an instructor session instead of being enrolled as learners."""
import pytest
import requests
from sqlalchemy import select

from grader import courses, storage
from grader.lti.roles import is_staff
from grader.storage.models import ApiKey, Enrollment, LtiLink, LtiRegistration
from tests.lti_platform import CLIENT_ID, INSTRUCTOR, LIS, follow_launch
from tests.lti_support import deliver, submit_right_answer

TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"


def launch(lti, **options):
    return follow_launch(requests.Session(), lti["platform"].start_url(**options))[0]


def registration_id(lti):
    return requests.get(f"{lti['tool']}/api/v1/lti/registrations", headers=lti["admin"],
                        timeout=5).json()["registrations"][0]["id"]


def test_registering_the_same_issuer_and_client_again_answers_409(lti):
    again = requests.post(f"{lti['tool']}/api/v1/lti/registrations", json=lti["platform"].registration_body(),
                          headers=lti["admin"], timeout=5)
    assert again.status_code == 409 and again.headers["Content-Type"] == "application/problem+json"
    assert "registered already" in again.json()["detail"]


def test_a_second_deployment_is_refused_until_added_and_again_after_removal(lti):
    assert launch(lti, exercise="linear-bptt", deployment="dep-2").status_code == 403
    number = registration_id(lti)
    added = requests.post(f"{lti['tool']}/api/v1/lti/registrations/{number}/deployments",
                          json={"deployment_id": "dep-2"}, headers=lti["admin"], timeout=5)
    assert added.status_code == 200 and added.json()["deployment_ids"] == ["dep-1", "dep-2"]
    assert launch(lti, exercise="linear-bptt", deployment="dep-2").status_code == 200
    removed = requests.delete(f"{lti['tool']}/api/v1/lti/registrations/{number}/deployments/dep-2",
                              headers=lti["admin"], timeout=5)
    assert removed.status_code == 200 and removed.json()["deployment_ids"] == ["dep-1"]
    assert launch(lti, exercise="linear-bptt", deployment="dep-2").status_code == 403


def test_a_registration_changes_its_endpoints_but_not_its_identity(lti):
    number = registration_id(lti)
    url = f"{lti['tool']}/api/v1/lti/registrations/{number}"
    changed = requests.patch(url, json={"auth_token_url": "https://lms.example/token"}, headers=lti["admin"], timeout=5)
    assert changed.status_code == 200 and changed.json()["auth_token_url"] == "https://lms.example/token"
    refused = requests.patch(url, json={"issuer": "https://elsewhere"}, headers=lti["admin"], timeout=5)
    assert refused.status_code == 422 and "issuer" in refused.json()["errors"]


CLI_REGISTER = ["lti-register", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
                "--login-url", "https://moodle.example.edu/mod/lti/auth.php",
                "--token-url", "https://moodle.example.edu/mod/lti/token.php",
                "--jwks-url", "https://moodle.example.edu/mod/lti/certs.php"]


def test_the_cli_registers_again_as_an_update_and_manages_deployments(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=[*CLI_REGISTER, "--deployment", "3"])
    second = runner.invoke(args=[*CLI_REGISTER, "--deployment", "7"])
    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "updated https://moodle.example.edu" in second.output and "3, 7" in second.output
    changed = runner.invoke(args=["lti-deployments", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
                                  "--add", "9", "--remove", "3"])
    assert changed.exit_code == 0 and "deployments: 7, 9" in changed.output
    with app.app_context():
        (row,) = storage.session(app).scalars(select(LtiRegistration)).all()
        assert row.deployment_ids == ["7", "9"]
    missing = runner.invoke(args=["lti-deployments", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
                                  "--remove", "3"])
    assert missing.exit_code != 0 and "no deployment '3'" in missing.output


def test_a_login_whose_target_is_not_this_tools_launch_url_is_refused(lti):
    response = requests.get(f"{lti['tool']}/lti/login", allow_redirects=False, timeout=5, params={
        "iss": lti["platform"].url, "login_hint": "u-1", "lti_message_hint": "x", "client_id": CLIENT_ID,
        "target_link_uri": "https://evil.example/lti/launch"})
    assert response.status_code == 400 and "target_link_uri" in response.text


def test_an_id_token_whose_target_is_not_this_tools_launch_url_is_refused(lti):
    response = launch(lti, exercise="linear-bptt", target="https://evil.example/lti/launch")
    assert response.status_code == 403 and "target_link_uri" in response.text


@pytest.mark.parametrize("aud, azp, status", [
    (["other-tool", CLIENT_ID], CLIENT_ID, 200),
    ([CLIENT_ID, "other-tool"], None, 403),
    ([CLIENT_ID], "other-tool", 403),
    ([CLIENT_ID, "other-tool"], "other-tool", 403),
], ids=["azp-names-the-client-second-audience", "several-audiences-no-azp", "azp-not-an-audience",
        "azp-another-client"])
def test_audiences_and_azp_as_openid_connect_says(lti, aud, azp, status):
    response = launch(lti, exercise="linear-bptt", user="stu-aud", aud=aud, azp=azp)
    assert response.status_code == status, response.text
    if status == 200:
        with lti["app"].app_context():
            (link,) = storage.session(lti["app"]).scalars(select(LtiLink)).all()
            assert link.client_id == CLIENT_ID


@pytest.mark.parametrize("roles, staff", [
    ([LIS + "Learner"], False),
    ([LIS + "Instructor"], True),
    (["Instructor"], True),
    ([TA], True),
    ([LIS + "ContentDeveloper"], True),
    ([LIS + "Administrator"], True),
    ([INSTITUTION_ADMIN], True),
    ([LIS + "Learner", INSTITUTION_ADMIN], False),
    ([LIS + "Mentor"], False),
    ([], False),
], ids=["learner", "instructor", "simple-name", "teaching-assistant", "content-developer", "context-admin",
        "institution-admin", "learner-who-is-an-institution-admin", "mentor", "no-roles"])
def test_staff_roles(roles, staff):
    assert is_staff(roles) is staff


@pytest.mark.parametrize("roles", [INSTRUCTOR, [TA], [INSTITUTION_ADMIN]], ids=["instructor", "ta", "admin"])
def test_staff_land_on_the_course_pages_not_enrolled_and_nothing_passed_back(lti, roles):
    learner = requests.Session()
    follow_launch(learner, lti["platform"].start_url(exercise="linear-bptt", user="stu-1"))
    submit_right_answer(learner, lti["tool"])
    teacher = requests.Session()
    landed, _ = follow_launch(teacher, lti["platform"].start_url(exercise="linear-bptt", user="prof", roles=roles))
    assert landed.status_code == 200 and "Gradebook: lti-" in landed.text and "stu-1@127.0.0.1" in landed.text
    assert "Your instance" not in landed.text
    course_id = landed.url.rsplit("/", 1)[1]
    passbacks = teacher.get(f"{lti['tool']}/courses/{course_id}/passbacks", timeout=5)
    assert passbacks.status_code == 200 and "stu-1@127.0.0.1" in passbacks.text
    with lti["app"].app_context():
        courses.create_course(storage.session(lti["app"]), id="another-course", title="Another course")
    assert teacher.get(f"{lti['tool']}/courses/another-course", timeout=5).status_code == 403
    deliver(lti["app"])
    with lti["app"].app_context():
        db = storage.session(lti["app"])
        assert db.scalars(select(Enrollment.learner)).all() == ["stu-1@127.0.0.1"]
        assert db.scalars(select(LtiLink.learner)).all() == ["stu-1@127.0.0.1"]
        (key,) = db.scalars(select(ApiKey).where(ApiKey.label.like("lti-instructor:%"))).all()
        assert key.role == "instructor" and key.course_id == course_id
    assert [s["userId"] for s in lti["platform"].scores] == ["stu-1"]


def test_a_learner_cannot_open_the_course_pages(lti):
    session = requests.Session()
    follow_launch(session, lti["platform"].start_url(exercise="linear-bptt", user="stu-2"))
    with lti["app"].app_context():
        course_id = storage.session(lti["app"]).scalar(select(Enrollment.course_id))
    assert session.get(f"{lti['tool']}/courses/{course_id}", timeout=5).status_code == 403
