"""Learner pages: catalog, exercise (statement, instance, answer forms), report, history, login."""
from __future__ import annotations

import functools
import io
import json
from urllib.parse import urlsplit

import markdown
import numpy as np
from flask import (Blueprint, Response, current_app, flash, g, redirect, render_template, request, session,
                   url_for)

from grader import auth, service, storage
from grader.api.catalog import context
from grader.catalog import get_catalog
from grader.grading import series
from grader.problems import GraderError
from grader.storage.models import ApiKey, Submission
from grader.web import plots, snippets
from grader.web.session import current_principal, log_in, login_required

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")


@functools.lru_cache(maxsize=64)
def render_markdown(text: str) -> str:
    """Markdown to HTML; LaTeX is left as \\( \\) and \\[ \\] for KaTeX to typeset in the browser."""
    return markdown.markdown(text, extensions=["tables", "fenced_code", "pymdownx.arithmatex"],
                             extension_configs={"pymdownx.arithmatex": {"generic": True}})


@bp.app_context_processor
def inject_user():
    return {"user": current_principal() if "key_id" in session else None}


@bp.route("/")
def catalog():
    return render_template("catalog.html", exercises=get_catalog(current_app).values())


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        key = _key_from(request.form.get("api_key", ""))
        if key is None:
            flash("That key is unknown or revoked. Paste the whole key, starting with bptt_.", "error")
            return render_template("login.html"), 401
        log_in(key.id)
        target = request.args.get("next", "")
        return redirect(target if is_local_path(target) else url_for("pages.catalog"))
    return render_template("login.html")


def is_local_path(target: str) -> bool:
    """Only a path on this site: one leading slash, no scheme, no authority, no backslash, no
    control character or space (browsers drop tabs and newlines, so '/\t/evil' would become '//evil')."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    if any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _key_from(text: str):
    text = text.strip()
    if not text.startswith(auth.PREFIX + "_") or "." not in text:
        return None
    key_id, _, secret = text[len(auth.PREFIX) + 1:].partition(".")
    key = storage.session(current_app).get(ApiKey, key_id)
    if key is None or key.revoked_at is not None or not auth.matches(key, secret):
        return None
    return key


@bp.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("pages.catalog"))


@bp.route("/exercises/<exercise_id>")
def exercise(exercise_id):
    ex = service.find_exercise(context(), exercise_id)
    principal = current_principal()
    attempt = request.args.get("attempt", 1, type=int)
    instance = None
    if principal is not None:
        instance = service.issue_instance(context(), principal, ex.id, attempt=max(1, attempt))
    return render_template("exercise.html", exercise=ex, statement=render_markdown(ex.statement), instance=instance,
                           attempt=attempt, snippet=snippets.client_snippet(ex, request.host_url, max(1, attempt)))


@bp.route("/exercises/<exercise_id>/instance.<fmt>")
@login_required
def download_instance(exercise_id, fmt):
    attempt = max(1, request.args.get("attempt", 1, type=int))
    instance = service.issue_instance(context(), g.principal, exercise_id, attempt=attempt)
    name = f"{exercise_id}-attempt{attempt}"
    if fmt == "json":
        return Response(json.dumps(instance, indent=1), mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    if fmt == "npz":
        buffer = io.BytesIO()
        np.savez(buffer, **{k: np.asarray(v) for k, v in instance["params"].items()})
        return Response(buffer.getvalue(), mimetype="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}.npz"'})
    return Response("unknown format", status=404)


@bp.route("/exercises/<exercise_id>/submit", methods=["POST"])
@login_required
def submit(exercise_id):
    kind = request.form.get("kind", "numeric")
    body = {"exercise_id": exercise_id, "kind": kind}
    try:
        if kind == "code":
            body["source"] = request.form.get("source", "")
        else:
            body["instance_token"] = request.form.get("instance_token", "")
            body["answer"] = _answer_from_form()
        report, _ = service.submit(storage.session(current_app), context(), g.principal, body)
    except GraderError as exc:
        storage.session(current_app).rollback()
        flash(f"{exc.title}: {exc.detail}", "error")
        return redirect(url_for("pages.exercise", exercise_id=exercise_id,
                                attempt=request.form.get("attempt", 1)) + "#answer")
    return redirect(url_for("pages.report", submission_id=report["id"]))


def _answer_from_form() -> dict:
    """The answer from an uploaded .json or .npz file, or from the pasted JSON."""
    upload = request.files.get("answer_file")
    if upload and upload.filename:
        data = upload.read()
        if upload.filename.endswith(".npz"):
            try:
                with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                    return {name: arrays[name].tolist() for name in arrays.files}
            except (ValueError, OSError) as exc:
                raise GraderError(f"The .npz file could not be read: {exc}.") from exc
        text = data.decode("utf-8", "replace")
    else:
        text = request.form.get("answer_json", "")
    try:
        answer = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise GraderError(f"The answer is not valid JSON: {exc}.") from exc
    if isinstance(answer, dict) and isinstance(answer.get("answer"), dict):
        answer = answer["answer"]
    if not isinstance(answer, dict):
        raise GraderError("The answer must be a JSON object: one field per answer part.")
    return answer


def _no_constant(name):
    raise ValueError(f"{name} is not a valid JSON number")


@bp.route("/submissions/<submission_id>")
@login_required
def report(submission_id):
    db = storage.session(current_app)
    stored = service.get_submission(db, g.principal, submission_id)
    row = db.get(Submission, submission_id)
    ex = get_catalog(current_app).get(row.exercise_id)
    charts = []
    if ex is not None and row.kind == "numeric" and row.answer and row.exercise_version == ex.version:
        instance = ex.instance(row.seed)
        for name, points in series.step_errors(ex, instance, row.answer).items():
            charts.append(plots.line_chart(f"{name}: relative error per time step", {"your answer": points},
                                           x_label="time step t", y_label="relative error"))
        for name, lines in series.value_profiles(ex, instance, row.answer).items():
            charts.append(plots.line_chart(f"{name}: your values and the reference", lines, x_label="time step t",
                                           y_label=name, log_y=True))
    return render_template("report.html", report=stored, exercise=ex, charts=charts)


@bp.route("/history")
@login_required
def history():
    rows, _ = service.list_submissions(storage.session(current_app), g.principal, limit=100)
    return render_template("history.html", submissions=rows)


def render_error(error):
    """Pages answer errors with a page, not a problem document."""
    status = getattr(error, "status", None) or getattr(error, "code", 500) or 500
    title = getattr(error, "title", None) or getattr(error, "name", "Error")
    detail = getattr(error, "detail", None) or getattr(error, "description", "")
    return render_template("error.html", title=title, detail=detail), status


bp.register_error_handler(GraderError, render_error)
