"""A test LTI 1.3 platform on 127.0.0.1, built on the third-party lti1p3platform library: OIDC
authorization, id_token launches (resource link and deep linking), the token endpoint, AGS score
endpoints with Moodle-style line-item URLs (query string), an NRPS memberships endpoint, and the
deep-linking return. Several clients (developer keys) may share its issuer, as on hosted Canvas;
its access tokens belong to the client that asked for them and can be revoked. It keeps what an LMS
shows (the newest score per line item and user; an older timestamp is refused with 409, as Moodle
does) and can be told to misbehave (tamper, foreign key id, wrong audience or deployment, expiry,
wrong target_link_uri, scripted HTTP answers)."""
from __future__ import annotations

import html
import json
import re
import secrets
import threading
from datetime import datetime

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
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER, INSTRUCTOR = [LIS + "Learner"], [LIS + "Instructor"]


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
    def __init__(self, conf, options, private_key):
        super().__init__(None, conf)
        self.options, self.private_key = options, private_key

    def get_preflight_response(self):
        return dict(request.args)

    def render_launch_form(self, launch_data, **kwargs):
        token = launch_data["id_token"]
        if self.options.get("tamper"):
            head, body, signature = token.split(".")
            token = ".".join([head, body, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
        if "aud" in self.options:  # re-signed with the platform's own key: audiences and azp as told
            claims = jwt.decode(token, options={"verify_signature": False})
            claims["aud"] = self.options["aud"]
            claims.pop("azp")
            if self.options.get("azp"):
                claims["azp"] = self.options["azp"]
            token = jwt.encode(claims, self.private_key, algorithm="RS256", headers=jwt.get_unverified_header(token))
        if self.options.get("foreign_key"):
            claims = jwt.decode(token, options={"verify_signature": False})
            token = jwt.encode(claims, pem_pair()[0], algorithm="RS256", headers={"kid": "not-a-known-kid"})
        self.options["issued"] = {"id_token": token, "state": launch_data["state"]}
        fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
                         for k, v in (("id_token", token), ("state", launch_data["state"])))
        return f'<form method="post" action="{html.escape(launch_data["launch_url"])}">{fields}</form>'


class Platform:
    """Run with start(tool_url); read .scores, .shown, .deep_links; script .score_statuses."""

    def __init__(self, clients=(CLIENT_ID,)):
        self.private, self.public = pem_pair()
        self.clients = list(clients)
        self.scores, self.score_statuses, self.deep_links, self.deep_link_claims = [], [], [], []
        self.pending, self.shown, self.token_requests, self.revoked = {}, {}, [], set()
        self.lineitem_owner = {}  # line item number -> the client whose links own it
        self.members, self.lineitems = [], []  # line items the tool created
        self.app = Flask("test-platform")
        self._routes()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self, tool_url):
        self.tool_url = tool_url
        tool_keys = requests.get(f"{tool_url}/lti/jwks", timeout=5).json()
        self.confs = {client: Conf(registration=(
            Registration().set_iss(self.url).set_client_id(client).set_deployment_id(DEPLOYMENT)
            .set_oidc_login_url(f"{tool_url}/lti/login").set_launch_url(f"{tool_url}/lti/launch")
            .set_deeplink_launch_url(f"{tool_url}/lti/launch").set_platform_private_key(self.private)
            .set_platform_public_key(self.public).set_tool_key_set(tool_keys))) for client in self.clients}
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def conf(self):
        return self.confs[self.clients[0]]

    def stop(self):
        self.server.shutdown()

    def registration_body(self, client=CLIENT_ID):
        return {"issuer": self.url, "client_id": client, "auth_login_url": f"{self.url}/authorize",
                "auth_token_url": f"{self.url}/token", "key_set_url": f"{self.url}/jwks",
                "deployment_ids": [DEPLOYMENT]}

    def start_url(self, **options):
        hint = secrets.token_hex(8)
        self.pending[hint] = options
        return f"{self.url}/start?hint={hint}"

    def revoke_tokens(self):
        """The platform revokes every access token issued so far (as after a key rotation)."""
        self.revoked |= set(self._issued_tokens)

    def _conf_for(self, options):
        return self.confs[options.get("client", self.clients[0])]

    def _routes(self):
        app = self.app
        self._issued_tokens = {}  # the opaque token handed out -> the library's signed JWT

        @app.get("/start")
        def start():
            options = self.pending[request.args["hint"]]
            login = Login(None, self._conf_for(options))
            login.set_lti_message_hint(hint=request.args["hint"])
            if options.get("login_target"):
                login.set_launch_url(options["login_target"])
            return login.initiate_login(options.get("user", "u-1"))

        @app.get("/authorize")
        def authorize():
            options = self.pending[request.args["lti_message_hint"]]
            launch = Launch(self._conf_for(options), options, self.private)
            launch.set_user_data(request.args["login_hint"], options.get("roles", LEARNER),
                                 full_name=options.get("name", "Test Learner"))
            launch.set_launch_context_claim(options.get("context", "course-42"), context_title="Recurrent networks")
            if options.get("deep_link"):
                launch.set_dl(f"{self.url}/deep-link-return", title="Pick an exercise",
                              extra_data=options.get("dl_data"))
            else:
                launch.set_resource_link_claim(options.get("link", f"link-{options.get('exercise')}"))
                if options.get("exercise"):
                    launch.set_custom_parameters_claim({"exercise_id": options["exercise"]})
                number = options.get("lineitem", 7)  # None: a link without a line item
                self.lineitem_owner.setdefault(number, options.get("client", self.clients[0]))
                launch.set_ags(f"{self.url}/lineitems?type_id=1",
                               number and f"{self.url}/lineitems/{number}/lineitem?type_id=1",
                               scores_service_enabled=options.get("scores", True))
            if options.get("nrps"):
                launch.set_nrps(f"{self.url}/memberships")
            if options.get("expired"):
                launch.set_id_token_expiration(-120)
            if options.get("audience"):
                launch.set_extra_claims({"aud": options["audience"], "azp": options["audience"]})
            if options.get("deployment"):
                launch.set_extra_claims({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": options["deployment"]})
            if options.get("target"):
                launch.set_extra_claims({"https://purl.imsglobal.org/spec/lti/claim/target_link_uri": options["target"]})
            return launch.lti_launch()

        @app.get("/jwks")
        def platform_jwks():
            return jsonify(self.conf.get_jwks())

        @app.post("/token")
        def token():
            client = jwt.decode(request.form["client_assertion"], options={"verify_signature": False})["iss"]
            self.token_requests.append(client)
            answer = self.confs[client].get_access_token(dict(request.form))
            opaque = secrets.token_urlsafe(16)  # two JWTs issued in one second would be the same string
            self._issued_tokens[opaque] = answer["access_token"]
            return jsonify({**answer, "access_token": opaque})

        def bearer(scope):
            """The client a valid, unrevoked token with the scope belongs to, or an error response."""
            opaque = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if opaque in self.revoked or opaque not in self._issued_tokens:
                return None, (jsonify({"error": "invalid_token", "error_description": "revoked"}), 401)
            value = self._issued_tokens[opaque]
            if not self.conf.validate_token(value, allowed_scopes=[scope]):
                return None, (jsonify({"error": "the token lacks the scope"}), 403)
            return jwt.decode(value, options={"verify_signature": False})["sub"], None

        @app.post("/lineitems/<int:number>/lineitem/scores")
        def scores(number):
            client, refused = bearer(SCORE)
            if refused:
                return refused
            if client != self.lineitem_owner.get(number):
                return jsonify({"error": "invalid_token", "error_description": "another client's token"}), 401
            if request.args.get("type_id") != "1":
                return jsonify({"error": "lost the query string of the line item URL"}), 404
            if self.score_statuses:
                status = self.score_statuses.pop(0)
                text = {400: "timestamp is stale", 409: "timestamp is stale", 401: "token expired",
                        403: "the course is concluded; grades are locked"}.get(status, "try later")
                return jsonify({"error": text}), status
            score = json.loads(request.data)
            key, stamp = (number, score["userId"]), datetime.fromisoformat(score["timestamp"])
            if key in self.shown and stamp <= self.shown[key]["at"]:
                return jsonify({"error": "timestamp is not newer than the stored score"}), 409
            self.shown[key] = {"at": stamp, "score": score["scoreGiven"]}
            self.scores.append({"lineitem": number, **score})
            return jsonify({}), 200

        @app.route("/lineitems", methods=["GET", "POST"])
        def lineitems():
            """AGS line-item container: list (with the query string Moodle puts there) or create."""
            client, refused = bearer(LINEITEM)
            if refused:
                return refused
            if request.method == "GET":
                return jsonify([item for item in self.lineitems if item["owner"] == client])
            number = 100 + len(self.lineitems)
            self.lineitem_owner[number] = client
            item = {**json.loads(request.data), "id": f"{self.url}/lineitems/{number}/lineitem?type_id=1",
                    "owner": client}
            self.lineitems.append(item)
            return jsonify(item), 201

        @app.get("/memberships")
        def memberships():
            _, refused = bearer(NRPS)
            if refused:
                return refused
            page = int(request.args.get("page", 0))
            body = {"id": f"{self.url}/memberships", "context": {"id": "course-42"},
                    "members": self.members[page * 2:page * 2 + 2]}
            headers = {}
            if page * 2 + 2 < len(self.members):
                headers["Link"] = f'<{self.url}/memberships?page={page + 1}>; rel="next"'
            return jsonify(body), 200, headers

        @app.post("/deep-link-return")
        def deep_link_return():
            self.deep_link_claims.append(jwt.decode(request.form["JWT"], options={"verify_signature": False}))
            self.deep_links.append(self._conf_for({}).validate_deeplinking_resp(dict(request.form)))
            return "content items received"


def follow_launch(session: requests.Session, start_url: str):
    """Play the browser: platform start → tool login → platform authorize → POST the form to the tool."""
    page = session.get(start_url, timeout=10)
    page.raise_for_status()
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    return session.post(html.unescape(action), data=fields, timeout=10), fields
