"""The exercise page: statement, the learner's instance as tables, their assignment, and the answer
forms; a refused submission comes back on the same page, next to its field, with the input kept."""
from __future__ import annotations

import io
import json

import numpy as np
from flask import Response, current_app, g, redirect, render_template, request, url_for

from grader import service, storage
from grader.api.catalog import context
from grader.problems import GraderError
from grader.web import present, progress, snippets
from grader.web.pages import bp, render_markdown
from grader.web.session import current_principal, login_required


@bp.route("/exercises/<exercise_id>")
def exercise(exercise_id):
    attempt = max(1, request.args.get("attempt", 1, type=int))
    return _exercise_page(exercise_id, attempt)


def _exercise_page(exercise_id, attempt, *, error=None, kept=None, status=200):
    """The page, with `error` ({"kind", "message"}) shown at the form it concerns and `kept` (the
    pasted JSON or the code) put back in its box."""
    ctx = context()
    ex = service.find_exercise(ctx, exercise_id)
    principal = current_principal()
    instance = source = assignment = None
    if principal is not None:
        db = storage.session(current_app)
        instance = service.issue_instance(ctx, principal, ex.id, attempt=attempt)
        source = progress.last_source(db, principal.learner or f"key:{principal.key_id}", ex.id)
        assignment = progress.assignment_for(db, ctx.catalog, principal, ex.id)
    kept = kept or {}
    return render_template(
        "exercise.html", exercise=ex, statement=render_markdown(ex.statement), instance=instance, attempt=attempt,
        snippet=snippets.client_snippet(ex, request.host_url, attempt), error=error or {},
        tables=present.instance_tables(instance["params"]) if instance else [],
        answer_json=kept.get("answer_json", ""), source=kept.get("source", source or ex.starter),
        assignment=assignment), status


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
    kind = "code" if request.form.get("kind") == "code" else "numeric"
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
        kept = {"source": request.form.get("source", "")} if kind == "code" else \
            {"answer_json": request.form.get("answer_json", "")}
        return _exercise_page(exercise_id, max(1, request.form.get("attempt", 1, type=int)), kept=kept,
                              error={"kind": kind, "title": exc.title, "message": exc.detail}, status=exc.status)
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
