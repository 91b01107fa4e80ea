"""One error shape: RFC 9457 problem+json for domain errors, Werkzeug's errors and crashes."""
from __future__ import annotations

import logging

from flask import current_app, json, request
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as TimeoutError_
from werkzeug.exceptions import HTTPException

from grader.problems import GraderError

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank", errors=None, headers=None):
    """Render one problem document as a Flask response tuple."""
    body = document(status, title, detail, type_=type_, errors=errors, instance=request.path)
    return current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON,
                                      headers=headers or {})


def document(status: int, title: str, detail: str, *, type_: str, errors, instance: str) -> dict:
    """The RFC 9457 problem document."""
    body = {"type": type_, "title": title, "status": status, "detail": detail, "instance": instance}
    if errors is not None:
        body["errors"] = errors
    return body


def grader_error_document(error: GraderError, type_base: str, instance: str) -> dict:
    return document(error.status, error.title, error.detail, type_=type_base + error.slug, errors=error.errors,
                    instance=instance)


def handle_grader_error(error: GraderError):
    body = grader_error_document(error, current_app.config["PROBLEM_TYPE_BASE"], request.path)
    return current_app.response_class(json.dumps(body), status=error.status, mimetype=PROBLEM_JSON,
                                      headers=error.headers)


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


def handle_storage_unavailable(error: SQLAlchemyError):
    """Storage that cannot take the request now (a full disk, a lost or refused connection, a busy
    database): 503 with Retry-After, nothing half-stored (the session is rolled back at teardown)."""
    logger.warning("storage unavailable on %s %s: %s", request.method, request.path, type(error.orig).__name__
                   if isinstance(error, DBAPIError) else type(error).__name__)
    return problem(503, "Storage unavailable", "The database cannot take this request now (full, unreachable or "
                   "busy); nothing was stored. Try again shortly.",
                   type_=current_app.config["PROBLEM_TYPE_BASE"] + "storage-unavailable", headers={"Retry-After": "5"})


def handle_unexpected(error: Exception):
    """A bug: log the traceback, answer a generic 500 that leaks nothing."""
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, "Internal Server Error", "The service failed; the error was logged.")


def init_app(app) -> None:
    app.register_error_handler(GraderError, handle_grader_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    for storage_error in (OperationalError, InterfaceError, DisconnectionError, TimeoutError_):
        app.register_error_handler(storage_error, handle_storage_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
