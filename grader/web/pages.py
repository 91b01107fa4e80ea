"""Learner pages: home, catalog, login (the exercise pages are in learn.py, reports in reports.py)."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

import markdown
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from grader import auth, storage
from grader.catalog import get_catalog
from grader.problems import GraderError
from grader.storage.models import ApiKey
from grader.web import progress
from grader.web.session import current_principal, log_in

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
def home():
    """Learners land on their courses and assignments, instructors on their courses, visitors on
    the catalog."""
    principal = current_principal() if "key_id" in session else None
    if principal is None:
        return catalog()
    if principal.role != "learner":
        return redirect(url_for("manage.courses"))
    ctx = get_catalog(current_app)
    mine = progress.learner_courses(storage.session(current_app), ctx, principal.learner, principal.course_id)
    return render_template("home.html", courses=mine)


@bp.route("/exercises")
def catalog():
    return render_template("catalog.html", exercises=progress.book_order(get_catalog(current_app).values()))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        key = _key_from(request.form.get("api_key", ""))
        if key is None:
            flash("That key is unknown or revoked. Paste the whole key, starting with bptt_.", "error")
            return render_template("login.html"), 401
        log_in(key.id)
        target = request.args.get("next", "")
        return redirect(target if is_local_path(target) else url_for("pages.home"))
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
    return redirect(url_for("pages.home"))


def render_error(error):
    """Pages answer errors with a page, not a problem document."""
    status = getattr(error, "status", None) or getattr(error, "code", 500) or 500
    title = getattr(error, "title", None) or getattr(error, "name", "Error")
    detail = getattr(error, "detail", None) or getattr(error, "description", "")
    return render_template("error.html", title=title, detail=detail), status


bp.register_error_handler(GraderError, render_error)
