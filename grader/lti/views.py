"""LTI endpoints the platform calls: /lti/login, /lti/launch, /lti/deep-link, /lti/jwks and a
Canvas-style /lti/config.json."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, ToolConfException
from pylti1p3.lineitem import LineItem

from grader import storage
from grader.catalog import get_catalog
from grader.lti.launch_storage import DbLaunchDataStorage
from grader.lti.mapping import CUSTOM, map_launch
from grader.lti.roles import ROLES_CLAIM, is_staff
from grader.lti.roster import NRPS_SCOPE
from grader.lti.tool import jwks, tool_conf
from grader.lti.validation import Launch, client_id_of, same_target
from grader.web.session import log_in

bp = Blueprint("lti", __name__, template_folder="templates")
AGS_SCOPES = ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
              "https://purl.imsglobal.org/spec/lti-ags/scope/score",
              "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"]


def conf():
    return tool_conf(current_app, storage.session(current_app))


def launch_url() -> str:
    return url_for("lti.launch", _external=True)


@bp.route("/lti/jwks")
def tool_jwks():
    return jsonify(jwks(current_app))


@bp.route("/lti/login", methods=["GET", "POST"])
def login():
    """OIDC third-party login initiation: redirect to the platform's authorization endpoint."""
    target = FlaskRequest().get_param("target_link_uri")
    if not same_target(target, launch_url()):
        return _refuse(f"The login request's target_link_uri {target!r} is not this tool's launch URL "
                       f"{launch_url()}.", 400)
    try:
        oidc = FlaskOIDCLogin(FlaskRequest(), conf(), launch_data_storage=DbLaunchDataStorage(current_app))
        return oidc.redirect(launch_url())  # the redirect_uri registered with the platform, without a query
    except (LtiException, ToolConfException) as exc:
        return _refuse(f"LTI login refused: {exc}", 400)


@bp.route("/lti/launch", methods=["POST"])
def launch():
    """Validate the id_token (signature against the platform's JWKS, nonce, state, audience and azp,
    deployment, expiry, target_link_uri), then land: learners on the exercise, staff on the course's
    pages, deep-linking requests on the exercise picker."""
    try:
        message = Launch(FlaskRequest(), conf(), launch_data_storage=DbLaunchDataStorage(current_app))
        data = message.expect(launch_url()).get_launch_data()
    except (LtiException, ToolConfException) as exc:
        return _refuse(f"LTI launch refused: {exc}", 403)
    if message.is_deep_link_launch():
        return render_template("lti_pick.html", launch_id=message.get_launch_id(),
                               exercises=get_catalog(current_app).values())
    exercise_id = (data.get(CUSTOM) or {}).get("exercise_id")
    if exercise_id not in get_catalog(current_app):
        if not is_staff(data.get(ROLES_CLAIM, [])):
            return _refuse("This link names no exercise of this service (custom parameter exercise_id).", 400)
        exercise_id = None
    landing = map_launch(storage.session(current_app), get_catalog(current_app), data, client_id_of(data),
                         exercise_id)
    log_in(landing.key_id)
    if landing.exercise_id is None:
        return redirect(url_for("instructor.course", course_id=landing.course_id))
    return redirect(url_for("pages.exercise", exercise_id=landing.exercise_id))


@bp.route("/lti/deep-link", methods=["POST"])
def deep_link():
    """The instructor picked an exercise: answer the platform with a content item and its line item."""
    exercise = get_catalog(current_app).get(request.form.get("exercise_id", ""))
    if exercise is None:
        return _refuse("Pick an exercise of the list.", 400)
    try:
        message = Launch.from_cache(request.form.get("launch_id", ""), FlaskRequest(), conf(),
                                    launch_data_storage=DbLaunchDataStorage(current_app))
    except LtiException as exc:
        return _refuse(f"The deep-linking session expired: {exc}", 403)
    resource = (DeepLinkResource().set_url(launch_url()).set_title(exercise.title)
                .set_custom_params({"exercise_id": exercise.id})
                .set_lineitem(LineItem().set_label(exercise.title).set_score_maximum(exercise.max_score)
                              .set_resource_id(exercise.id)))
    return message.get_deep_link().output_response_form([resource])


@bp.route("/lti/config.json")
def canvas_config():
    """Canvas's JSON configuration (Developer Keys → LTI Key → Paste JSON or Enter URL)."""
    placements = [{"placement": p, "message_type": "LtiDeepLinkingRequest", "target_link_uri": launch_url()}
                  for p in ("link_selection", "assignment_selection")]
    placements.append({"placement": "course_navigation", "message_type": "LtiResourceLinkRequest",
                       "target_link_uri": launch_url(), "text": "BPTT Grader", "visibility": "admins"})
    return jsonify({
        "title": "BPTT Grader", "description": "Backpropagation Through Time exercises (d2l 9.7), auto-graded",
        "oidc_initiation_url": url_for("lti.login", _external=True), "target_link_uri": launch_url(),
        "public_jwk_url": url_for("lti.tool_jwks", _external=True),
        "scopes": [*AGS_SCOPES, NRPS_SCOPE],
        "extensions": [{"platform": "canvas.instructure.com", "privacy_level": "public",
                        "settings": {"placements": placements}}],
        "custom_fields": {}})


def _refuse(message: str, status: int):
    return render_template("error.html", title="LTI", detail=message), status
