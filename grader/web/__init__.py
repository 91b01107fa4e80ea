"""Server-rendered pages for learners and instructors: the same use cases as the API, a session
cookie instead of a bearer key, CSRF tokens on every form, no CDN (KaTeX is vendored)."""
from __future__ import annotations

from flask import render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

csrf = CSRFProtect()


def init_app(app) -> None:
    from grader.web import instructor, learn, manage, pages, present, reports  # noqa: F401 (learn, reports: routes)

    csrf.init_app(app)
    for name, blueprint in app.blueprints.items():
        if name not in ("pages", "instructor", "manage"):  # the JSON API authenticates with bearer keys
            csrf.exempt(blueprint)
    app.register_blueprint(pages.bp)
    app.register_blueprint(instructor.bp)
    app.register_blueprint(manage.bp)
    present.init_app(app)
    app.register_error_handler(CSRFError, _csrf_page)


def _csrf_page(error):
    """Only page forms carry CSRF tokens, so this failure is answered with a page."""
    detail = f"The form expired or did not come from this site ({error.description}). Reload the page and try again."
    return render_template("error.html", title="Form not accepted", detail=detail), 400
