"""Admin API for platform registrations and their deployments, and the roster sync of a course."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select

from grader import auth, storage
from grader.lti import registrations, roster
from grader.storage.models import LtiRegistration

bp = Blueprint("lti_api", __name__, url_prefix="/api/v1")


def db():
    return storage.session(current_app)


@bp.route("/lti/registrations", methods=["POST"])
@auth.require("admin")
def register_platform():
    """Register a platform: issuer, client_id, auth_login_url, auth_token_url, key_set_url,
    deployment_ids (and audience). 409 if that issuer and client are registered already."""
    row, _ = registrations.create(db(), request.get_json(silent=True) or {})
    return jsonify(registrations.as_dict(row)), 201


@bp.route("/lti/registrations")
@auth.require("admin")
def list_registrations():
    rows = db().scalars(select(LtiRegistration).order_by(LtiRegistration.id))
    return jsonify({"registrations": [registrations.as_dict(r) for r in rows]})


@bp.route("/lti/registrations/<int:registration_id>", methods=["PATCH"])
@auth.require("admin")
def change_registration(registration_id):
    row = registrations.change(db(), registration_id, request.get_json(silent=True) or {})
    return jsonify(registrations.as_dict(row))


@bp.route("/lti/registrations/<int:registration_id>/deployments", methods=["POST"])
@auth.require("admin")
def add_deployment(registration_id):
    body = request.get_json(silent=True) or {}
    row = registrations.add_deployment(db(), registrations.get(db(), registration_id), body.get("deployment_id"))
    return jsonify(registrations.as_dict(row))


@bp.route("/lti/registrations/<int:registration_id>/deployments/<path:deployment_id>", methods=["DELETE"])
@auth.require("admin")
def remove_deployment(registration_id, deployment_id):
    row = registrations.remove_deployment(db(), registrations.get(db(), registration_id), deployment_id)
    return jsonify(registrations.as_dict(row))


@bp.route("/courses/<course_id>/roster-sync", methods=["POST"])
@auth.require("admin", "instructor")
def sync_roster(course_id):
    """Enrol the LMS course's learners (Names and Role Provisioning Services)."""
    auth.require_course(g.principal, course_id)
    return jsonify(roster.sync(current_app, course_id))
