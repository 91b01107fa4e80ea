"""Admin API for platform registrations and their deployments, and the roster sync of a course
(flask-smorest, so these operations are in the OpenAPI document like the rest of the API)."""
from __future__ import annotations

from flask import current_app, g
from sqlalchemy import select

from grader import auth, storage
from grader.api.base import ApiBlueprint
from grader.lti import registrations, roster
from grader.schemas import (DeploymentInSchema, RegistrationChangeSchema, RegistrationInSchema,
                            RegistrationListSchema, RegistrationSchema, RosterSyncSchema)
from grader.storage.models import LtiRegistration

blp = ApiBlueprint("lti_api", __name__, description="LTI 1.3 platform registrations and roster sync")
AUTH = [{"bearer": []}]


def db():
    return storage.session(current_app)


@blp.route("/lti/registrations", methods=["POST"])
@blp.arguments(RegistrationInSchema)
@blp.response(201, RegistrationSchema)
@blp.doc(security=AUTH)
@auth.require("admin")
def register_platform(body):
    """Register a platform: issuer, client_id, its endpoints and deployment_ids (and audience).
    409 if that issuer and client are registered already."""
    row, _ = registrations.create(db(), body)
    return registrations.as_dict(row)


@blp.route("/lti/registrations")
@blp.response(200, RegistrationListSchema)
@blp.doc(security=AUTH)
@auth.require("admin")
def list_registrations():
    rows = db().scalars(select(LtiRegistration).order_by(LtiRegistration.id))
    return {"registrations": [registrations.as_dict(r) for r in rows]}


@blp.route("/lti/registrations/<int:registration_id>", methods=["PATCH"])
@blp.arguments(RegistrationChangeSchema)
@blp.response(200, RegistrationSchema)
@blp.doc(security=AUTH)
@auth.require("admin")
def change_registration(body, registration_id):
    """Change a registration's endpoints or deployments (issuer and client id are its identity)."""
    return registrations.as_dict(registrations.change(db(), registration_id, body))


@blp.route("/lti/registrations/<int:registration_id>/deployments", methods=["POST"])
@blp.arguments(DeploymentInSchema)
@blp.response(200, RegistrationSchema)
@blp.doc(security=AUTH)
@auth.require("admin")
def add_deployment(body, registration_id):
    row = registrations.add_deployment(db(), registrations.get(db(), registration_id), body["deployment_id"])
    return registrations.as_dict(row)


@blp.route("/lti/registrations/<int:registration_id>/deployments/<path:deployment_id>", methods=["DELETE"])
@blp.response(200, RegistrationSchema)
@blp.doc(security=AUTH)
@auth.require("admin")
def remove_deployment(registration_id, deployment_id):
    row = registrations.remove_deployment(db(), registrations.get(db(), registration_id), deployment_id)
    return registrations.as_dict(row)


@blp.route("/courses/<course_id>/roster-sync", methods=["POST"])
@blp.response(200, RosterSyncSchema)
@blp.doc(security=AUTH)
@auth.require("admin", "instructor")
def sync_roster(course_id):
    """Enrol the LMS course's learners (Names and Role Provisioning Services)."""
    auth.require_course(g.principal, course_id)
    return roster.sync(current_app, course_id)
