"""LTI 1.3 tool (pylti1p3next): OIDC login, launch, Deep Linking, the tool's JWKS and a Canvas-style
configuration; AGS score passback goes through the delivery outbox (see passback.py)."""
from __future__ import annotations

from grader.lti import passback


def init_app(app) -> None:
    from grader.lti import views
    from grader.web import csrf

    app.register_blueprint(views.bp)
    csrf.exempt(views.bp)  # platform POSTs carry signed JWTs, not our CSRF tokens
    passback.register()
