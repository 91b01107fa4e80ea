"""The instructor's console: the course list, enrolling learners (pasted or CSV) with their keys,
revoking keys, and creating assignments. The forms are loaded with the API's own schemas and call
the same domain functions as the API."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from grader import auth, courses, storage
from grader.courses import gradebook
from grader.api.catalog import context
from grader.problems import Forbidden, GraderError, InvalidRequest
from grader.schemas import AssignmentInSchema, EnrollInSchema
from grader.storage.models import LtiContext
from grader.web import progress
from grader.web.instructor import staff_course
from grader.web.pages import render_error
from grader.web.session import login_required

bp = Blueprint("manage", __name__, template_folder="templates")
ROSTER_SHOWN = 500  # the people page names the first learners; the gradebook pages through all
ASSIGNMENT_FIELDS = ("exercise_id", "title", "max_attempts", "late_policy", "late_penalty", "scoring")


def _db():
    return storage.session(current_app)


@bp.route("/courses", endpoint="courses")
@login_required
def courses_list():
    if g.principal.role == "learner":
        raise Forbidden("Only instructors and admins see the course list.")
    listed = courses.list_courses(_db(), g.principal)
    lti = set(_db().scalars(select(LtiContext.course_id).where(LtiContext.course_id.in_([c.id for c in listed]))))
    return render_template("courses.html", courses=listed, lti=lti)


@bp.route("/courses/<course_id>/people", methods=["GET", "POST"])
@login_required
def people(course_id):
    course, issued, error = staff_course(course_id), [], None
    if request.method == "POST":
        try:
            body = EnrollInSchema().load({"learners": _learner_ids(), "keys": bool(request.form.get("keys"))})
        except ValidationError:
            error = "Paste at least one learner id (up to 5000, each 1 to 200 characters) or choose a CSV file."
        else:
            issued = courses.enroll(_db(), course_id, body["learners"], with_keys=body["keys"])
            flash(f"{len(issued)} learners enrolled ({sum(r['new'] for r in issued)} new).", "info")
    return render_template("people.html", course=course, issued=issued, error=error,
                           learners=gradebook.learner_page(_db(), course_id, None, ROSTER_SHOWN + 1),
                           keys=auth.course_keys(_db(), course_id)), 422 if error else 200


def _learner_ids() -> list[str]:
    """Ids pasted one a line (or separated by commas), or the first column of an uploaded CSV (a
    header 'learner' is skipped)."""
    upload = request.files.get("csv_file")
    text = upload.read().decode("utf-8-sig", "replace") if upload and upload.filename else ""
    ids = [row[0].strip() for row in csv.reader(io.StringIO(text)) if row and row[0].strip()]
    ids = ids[1:] if ids and ids[0].lower() == "learner" else ids
    pasted = request.form.get("learners", "").replace(",", "\n").splitlines()
    return ids + [line.strip() for line in pasted if line.strip()]


@bp.route("/courses/<course_id>/keys/<key_id>/revoke", methods=["POST"])
@login_required
def revoke(course_id, key_id):
    staff_course(course_id)
    key = auth.revoke_key(_db(), key_id, course_id)
    flash(f"Key {key.id} ({key.learner or key.role}) is revoked.", "info")
    return redirect(url_for("manage.people", course_id=course_id))


@bp.route("/courses/<course_id>/assignments", methods=["GET", "POST"])
@login_required
def assignments(course_id):
    course, errors = staff_course(course_id), {}
    if request.method == "POST":
        try:
            fields = AssignmentInSchema().load(_assignment_form())
            assignment = courses.create_assignment(_db(), context().catalog, course_id, fields)
        except ValidationError as exc:
            errors = exc.messages
        except GraderError as exc:
            _db().rollback()
            errors = exc.errors or {"form": [exc.detail]}
        else:
            flash(f"Assigned {assignment.title}.", "info")
            return redirect(url_for("manage.assignments", course_id=course_id))
    return render_template("assignments.html", course=course, errors=errors, form=request.form,
                           exercises=progress.book_order(context().catalog.values()),
                           assignments=courses.list_assignments(_db(), course_id)), 422 if errors else 200


def _assignment_form() -> dict:
    """The form as the API's AssignmentInSchema expects it: empty fields left out, local times
    (datetime-local and the browser's offset in minutes, UTC without JavaScript) made aware."""
    form = {k: request.form[k] for k in ASSIGNMENT_FIELDS if request.form.get(k, "").strip()}
    offset = request.form.get("tz_offset", "0").strip() or "0"
    try:
        zone = timezone(-timedelta(minutes=int(offset)))
    except ValueError:
        raise InvalidRequest("The time zone offset is not a number of minutes.",
                             errors={"due_at": ["unknown time zone"]}) from None
    for name in ("opens_at", "due_at"):
        text = request.form.get(name, "").strip()
        if text:
            try:
                form[name] = datetime.fromisoformat(text).replace(tzinfo=zone).isoformat()
            except ValueError:
                form[name] = text  # the schema names the field
    return form


bp.register_error_handler(GraderError, render_error)
