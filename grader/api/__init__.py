"""The HTTP API v1: flask-smorest blueprints, problem+json errors, the OpenAPI document and its UI."""
from __future__ import annotations

import http

import swagger_ui_bundle
from flask import Blueprint as FlaskBlueprint, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from grader import errors
from grader.schemas import ProblemSchema


class ProblemApi(Api):
    """flask-smorest's Api with RFC 9457 problems as the one error shape (documented and sent)."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)

    def _register_responses(self):
        """flask-smorest's error responses, documented with the content type they are sent with."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, errors.PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An RFC 9457 problem document", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, errors.PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_app(app) -> None:
    from grader.api import catalog, courses, groups, health, keys, submissions  # blueprints import schemas and service
    from grader.lti import api as lti_api

    api = ProblemApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}})
    for module in (health, catalog, submissions, courses, groups, keys, lti_api):
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
