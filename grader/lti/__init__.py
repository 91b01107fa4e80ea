"""LTI 1.3 tool (pylti1p3next): OIDC login, launch (learners and staff), Deep Linking, the tool's
JWKS and a Canvas configuration; AGS score passback through the delivery outbox (passback.py);
NRPS roster sync (roster.py); the admin API for registrations and deployments (api.py)."""
from __future__ import annotations

from grader.lti import passback


def init_app(app) -> None:
    from grader.lti import api, views  # noqa: F401 (api's blueprint is registered by grader.api)
    from grader.web import csrf

    app.register_blueprint(views.bp)
    csrf.exempt(views.bp)  # platform POSTs carry signed JWTs, not our CSRF tokens
    csrf.exempt(api.blp)  # bearer keys, not cookies (registered with the API, see grader/api)
    passback.register()
