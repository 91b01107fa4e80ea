"""Deployment settings applied to the app: which reverse proxies are trusted (so that external URLs,
the LTI configuration and deep links say https:// and the public host), and the session cookie's
attributes (an LMS iframe needs SameSite=None; Secure; Partitioned)."""
from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app) -> None:
    hops = int(app.config["PROXY_HOPS"] or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)
    if app.config["EMBEDDED_COOKIES"]:
        # sent inside a third-party iframe; Partitioned (CHIPS) keeps it to the LMS's top-level site
        app.config.update(SESSION_COOKIE_SAMESITE="None", SESSION_COOKIE_SECURE=True,
                          SESSION_COOKIE_PARTITIONED=True)
