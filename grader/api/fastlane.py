"""The numeric submission's lean path: POST /api/v1/submissions with a numeric answer, answered
straight from WSGI.

Flask's dispatch around that one request (request and app contexts, before- and after-request
hooks, flask-smorest's and webargs' wrappers, marshmallow's schema load) cost several times the
grading itself (bench/profile_numeric.py). This lane runs what the API view runs, with the same
functions: the guards' conditions, the key check (auth.principal_for and the key cache), the
strict JSON parser, the request schema's own fields, the use case (service.submit), the request id
and the request counter. It answers the request only when all of them pass, or when the use case
refuses it or fails, answered with errors.py's outcome (so the use case never runs twice).

Anything else falls through to the Flask app untouched (the body is handed back as it was read):
another route or method, a query string, a chunked or oversized body, another content type, a
missing or bad key, a body that is not JSON or fails the schema, a code submission. Flask answers
those exactly as before, so every refusal keeps its one shape; nothing is stored before them.

GRADER_NUMERIC_FAST_LANE=false turns the lane off; tests/test_fastlane.py sends the same requests to
an app with it and one without and compares the answers.
"""
from __future__ import annotations

import io

from marshmallow import ValidationError
from werkzeug.http import HTTP_STATUS_CODES, parse_options_header

from grader import auth, errors, keycache, logs, metrics, service, storage
from grader.api.base import loads_strict
from grader.guards import ESCAPED_NUL
from grader.schemas import SubmissionRequestSchema

ROUTE = "/api/v1/submissions"
URL_ENVIRON = ("HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme", "SCRIPT_NAME", "HTTP_CONNECTION",
               "HTTP_UPGRADE")  # what MapAdapter.build reads of an environ


class FallThrough(Exception):
    """This request is the Flask app's to answer."""


class NumericFastLane:
    """WSGI middleware in front of the Flask app's own WSGI callable."""

    def __init__(self, app, wsgi_app):
        self.app, self.next = app, wsgi_app
        self.fields = SubmissionRequestSchema().fields
        self.prefixes: dict[tuple, str] = {}  # _location_prefix's, per host, scheme and script name

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != ROUTE or environ.get("REQUEST_METHOD") != "POST" \
                or environ.get("QUERY_STRING") or not self.app.config["NUMERIC_FAST_LANE"]:
            return self.next(environ, start_response)
        body = _read_body(environ, self.app.config["MAX_CONTENT_LENGTH"])
        if body is None:
            return self.next(environ, start_response)
        request_id = logs.request_id_for(environ.get("HTTP_X_REQUEST_ID", ""))
        token = logs.OUTSIDE_FLASK.set(request_id)
        db = storage.LazySession(self.app.extensions[storage.EXTENSION])
        try:
            status, headers, payload = self._answer(db, environ, body)
        except FallThrough:
            db.rollback()
            environ["wsgi.input"] = io.BytesIO(body)
            return self.next(environ, start_response)
        finally:
            db.close()
            logs.OUTSIDE_FLASK.reset(token)
        metrics.count(ROUTE, "POST", status)
        headers += [("Content-Length", str(len(payload))), ("X-Request-ID", request_id)]
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
        return [payload]

    def _answer(self, db, environ, body: bytes):
        """(status, headers, body), or FallThrough."""
        config = self.app.config
        if not config["AUTH_REQUIRED"] or ESCAPED_NUL in body:
            raise FallThrough
        mimetype, _ = parse_options_header(environ.get("CONTENT_TYPE", ""))
        idempotency_key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if mimetype != "application/json" or (idempotency_key is not None and not 1 <= len(idempotency_key) <= 200):
            raise FallThrough
        try:
            principal = auth.principal_for(db, self.app.extensions[keycache.EXTENSION],
                                           environ.get("HTTP_AUTHORIZATION", ""))
            request = self._load(loads_strict(body))
        except Exception:  # a refused key, a body Flask refuses, storage failing: nothing is stored yet
            raise FallThrough from None
        if principal.role not in self.app.view_functions["submissions.submit"].required_roles:
            raise FallThrough
        try:
            report, replayed = service.submit(db, self.app.extensions["grader.context"], principal, request,
                                              idempotency_key)
        except Exception as error:  # answered here, as errors.py answers it: the use case never runs twice
            status, document, extra = errors.outcome(error, config["PROBLEM_TYPE_BASE"], "POST", ROUTE)
            payload = self.app.json.dumps(document).encode()
            return status, [("Content-Type", errors.PROBLEM_JSON), *extra.items()], payload
        location = self._location_prefix(environ) + report["id"]  # a hex id: nothing in it to quote
        headers = [("Content-Type", "application/json"), ("Location", location)]
        if replayed:
            headers.append(("Idempotent-Replayed", "true"))
        return 201, headers, self.app.json.dumps(report).encode()  # as the view: sorted keys, ASCII

    def _location_prefix(self, environ) -> str:
        """A submission's URL as url_for builds it, less the id, for the request's host, scheme and
        script name (the only parts of its environ that a URL is built from); kept per lane for up to
        64 of them (Host is the client's to choose)."""
        key = (*(environ.get(name) for name in URL_ENVIRON), self.app.config["SERVER_NAME"])
        prefix = self.prefixes.get(key)
        if prefix is None:
            url_environ = {name: environ[name] for name in URL_ENVIRON if name in environ}
            adapter = self.app.url_map.bind_to_environ({**url_environ, "PATH_INFO": ROUTE, "REQUEST_METHOD": "POST"},
                                                       server_name=key[-1])
            prefix = adapter.build("submissions.get_submission", {"submission_id": "0"})[:-1]
            if len(self.prefixes) >= 64:
                self.prefixes.clear()
            self.prefixes[key] = prefix
        return prefix

    def _load(self, request) -> dict:
        """What SubmissionRequestSchema().load returns, for a numeric submission with known fields.
        The answer is a JSON object (string keys, any values), which its field keeps as it is."""
        if not isinstance(request, dict) or request.get("kind") != "numeric" or not request.keys() <= self.fields.keys() \
                or not isinstance(request.get("answer"), dict):
            raise ValidationError("not for this lane")
        return {name: value if name == "answer" else self.fields[name].deserialize(value)
                for name, value in request.items()}


def _read_body(environ, cap: int | None) -> bytes | None:
    """The whole body when its length is given and within the cap (else None: Flask reads it itself;
    a body cut short is handed back as it came, for Flask to refuse)."""
    length = environ.get("CONTENT_LENGTH", "")
    if not (length.isascii() and length.isdigit()) or (cap is not None and int(length) > cap) \
            or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    body = environ["wsgi.input"].read(int(length))
    if len(body) != int(length):
        environ["wsgi.input"] = io.BytesIO(body)
        return None
    return body


def init_app(app) -> None:
    app.wsgi_app = NumericFastLane(app, app.wsgi_app)
