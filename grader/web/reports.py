"""The report page (verdict, feedback with typeset math, the graded code, charts only where they say
something, next steps) and the attempts page (grouped by exercise, with the best score)."""
from __future__ import annotations

from flask import current_app, g, render_template, request, url_for

from grader import storage, submissions
from grader.catalog import get_catalog
from grader.grading import series
from grader.storage.models import Submission
from grader.web import plots, present, progress
from grader.web.pages import bp
from grader.web.session import login_required

SILENT = ("correct",)  # a part with this verdict has nothing to plot


@bp.route("/submissions/<submission_id>")
@login_required
def report(submission_id):
    db = storage.session(current_app)
    stored = submissions.get_submission(db, g.principal, submission_id)
    row = db.get(Submission, submission_id)
    catalog = get_catalog(current_app)
    ex = catalog.get(row.exercise_id)
    lines = present.error_lines(stored.get("message")) if row.kind == "code" else set()
    return render_template("report.html", report=stored, exercise=ex, charts=_charts(ex, row, stored),
                           source=row.source, error_lines=lines, part_names=[p["name"] for p in stored["parts"]],
                           next_exercise=progress.next_exercise(catalog, row.exercise_id),
                           instance_note=_instance_note(stored), mine=row.learner == g.principal.learner)


def _charts(ex, row, stored) -> list[str]:
    """Relative error per time step and value profiles, for the parts that are not right."""
    if ex is None or row.kind != "numeric" or not row.answer or row.exercise_version != ex.version:
        return []
    wrong = {p["name"] for p in stored["parts"] if p["verdict"] not in SILENT}
    instance = ex.instance(row.seed)
    charts = [plots.line_chart(f"{name}: relative error per time step", {"your answer": points},
                               x_label="time step t", y_label="relative error")
              for name, points in series.step_errors(ex, instance, row.answer).items() if name in wrong]
    charts += [plots.line_chart(f"{name}: your values and the reference", lines, x_label="time step t",
                                y_label=name, log_y=True)
               for name, lines in series.value_profiles(ex, instance, row.answer).items() if name in wrong]
    return charts


def _instance_note(stored) -> str | None:
    """When every hidden instance failed the same way, the report says it once, not once a row."""
    instances = stored.get("instances") or []
    messages = {i.get("message") for i in instances}
    if instances and len(messages) == 1 and messages == {stored.get("message")}:
        return "Every hidden instance stopped with this same error."
    return None


@bp.route("/history")
@login_required
def history():
    reports, cursor = submissions.list_submissions(storage.session(current_app), g.principal, limit=100,
                                               cursor=request.args.get("cursor") or None)
    return render_template("history.html", groups=progress.grouped(reports, get_catalog(current_app)),
                           heading="My attempts" if g.principal.role == "learner" else "Course submissions",
                           show_learner=g.principal.role != "learner",
                           next_page=url_for("pages.history", cursor=cursor) if cursor else None)
