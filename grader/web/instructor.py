"""Instructor pages: the course gradebook (with its CSV), per-exercise analytics and answer groups,
the state of each score passback, and the LMS roster sync (NRPS) for courses launched over LTI."""
from __future__ import annotations

from flask import (Blueprint, Response, current_app, flash, g, redirect, render_template, request,
                   stream_with_context, url_for)
from marshmallow import ValidationError
from sqlalchemy import select

from grader import courses, delivery, service, storage, submissions
from grader.courses import gradebook
from grader.api.catalog import context
from grader.lti import roster
from grader.auth import require_course
from grader.groups import answer_groups, naming
from grader.problems import Forbidden, GraderError, InvalidRequest
from grader.schemas import NameGroupSchema
from grader.web import plots, progress
from grader.web.pages import render_error
from grader.storage.models import Enrollment, RegradeJob
from grader.web.session import login_required

bp = Blueprint("instructor", __name__, template_folder="templates")
MISTAKES_SHOWN = 8
PASSBACKS_SHOWN = 500  # the newest; the API lists them all


def staff_course(course_id):
    """The course, if the logged-in instructor or admin may see it (the course pages' one check)."""
    if g.principal.role == "learner":
        raise Forbidden("Only instructors and admins see the course pages.")
    return courses.get_course(storage.session(current_app), g.principal, course_id)


@bp.route("/courses/<course_id>")
@login_required
def course(course_id):
    db = storage.session(current_app)
    course = staff_course(course_id)
    learners = gradebook.learner_page(db, course_id, request.args.get("after") or None, gradebook.PAGE + 1)
    more, learners = len(learners) > gradebook.PAGE, learners[:gradebook.PAGE]  # one more: is there a next page
    assignments = courses.list_assignments(db, course_id)
    rows = gradebook.rows_of(db, course_id, learners, assignments)
    catalog = context().catalog
    lines = gradebook.grid(rows, assignments, {e: catalog[e].max_score for e in {a.exercise_id for a in assignments}
                                               if e in catalog})
    names = dict(db.execute(select(Enrollment.learner, Enrollment.name).where(
        Enrollment.course_id == course_id, Enrollment.learner.in_(learners), Enrollment.name.is_not(None))).all())
    regrades = db.scalars(select(RegradeJob).where(RegradeJob.course_id == course_id)
                          .order_by(RegradeJob.created_at.desc()).limit(5)).all()
    return render_template("gradebook.html", course=course, course_id=course_id, lines=lines, assignments=assignments,
                           names=names,
                           roster=roster.can_sync(db, course_id), regrades=regrades,
                           next_page=url_for("instructor.course", course_id=course_id, after=learners[-1]) if more else None)


@bp.route("/courses/<course_id>/passbacks")
@login_required
def passbacks(course_id):
    staff_course(course_id)
    rows = delivery.delivery_states(storage.session(current_app), course_id, limit=PASSBACKS_SHOWN)
    return render_template("passbacks.html", course_id=course_id, rows=rows)


@bp.route("/courses/<course_id>/roster-sync", methods=["POST"])
@login_required
def roster_sync(course_id):
    staff_course(course_id)
    result = roster.sync(current_app, course_id)
    flash(f"{result['learners']} learners in the LMS roster; {result['new']} newly enrolled.", "info")
    return redirect(url_for("instructor.course", course_id=course_id))


@bp.route("/courses/<course_id>/gradebook.csv")
@login_required
def gradebook_csv(course_id):
    staff_course(course_id)
    text = stream_with_context(gradebook.csv_lines(storage.session(current_app), course_id))
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="gradebook-{course_id}.csv"'})


@bp.route("/courses/<course_id>/exercises/<exercise_id>")
@login_required
def stats(course_id, exercise_id):
    staff_course(course_id)
    require_course(g.principal, course_id)
    db, exercise = storage.session(current_app), service.find_exercise(context(), exercise_id)
    data = gradebook.stats(db, exercise, course_id)
    shown = data["misconceptions"][:MISTAKES_SHOWN]
    chart = plots.bar_chart("Most frequent mistakes", [(m["title"], m["learners"]) for m in shown],
                            x_label="learners who made the mistake") if shown else None
    histogram = plots.bar_chart("Scores of all attempts", [(f"{b['from']:.1f} to {b['to']:.1f}", b["count"])
                                                           for b in data["score_distribution"]], x_label="attempts")
    who = gradebook.misconception_learners(db, exercise.id, course_id, [m["slug"] for m in shown])
    return render_template("stats.html", course_id=course_id, stats=data, chart=chart, histogram=histogram,
                           exercise=exercise, mistakes=shown, who=who)


@bp.route("/courses/<course_id>/learners/<learner>")
@login_required
def learner_attempts(course_id, learner):
    """One learner's submissions in the course, grouped by exercise, each linking to its report."""
    staff_course(course_id)
    reports, cursor = submissions.list_submissions(storage.session(current_app), g.principal, learner=learner,
                                               course_id=course_id, limit=100,
                                               cursor=request.args.get("cursor") or None)
    return render_template("history.html", groups=progress.grouped(reports, context().catalog),
                           heading=f"Attempts of {learner}", show_learner=False, course_id=course_id,
                           next_page=url_for("instructor.learner_attempts", course_id=course_id, learner=learner,
                                             cursor=cursor) if cursor else None)


@bp.route("/courses/<course_id>/exercises/<exercise_id>/groups")
@login_required
def groups(course_id, exercise_id):
    staff_course(course_id)
    ctx, db = context(), storage.session(current_app)
    exercise = service.find_exercise(ctx, exercise_id)
    return render_template("groups.html", course_id=course_id, exercise=exercise,
                           code_groups=answer_groups.code_groups(db, ctx.secret, exercise, course_id),
                           numeric_groups=answer_groups.numeric_groups(db, exercise, course_id))


@bp.route("/courses/<course_id>/exercises/<exercise_id>/groups/<group_id>/name", methods=["POST"])
@login_required
def name_group(course_id, exercise_id, group_id):
    staff_course(course_id)
    ctx = context()
    try:
        body = NameGroupSchema().load({k: request.form.get(k, "") for k in ("slug", "title", "message", "equation")})
    except ValidationError as exc:
        raise InvalidRequest("The diagnosis is incomplete or its slug is not lowercase-with-hyphens.",
                             errors=exc.messages) from None
    row = naming.name_group(storage.session(current_app), ctx.secret, ctx.catalog, service.find_exercise(ctx, exercise_id),
                            course_id, group_id, body, g.principal.key_id)
    flash(f"Group named {row.slug}: later matching submissions get this diagnosis; regrade to give it to "
          "earlier ones.", "info")
    return redirect(url_for("instructor.groups", course_id=course_id, exercise_id=exercise_id))


bp.register_error_handler(GraderError, render_error)
