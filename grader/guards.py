"""Checks every request passes before any view parses it: a body cap that holds for chunked bodies
too, no NUL character anywhere (PostgreSQL refuses it in text; no identifier, title or answer needs
it), and the API key checked before the body is parsed and validated."""
from __future__ import annotations

import io

from flask import current_app, g, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from grader import auth

ESCAPED_NUL = b"\\u0000"


def init_app(app) -> None:
    app.before_request(check_request)


def check_request():
    _cap_chunked_body()
    if "\x00" in request.path or b"%00" in request.query_string or b"\x00" in request.query_string:
        raise BadRequest("The path or query string contains a NUL character.")
    roles = _roles_of_endpoint()
    if roles and current_app.config["AUTH_REQUIRED"]:
        g.principal = auth.authenticate()  # 401 before the body is read; require() reuses it
    if request.mimetype == "application/json" and ESCAPED_NUL in request.get_data(cache=True):
        raise BadRequest("The body contains a NUL character (\\u0000), which no field accepts.")


def _roles_of_endpoint():
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "required_roles", None)


def _cap_chunked_body() -> None:
    """Werkzeug cuts a chunked body at MAX_CONTENT_LENGTH silently (then 'not valid JSON'): read it
    here, answer 413 past the cap, and hand the view the body with its length."""
    environ = request.environ
    if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return
    cap = current_app.config["MAX_CONTENT_LENGTH"]
    data = environ["wsgi.input"].read(cap + 1)
    if len(data) > cap:
        raise RequestEntityTooLarge(f"The body is larger than {cap} bytes.")
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)
