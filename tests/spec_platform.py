"""A second test platform, written from the IMS specifications rather than from a library, so the
tool is not only tested against lti1p3platform: LTI 1.3 Core (OIDC third-party login, id_token
claims), Security Framework 1.0 (authorization endpoint checks, JWT client assertions at the token
endpoint, opaque bearer tokens), AGS 2.0 scores, NRPS 2.0 memberships with paging, and the Deep
Linking 2.0 response. Every check it makes is one the specification asks of a platform."""
from __future__ import annotations

import html
import secrets
import threading
import time
import uuid
from datetime import datetime
from urllib.parse import urlencode

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, abort, jsonify, request
from jwt import PyJWK
from jwt.algorithms import RSAAlgorithm
from werkzeug.serving import make_server

from tests.lti_platform import pem_pair

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class SpecPlatform:
    """One client registered with one deployment; .scores, .members, .content_items, .errors."""

    def __init__(self, client_id="spec-client", deployment_id="spec-dep"):
        self.client_id, self.deployment_id = client_id, deployment_id
        self.private, public = pem_pair()
        self.kid = uuid.uuid4().hex
        public_key = serialization.load_pem_public_key(public.encode())
        self.public_jwk = {**RSAAlgorithm.to_jwk(public_key, as_dict=True), "kid": self.kid, "alg": "RS256",
                           "use": "sig"}
        self.scores, self.members, self.content_items, self.errors = [], [], [], []
        self.logins, self.tokens, self.used_jti, self.latest = {}, {}, set(), {}
        self.app = Flask("spec-platform")
        self._routes()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self, tool_url):
        self.tool_url = tool_url
        self.redirect_uris = [f"{tool_url}/lti/launch"]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()

    def registration_body(self):
        return {"issuer": self.url, "client_id": self.client_id, "auth_login_url": f"{self.url}/auth",
                "auth_token_url": f"{self.url}/token", "key_set_url": f"{self.url}/jwks",
                "deployment_ids": [self.deployment_id]}

    def login_url(self, user, **message):
        """Core 4.1: the third-party initiated login request the platform sends the browser to."""
        hint = secrets.token_hex(8)
        self.logins[hint] = {"user": user, **message}
        return f"{self.tool_url}/lti/login?" + urlencode({
            "iss": self.url, "login_hint": user, "target_link_uri": f"{self.tool_url}/lti/launch",
            "lti_message_hint": hint, "client_id": self.client_id, "lti_deployment_id": self.deployment_id})

    def _refuse(self, why, status=400):
        self.errors.append(why)
        response = jsonify({"error": why})
        response.status_code = status
        abort(response)

    def _id_token(self, params, message):
        """Core 5.1-5.4 and Security 5.1.2: the required claims, signed with a kid from our JWKS."""
        now = int(time.time())
        claims = {"iss": self.url, "sub": message["user"], "aud": message.get("aud", self.client_id),
                  "exp": now + 300, "iat": now, "nonce": params["nonce"],
                  LTI + "deployment_id": self.deployment_id, LTI + "version": "1.3.0",
                  LTI + "target_link_uri": params["redirect_uri"], LTI + "roles": message["roles"],
                  LTI + "context": {"id": "spec-course", "title": "Spec course"}, "name": message.get("name")}
        if message.get("azp"):
            claims["azp"] = message["azp"]
        if message.get("deep_link"):
            claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = {
                "deep_link_return_url": f"{self.url}/deep-link-return", "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"]}
        else:
            claims[LTI + "message_type"] = "LtiResourceLinkRequest"
            claims[LTI + "resource_link"] = {"id": message.get("link", "spec-link")}
            claims[LTI + "custom"] = {"exercise_id": message["exercise"]}
            claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = {
                "scope": [SCORE_SCOPE], "lineitems": f"{self.url}/lineitems",
                "lineitem": f"{self.url}/lineitems/1"}
        claims["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"] = {
            "context_memberships_url": f"{self.url}/memberships", "service_versions": ["2.0"]}
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})

    def _tool_claims(self, token, audience):
        """Verify a JWT the tool signed against the tool's published JWKS (Security 6)."""
        keys = requests.get(f"{self.tool_url}/lti/jwks", timeout=5).json()["keys"]
        kid = jwt.get_unverified_header(token).get("kid")
        match = [k for k in keys if k.get("kid") == kid]
        if not match:
            self._refuse(f"no tool key with kid {kid}")
        return jwt.decode(token, PyJWK(match[0]).key, algorithms=["RS256"], audience=audience)

    def _bearer(self, scope):
        token = self.tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if token is None or token["expires"] < time.time():
            self._refuse("invalid_token", 401)
        if scope not in token["scopes"]:
            self._refuse("insufficient_scope", 403)

    def _routes(self):
        app = self.app

        @app.get("/jwks")
        def keys():
            return jsonify({"keys": [self.public_jwk]})

        @app.route("/auth", methods=["GET", "POST"])
        def auth():
            params = request.values
            expected = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                        "prompt": "none", "client_id": self.client_id}
            wrong = [k for k, v in expected.items() if params.get(k) != v]
            if wrong or params.get("redirect_uri") not in self.redirect_uris or not params.get("nonce"):
                self._refuse(f"authentication request: {wrong or 'redirect_uri or nonce'}")
            message = self.logins.pop(params.get("lti_message_hint"), None)
            if message is None or params.get("login_hint") != message["user"]:
                self._refuse("login_hint or lti_message_hint does not match the login")
            fields = {"id_token": self._id_token(params, message), "state": params.get("state", "")}
            inputs = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items())
            return f'<form method="post" action="{html.escape(params["redirect_uri"])}">{inputs}</form>'

        @app.post("/token")
        def token():
            form = request.form
            if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
                self._refuse("unsupported_grant_type")
            claims = self._tool_claims(form["client_assertion"], audience=f"{self.url}/token")
            if claims["iss"] != self.client_id or claims["sub"] != self.client_id or claims["jti"] in self.used_jti:
                self._refuse("invalid_client")
            self.used_jti.add(claims["jti"])
            value = secrets.token_urlsafe(24)
            granted = [s for s in form.get("scope", "").split() if s in (SCORE_SCOPE, NRPS_SCOPE)]
            self.tokens[value] = {"scopes": granted, "expires": time.time() + 3600}
            return jsonify({"access_token": value, "token_type": "Bearer", "expires_in": 3600,
                            "scope": " ".join(granted)})

        @app.post("/lineitems/<int:number>/scores")
        def scores(number):
            """AGS 2.0 3.4: a score publish; an update older than the stored one must not apply."""
            self._bearer(SCORE_SCOPE)
            if request.mimetype != SCORE_TYPE:
                self._refuse(f"Content-Type {request.mimetype}", 415)
            score = request.get_json(force=True)
            missing = [f for f in ("userId", "timestamp", "activityProgress", "gradingProgress") if f not in score]
            if missing or ("scoreGiven" in score and "scoreMaximum" not in score):
                self._refuse(f"score without {missing or 'scoreMaximum'}")
            stamp, key = datetime.fromisoformat(score["timestamp"]), (number, score["userId"])
            if stamp.tzinfo is None:
                self._refuse("timestamp without an offset")
            if key in self.latest and stamp <= self.latest[key]:
                self._refuse("timestamp is not newer than the stored score", 409)
            self.latest[key] = stamp
            self.scores.append({"lineitem": number, **score})
            return "", 204

        @app.get("/memberships")
        def memberships():
            """NRPS 2.0: the container, two members a page, the next page in a Link header."""
            self._bearer(NRPS_SCOPE)
            if MEMBERSHIP_TYPE not in request.headers.get("Accept", ""):
                self._refuse("Accept must name the membership container", 406)
            page = int(request.args.get("page", 0))
            body = {"id": request.url, "context": {"id": "spec-course"}, "members": self.members[2 * page:2 * page + 2]}
            headers = {"Content-Type": MEMBERSHIP_TYPE}
            if 2 * page + 2 < len(self.members):
                headers["Link"] = f'<{self.url}/memberships?page={page + 1}>; rel="next"'
            return jsonify(body), 200, headers

        @app.post("/deep-link-return")
        def deep_link_return():
            """Deep Linking 2.0 4.4: the tool's signed response, with the request's deployment."""
            claims = self._tool_claims(request.form["JWT"], audience=self.url)
            if claims["iss"] != self.client_id or claims.get(LTI + "deployment_id") != self.deployment_id or \
                    claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
                self._refuse("not a deep linking response for this deployment")
            self.content_items.extend(claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"])
            return "content items received"
