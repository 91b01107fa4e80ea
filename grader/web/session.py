"""Page sessions: an API key is exchanged once for a signed, HttpOnly cookie holding its key id."""
from __future__ import annotations

from functools import wraps

from flask import current_app, g, redirect, request, session, url_for

from grader import storage
from grader.auth import Principal
from grader.storage.models import ApiKey


def log_in(key_id: str) -> None:
    session.clear()
    session["key_id"] = key_id


def current_principal() -> Principal | None:
    """The logged-in key, re-read on every request so that a revoked key logs out at once."""
    key_id = session.get("key_id")
    if key_id is None:
        return None
    key = storage.session(current_app).get(ApiKey, key_id)
    if key is None or key.revoked_at is not None:
        session.clear()
        return None
    return Principal(key_id=key.id, role=key.role, learner=key.learner, course_id=key.course_id)


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        g.principal = current_principal()
        if g.principal is None:
            return redirect(url_for("pages.login", next=request.full_path))
        return view(*args, **kwargs)
    return wrapper
