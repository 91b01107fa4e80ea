"""Deployment details: trusted proxies (https URLs behind a proxy), the session cookie's attributes
(Lax by default; SameSite=None, Secure, Partitioned for LMS iframes), one tool key for every replica
with a second key published for rotation, Canvas's redirect URIs, and the deep-linking data claim."""
import re

import pytest
import requests

from grader import auth, create_app, storage
from grader.lti.tool import jwks
from tests.lti_platform import follow_launch, pem_pair


def make_app(tmp_path, name, **config):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / f'{name}.sqlite'}",
                      "SECRET_KEY": "test-secret", **config})
    app.instance_path = str(tmp_path / f"instance-{name}")  # each replica its own folder
    storage.upgrade(app)
    return app


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "grader.example.edu"}


def test_behind_a_trusted_proxy_the_lti_urls_are_https(tmp_path):
    app = make_app(tmp_path, "proxied", PROXY_HOPS=1)
    config = app.test_client().get("/lti/config.json", headers=FORWARDED,
                                   environ_base={"REMOTE_ADDR": "10.0.0.5"}).json
    assert config["oidc_initiation_url"] == "https://grader.example.edu/lti/login"
    assert config["target_link_uri"] == "https://grader.example.edu/lti/launch"


def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(app):
    config = app.test_client().get("/lti/config.json", headers=FORWARDED).json
    assert config["oidc_initiation_url"] == "http://localhost/lti/login"


def log_in_cookie(app) -> str:
    with app.app_context():
        key = auth.create_key(storage.session(app), role="admin").key
    client = app.test_client()
    page = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"api_key": key, "csrf_token": csrf})
    return response.headers["Set-Cookie"]


def test_the_session_cookie_is_samesite_lax_by_default(app):
    cookie = log_in_cookie(app)
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie


def test_embedded_cookies_work_in_an_lms_iframe(tmp_path):
    cookie = log_in_cookie(make_app(tmp_path, "embedded", EMBEDDED_COOKIES=True))
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie


@pytest.mark.parametrize("source", ["text", "file"])
def test_every_replica_publishes_the_configured_key_and_the_rotation_key(tmp_path, source):
    signing, rotation = pem_pair()[0], pem_pair()[1]
    if source == "file":
        (tmp_path / "tool.pem").write_text(signing)
        config = {"LTI_PRIVATE_KEY_FILE": str(tmp_path / "tool.pem")}
    else:
        config = {"LTI_PRIVATE_KEY": signing}
    first = make_app(tmp_path, "replica-1", **config)
    second = make_app(tmp_path, "replica-2", **config, LTI_ROTATION_KEY=rotation)
    one, two = jwks(first)["keys"], jwks(second)["keys"]
    assert len(one) == 1 and len(two) == 2 and one[0]["kid"] == two[0]["kid"] and two[1]["kid"] != two[0]["kid"]
    assert not (tmp_path / "instance-replica-1" / "lti_private.pem").exists()


@pytest.mark.parametrize("data", [None, {"course": "rnn", "step": 2}], ids=["no-data", "data"])
def test_a_deep_linking_response_returns_the_data_claim_only_when_given(lti, data):
    session = requests.Session()
    picker, _ = follow_launch(session, lti["platform"].start_url(deep_link=True, user="teacher-1", dl_data=data))
    launch_id = re.search(r'name="launch_id" value="([^"]+)"', picker.text).group(1)
    answer = session.post(f"{lti['tool']}/lti/deep-link", data={"launch_id": launch_id, "exercise_id": "linear-bptt"},
                          timeout=10)
    action = re.search(r'action="([^"]+)"', answer.text).group(1)
    session.post(action, data={"JWT": re.search(r'name="JWT" value="([^"]+)"', answer.text).group(1)}, timeout=10)
    (claims,) = lti["platform"].deep_link_claims
    claim = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
    assert (claim in claims) is (data is not None) and claims.get(claim) == data
