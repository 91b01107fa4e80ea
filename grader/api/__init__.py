"""The HTTP API v1: flask-smorest blueprints, problem+json errors, the OpenAPI document and its UI."""
from __future__ import annotations

import swagger_ui_bundle
from flask import Blueprint as FlaskBlueprint, send_from_directory
from flask_smorest import Api

from grader import errors
from grader.schemas import ProblemSchema


class ProblemApi(Api):
    """flask-smorest's Api with RFC 9457 problems as the one error shape (documented and sent)."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


def init_app(app) -> None:
    from grader.api import catalog, courses, groups, health, keys, submissions  # blueprints import schemas and service

    api = ProblemApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}})
    for module in (health, catalog, submissions, courses, groups, keys):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    app.register_blueprint(_swagger_static())


def _swagger_static() -> FlaskBlueprint:
    """Serve the pinned Swagger UI files so /api/v1/docs works offline."""
    static = FlaskBlueprint("swagger_static", __name__)
    folder = swagger_ui_bundle.swagger_ui_path

    @static.route("/api/v1/docs/static/<path:filename>")
    def swagger_file(filename):
        return send_from_directory(folder, filename)

    return static
