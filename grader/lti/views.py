"""LTI endpoints: /lti/login, /lti/launch, /lti/deep-link, /lti/jwks, /lti/config.json, and the
admin API for platform registrations."""
from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, ToolConfException
from pylti1p3.lineitem import LineItem
from sqlalchemy import select

from grader import auth, courses, storage
from grader.catalog import get_catalog
from grader.lti.launch_storage import DbLaunchDataStorage
from grader.lti.tool import jwks, tool_conf
from grader.problems import Forbidden, InvalidRequest
from grader.storage.models import ApiKey, Assignment, Course, LtiLink, LtiRegistration, utcnow
from grader.web.session import log_in

bp = Blueprint("lti", __name__, template_folder="templates")
AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


def db():
    return storage.session(current_app)


def conf():
    return tool_conf(current_app, db())


@bp.route("/lti/jwks")
def tool_jwks():
    return jsonify(jwks(current_app))


@bp.route("/lti/login", methods=["GET", "POST"])
def login():
    """OIDC third-party login initiation: redirect to the platform's authorization endpoint."""
    target = FlaskRequest().get_param("target_link_uri")
    if not target:
        return _refuse("The login request names no target_link_uri.", 400)
    try:
        oidc = FlaskOIDCLogin(FlaskRequest(), conf(), launch_data_storage=DbLaunchDataStorage(current_app))
        return oidc.redirect(target)
    except (LtiException, ToolConfException) as exc:
        return _refuse(f"LTI login refused: {exc}", 400)


@bp.route("/lti/launch", methods=["POST"])
def launch():
    """Validate the id_token (signature against the platform's JWKS, nonce, state, audience,
    deployment, expiry), then land on the exercise, or on the deep-linking picker."""
    try:
        message = FlaskMessageLaunch(FlaskRequest(), conf(), launch_data_storage=DbLaunchDataStorage(current_app))
        data = message.get_launch_data()
    except (LtiException, ToolConfException) as exc:
        return _refuse(f"LTI launch refused: {exc}", 403)
    if message.is_deep_link_launch():
        return render_template("lti_pick.html", launch_id=message.get_launch_id(),
                               exercises=get_catalog(current_app).values())
    exercise_id = (data.get(CUSTOM) or {}).get("exercise_id")
    if exercise_id not in get_catalog(current_app):
        return _refuse("This link names no exercise of this service (custom parameter exercise_id).", 400)
    key = _map_launch(data, exercise_id)
    log_in(key.id)
    return redirect(url_for("pages.exercise", exercise_id=exercise_id))


def _map_launch(data: dict, exercise_id: str) -> ApiKey:
    """The LTI user becomes a learner of the context's course; the link an assignment; its AGS
    claim is kept for passback. Returns the learner's course-bound key for the page session."""
    session = db()
    issuer, client_id = data["iss"], data["aud"] if isinstance(data["aud"], str) else data["aud"][0]
    context = data.get(CONTEXT) or {"id": "no-context", "title": "LTI"}
    course_id = "lti-" + hashlib.sha256(f"{issuer}|{client_id}|{context['id']}".encode()).hexdigest()[:16]
    if session.get(Course, course_id) is None:
        session.add(Course(id=course_id, title=context.get("title") or context.get("label") or course_id))
        session.commit()
    learner = f"{data['sub']}@{urlsplit(issuer).hostname}"
    courses.enroll(session, course_id, [learner])
    assignment = session.scalar(select(Assignment).where(Assignment.course_id == course_id,
                                                         Assignment.exercise_id == exercise_id))
    if assignment is None:
        assignment = courses.create_assignment(session, get_catalog(current_app), course_id,
                                               {"exercise_id": exercise_id, "late_policy": "penalty"})
    ags = data.get(AGS) or {}
    link = session.scalar(select(LtiLink).where(LtiLink.learner == learner, LtiLink.assignment_id == assignment.id))
    if link is None:
        link = LtiLink(learner=learner, assignment_id=assignment.id)
        session.add(link)
    link.issuer, link.client_id, link.user_sub = issuer, client_id, data["sub"]
    link.lineitem_url, link.scopes, link.updated_at = ags.get("lineitem"), ags.get("scope", []), utcnow()
    key = session.scalar(select(ApiKey).where(ApiKey.learner == learner, ApiKey.course_id == course_id,
                                              ApiKey.label == "lti", ApiKey.revoked_at.is_(None)))
    session.commit()
    if key is None:
        issued = auth.create_key(session, role="learner", learner=learner, course_id=course_id, label="lti")
        key = session.get(ApiKey, issued.id)
    return key


@bp.route("/lti/deep-link", methods=["POST"])
def deep_link():
    """The instructor picked an exercise: answer the platform with a content item and its line item."""
    exercise = get_catalog(current_app).get(request.form.get("exercise_id", ""))
    if exercise is None:
        return _refuse("Pick an exercise of the list.", 400)
    try:
        message = FlaskMessageLaunch.from_cache(request.form.get("launch_id", ""), FlaskRequest(), conf(),
                                                launch_data_storage=DbLaunchDataStorage(current_app))
    except LtiException as exc:
        return _refuse(f"The deep-linking session expired: {exc}", 403)
    resource = (DeepLinkResource().set_url(url_for("lti.launch", _external=True)).set_title(exercise.title)
                .set_custom_params({"exercise_id": exercise.id})
                .set_lineitem(LineItem().set_label(exercise.title).set_score_maximum(exercise.max_score)
                              .set_resource_id(exercise.id)))
    return message.get_deep_link().output_response_form([resource])


@bp.route("/lti/config.json")
def canvas_config():
    """Canvas's JSON configuration (Developer Keys → LTI Key → Paste JSON)."""
    return jsonify({
        "title": "BPTT Grader", "description": "Backpropagation Through Time exercises (d2l 9.7), auto-graded",
        "oidc_initiation_url": url_for("lti.login", _external=True),
        "target_link_uri": url_for("lti.launch", _external=True),
        "public_jwk_url": url_for("lti.tool_jwks", _external=True),
        "scopes": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem", AGS_SCORE,
                   "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"],
        "extensions": [{"platform": "canvas.instructure.com", "privacy_level": "public", "settings": {
            "placements": [{"placement": "link_selection", "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": url_for("lti.launch", _external=True)},
                           {"placement": "assignment_selection", "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": url_for("lti.launch", _external=True)}]}}],
        "custom_fields": {}})


@bp.route("/api/v1/lti/registrations", methods=["POST"])
@auth.require("admin")
def register_platform():
    """Register a platform (admin): issuer, client_id, auth_login_url, auth_token_url, key_set_url,
    deployment_ids."""
    body = request.get_json(silent=True) or {}
    fields = ("issuer", "client_id", "auth_login_url", "auth_token_url", "key_set_url", "deployment_ids")
    missing = [f for f in fields if not body.get(f)]
    if missing:
        raise InvalidRequest("A registration needs " + ", ".join(missing) + ".", errors={f: ["required"] for f in missing})
    registration = LtiRegistration(**{f: body[f] for f in fields}, audience=body.get("audience"))
    db().add(registration)
    db().commit()
    return jsonify({"id": registration.id, **{f: body[f] for f in fields}}), 201


def _refuse(message: str, status: int):
    return render_template("error.html", title="LTI", detail=message), status
