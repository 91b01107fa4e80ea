"""The tool against a platform written from the IMS specifications (tests/spec_platform.py), not
from the lti1p3platform library: login, a launch whose id_token names two audiences and an azp,
a score through the token endpoint's client-credentials grant, the roster over NRPS, and a deep link."""
import re

import pytest
import requests

from tests.lti_platform import follow_launch
from tests.lti_support import ToolAndPlatform, deliver, passback_rows, submit_answer
from tests.spec_platform import SpecPlatform

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


@pytest.fixture
def spec(app):
    pair = ToolAndPlatform(app, clients=())
    platform = SpecPlatform().start(pair.tool)
    response = requests.post(f"{pair.tool}/api/v1/lti/registrations", json=platform.registration_body(),
                             headers=pair.admin, timeout=5)
    assert response.status_code == 201, response.text
    yield pair, platform
    platform.stop()
    pair.stop()


def test_launch_and_scores_against_a_platform_written_from_the_specification(spec):
    pair, platform = spec
    session = requests.Session()
    landed, _ = follow_launch(session, platform.login_url("spec-stu", exercise="linear-bptt", roles=[LIS + "Learner"],
                                                          aud=["another-tool", platform.client_id],
                                                          azp=platform.client_id))
    assert landed.status_code == 200 and "Your instance" in landed.text, (landed.text, platform.errors)
    submit_answer(session, pair.tool, right=True)
    submit_answer(session, pair.tool, right=False)
    deliver(pair.app)
    assert platform.errors == [] and [s["scoreGiven"] for s in platform.scores] == [1.0, 1.0]
    assert [row.status for row in passback_rows(pair.app)] == ["delivered", "delivered"]
    assert {s["userId"] for s in platform.scores} == {"spec-stu"} and len(platform.used_jti) == 1


def test_roster_and_deep_link_against_a_platform_written_from_the_specification(spec):
    pair, platform = spec
    platform.members = [{"user_id": f"m-{k}", "roles": [LIS + "Learner"], "name": f"Member {k}"} for k in range(5)]
    session = requests.Session()
    landed, _ = follow_launch(session, platform.login_url("spec-prof", exercise="linear-bptt",
                                                          roles=[LIS + "Instructor"]))
    course_id = landed.url.rsplit("/", 1)[1]
    result = pair.app.test_cli_runner().invoke(args=["lti-sync-roster", course_id])
    assert result.exit_code == 0 and "5 learners" in result.output, (result.output, platform.errors)
    picker, _ = follow_launch(session, platform.login_url("spec-prof", deep_link=True, roles=[LIS + "Instructor"]))
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text).group(1)
    answer = session.post(f"{pair.tool}/lti/deep-link", data={"launch_id": launch_id, "exercise_id": "linear-bptt"},
                          timeout=10)
    action = re.search(r'action="([^"]+)"', answer.text).group(1)
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1)
    assert session.post(action, data={"JWT": jwt_value}, timeout=10).text == "content items received"
    (item,) = platform.content_items
    assert item["custom"] == {"exercise_id": "linear-bptt"} and item["url"] == f"{pair.tool}/lti/launch"
