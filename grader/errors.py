"""One error shape: RFC 9457 problem+json for domain errors, Werkzeug's errors and crashes."""
from __future__ import annotations

import logging

from flask import current_app, json, request
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as TimeoutError_
from werkzeug.exceptions import HTTPException

from grader.problems import GraderError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


STORAGE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, TimeoutError_)


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank", errors=None, headers=None):
    """Render one problem document as a Flask response tuple."""
    return _response(status, document(status, title, detail, type_=type_, errors=errors, instance=request.path),
                     headers or {})


def _response(status: int, body: dict, headers: dict):
    return current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON, headers=headers)


def document(status: int, title: str, detail: str, *, type_: str, errors, instance: str) -> dict:
    """The RFC 9457 problem document."""
    body = {"type": type_, "title": title, "status": status, "detail": detail, "instance": instance}
    if errors is not None:
        body["errors"] = errors
    return body


def outcome(error: Exception, type_base: str, method: str, path: str) -> tuple[int, dict, dict]:
    """(status, problem document, headers) for an error a use case raised: a refusal (GraderError);
    storage that cannot take the request now (a full disk, a lost or refused connection, a busy
    database): 503 with Retry-After, nothing half-stored; or a bug: logged, a generic 500 that leaks
    nothing. The Flask handlers below and grader.api.fastlane answer with it."""
    if isinstance(error, GraderError):
        return error.status, document(error.status, error.title, error.detail, type_=type_base + error.slug,
                                      errors=error.errors, instance=path), error.headers
    if isinstance(error, STORAGE_UNAVAILABLE):
        logger.warning("storage unavailable on %s %s: %s", method, path, type(error.orig).__name__
                       if isinstance(error, DBAPIError) else type(error).__name__)
        return 503, document(503, "Storage unavailable", "The database cannot take this request now (full, "
                             "unreachable or busy); nothing was stored. Try again shortly.",
                             type_=type_base + "storage-unavailable", errors=None, instance=path), {"Retry-After": "5"}
    logger.error("unhandled error on %s %s", method, path, exc_info=error)
    return 500, document(500, "Internal Server Error", "The service failed; the error was logged.",
                         type_="about:blank", errors=None, instance=path), {}


def _answer(error: Exception):
    return _response(*outcome(error, current_app.config["PROBLEM_TYPE_BASE"], request.method, request.path))


def handle_http_exception(error: HTTPException):
    """Werkzeug's errors (and webargs' aborts, which carry validation messages in error.data)."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if isinstance(errors, dict) and set(errors) == {"json"}:
        errors = errors["json"]  # webargs nests body errors under the location name
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    headers.update(data.get("headers") or {})
    if isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        detail = " ".join(errors)
    elif errors:
        detail = "The request failed validation; see errors for each field."
    else:
        detail = data.get("message") or error.description or error.name
    return problem(error.code or 500, error.name, detail, errors=errors, headers=headers)


def init_app(app) -> None:
    app.register_error_handler(GraderError, _answer)
    app.register_error_handler(HTTPException, handle_http_exception)
    for storage_error in STORAGE_UNAVAILABLE:
        app.register_error_handler(storage_error, _answer)
    app.register_error_handler(Exception, _answer)
