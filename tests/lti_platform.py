"""A test LTI 1.3 platform on 127.0.0.1, built on the third-party lti1p3platform library: OIDC
authorization, id_token launches (resource link and deep linking), the token endpoint, an AGS score
endpoint with Moodle-style line-item URLs (query string), and the deep-linking return. It can be
told to misbehave (tamper, foreign key id, wrong audience or deployment, expiry, 5xx, stale)."""
from __future__ import annotations

import html
import json
import secrets
import threading

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, redirect, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from werkzeug.serving import make_server

CLIENT_ID, DEPLOYMENT = "grader-tool", "dep-1"
SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"


def pem_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


class Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs):
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs):
        return self._registration


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url):
        return redirect(url)


class Launch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, conf, options):
        super().__init__(None, conf)
        self.options = options

    def get_preflight_response(self):
        return dict(request.args)

    def render_launch_form(self, launch_data, **kwargs):
        token = launch_data["id_token"]
        if self.options.get("tamper"):
            head, body, signature = token.split(".")
            token = ".".join([head, body, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
        if self.options.get("foreign_key"):
            claims = jwt.decode(token, options={"verify_signature": False})
            token = jwt.encode(claims, pem_pair()[0], algorithm="RS256", headers={"kid": "not-a-known-kid"})
        self.options["issued"] = {"id_token": token, "state": launch_data["state"]}
        fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                         for k, v in (("id_token", token), ("state", launch_data["state"])))
        return f'<form method="post" action="{html.escape(launch_data["launch_url"])}">{fields}</form>'


class Platform:
    """Run with start(tool_url); read .scores and .deep_links; script .score_statuses."""

    def __init__(self):
        self.private, self.public = pem_pair()
        self.scores, self.score_statuses, self.deep_links, self.pending = [], [], [], {}
        self.app = Flask("test-platform")
        self._routes()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self, tool_url):
        self.tool_url = tool_url
        registration = (Registration().set_iss(self.url).set_client_id(CLIENT_ID).set_deployment_id(DEPLOYMENT)
                        .set_oidc_login_url(f"{tool_url}/lti/login").set_launch_url(f"{tool_url}/lti/launch")
                        .set_deeplink_launch_url(f"{tool_url}/lti/launch").set_platform_private_key(self.private)
                        .set_platform_public_key(self.public)
                        .set_tool_key_set(requests.get(f"{tool_url}/lti/jwks", timeout=5).json()))
        self.conf = Conf(registration=registration)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()

    def registration_body(self):
        return {"issuer": self.url, "client_id": CLIENT_ID, "auth_login_url": f"{self.url}/authorize",
                "auth_token_url": f"{self.url}/token", "key_set_url": f"{self.url}/jwks",
                "deployment_ids": [DEPLOYMENT]}

    def start_url(self, **options):
        hint = secrets.token_hex(8)
        self.pending[hint] = options
        return f"{self.url}/start?hint={hint}"

    def _routes(self):
        app = self.app

        @app.get("/start")
        def start():
            options = self.pending[request.args["hint"]]
            login = Login(None, self.conf)
            login.set_lti_message_hint(hint=request.args["hint"])
            return login.initiate_login(options.get("user", "u-1"))

        @app.get("/authorize")
        def authorize():
            options = self.pending[request.args["lti_message_hint"]]
            launch = Launch(self.conf, options)
            launch.set_user_data(request.args["login_hint"], ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
                                 full_name="Test Learner")
            launch.set_launch_context_claim("course-42", context_title="Recurrent networks")
            if options.get("deep_link"):
                launch.set_dl(f"{self.url}/deep-link-return", title="Pick an exercise")
            else:
                launch.set_resource_link_claim(f"link-{options['exercise']}")
                launch.set_custom_parameters_claim({"exercise_id": options["exercise"]})
                scopes = options.get("scores", True)
                launch.set_ags(f"{self.url}/lineitems?type_id=1", f"{self.url}/lineitems/7/lineitem?type_id=1",
                               scores_service_enabled=scopes)
            if options.get("expired"):
                launch.set_id_token_expiration(-120)
            if options.get("audience"):
                launch.set_extra_claims({"aud": options["audience"], "azp": options["audience"]})
            if options.get("deployment"):
                launch.set_extra_claims({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": options["deployment"]})
            return launch.lti_launch()

        @app.get("/jwks")
        def platform_jwks():
            return jsonify(self.conf.get_jwks())

        @app.post("/token")
        def token():
            return jsonify(self.conf.get_access_token(dict(request.form)))

        @app.post("/lineitems/<int:number>/lineitem/scores")
        def scores(number):
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not self.conf.validate_token(bearer, allowed_scopes=[SCORE]):
                return jsonify({"error": "the token has no score scope"}), 403
            if request.args.get("type_id") != "1":
                return jsonify({"error": "lost the query string of the line item URL"}), 404
            if self.score_statuses:
                status = self.score_statuses.pop(0)
                return jsonify({"error": "timestamp is stale" if status in (400, 409) else "try later"}), status
            self.scores.append({"lineitem": number, **json.loads(request.data)})
            return jsonify({}), 200

        @app.post("/deep-link-return")
        def deep_link_return():
            self.deep_links.append(self.conf.validate_deeplinking_resp(dict(request.form)))
            return "content items received"


def follow_launch(session: requests.Session, start_url: str):
    """Play the browser: platform start → tool login → platform authorize → POST the form to the tool."""
    page = session.get(start_url, timeout=10)
    page.raise_for_status()
    import re
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    return session.post(html.unescape(action), data=fields, timeout=10), fields
