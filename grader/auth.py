"""API keys: created with a role, stored as SHA-256 of the secret, checked from the Bearer header."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request
from sqlalchemy import select

from grader import keycache, storage
from grader.problems import Forbidden, InvalidRequest, NotFound, Unauthorized
from grader.storage.models import ApiKey, Course, utcnow

ROLES = ("admin", "instructor", "learner")
PREFIX = "bptt"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id, its role and, for learner keys, the learner it stands for."""

    key_id: str
    role: str
    learner: str | None
    course_id: str | None = None

    @property
    def trusted(self) -> bool:
        """Admin and instructor keys may act for a learner named in the request."""
        return self.role in ("admin", "instructor")


@dataclass(frozen=True)
class IssuedKey:
    """A key just created: the full key appears here once, never again."""

    id: str
    key: str
    role: str
    learner: str | None
    label: str | None
    course_id: str | None = None


def create_key(db, *, role: str, learner: str | None = None, label: str | None = None,
               course_id: str | None = None, commit: bool = True) -> IssuedKey:
    """Store a new key and return it in full; only its hash is kept. Instructor keys and learner
    keys may be bound to a course."""
    if role not in ROLES:
        raise InvalidRequest(f"role must be one of {', '.join(ROLES)}")
    if role == "learner" and not learner:
        raise InvalidRequest("a learner key needs the learner it stands for")
    if course_id is not None and db.get(Course, course_id) is None:
        raise NotFound(f"there is no course {course_id!r}", errors={"course_id": ["unknown"]})
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    db.add(ApiKey(id=key_id, secret_sha256=_digest(secret), role=role, learner=learner, label=label,
                  course_id=course_id))
    if commit:
        db.commit()
    return IssuedKey(id=key_id, key=f"{PREFIX}_{key_id}.{secret}", role=role, learner=learner, label=label,
                     course_id=course_id)


def _digest(secret: str) -> str:
    # the secret is 256 random bits, so a fast hash is enough: nothing to brute-force
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(key.secret_sha256, _digest(secret))


def authenticate() -> Principal:
    """The caller's Principal from the Authorization header, or 401."""
    return principal_for(storage.session(current_app), current_app.extensions[keycache.EXTENSION],
                         request.headers.get("Authorization", ""))


def principal_for(db, keys: keycache.KeyCache, header: str) -> Principal:
    """The Principal of an 'Authorization: Bearer <key>' header's key, or 401."""
    scheme, _, token = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="bptt-grader"'}
    if scheme.lower() != "bearer" or not token.startswith(PREFIX + "_") or "." not in token:
        raise Unauthorized("Send an API key as 'Authorization: Bearer <key>'.", headers=challenge)
    key_id, _, secret = token[len(PREFIX) + 1:].partition(".")
    key = keys.get(db, key_id)
    if key is None or key.revoked_at is not None or not matches(key, secret):
        raise Unauthorized("The API key is unknown or revoked.", headers=challenge)
    return Principal(key_id=key.id, role=key.role, learner=key.learner, course_id=key.course_id)


def require(*roles: str):
    """View decorator: authenticate, check the role, keep the Principal on g.principal."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_app.config["AUTH_REQUIRED"]:
                if "principal" not in g:  # guards.check_request authenticates before the body is parsed
                    g.principal = authenticate()
                if g.principal.role not in roles:
                    raise Forbidden(f"This needs a key with role {' or '.join(roles)}.")
            else:
                g.principal = Principal(key_id=None, role="admin", learner=None)
            return view(*args, **kwargs)
        wrapper.required_roles = roles  # copied onto the outer decorators' wrappers by functools.wraps
        return wrapper
    return decorator


def acting_learner(principal: Principal, requested: str | None) -> str:
    """The learner a request acts for: a learner key's own; a trusted key's choice or itself."""
    if principal.role == "learner":
        if requested not in (None, principal.learner):
            raise Forbidden("A learner key acts only for its own learner.")
        return principal.learner
    return requested or f"key:{principal.key_id}"


def may_read(principal: Principal, learner: str, course_id: str | None) -> bool:
    """Admins read everything; an instructor their course; a learner only themself."""
    if principal.role == "admin":
        return True
    if principal.role == "instructor":
        return principal.course_id is not None and principal.course_id == course_id
    return learner == principal.learner


def require_course(principal: Principal, course_id: str) -> None:
    """An instructor key manages only its own course (admins any)."""
    if principal.role == "instructor" and principal.course_id != course_id:
        raise Forbidden(f"This instructor key is for course {principal.course_id!r}, not {course_id!r}.")
    if principal.role == "learner":
        raise Forbidden("Learner keys cannot manage courses.")


def course_keys(db, course_id: str, limit: int = 500) -> list[ApiKey]:
    """The course's keys that still work, newest first (a page's worth)."""
    return list(db.scalars(select(ApiKey).where(ApiKey.course_id == course_id, ApiKey.revoked_at.is_(None))
                           .order_by(ApiKey.created_at.desc(), ApiKey.id).limit(limit)))


def revoke_key(db, key_id: str, course_id: str) -> ApiKey:
    """Revoke one of the course's keys: refused at once by the pages (they re-read the key) and by this
    worker's API (grader.keycache forgets it), by the other workers within GRADER_KEY_CACHE_TTL_S."""
    key = db.get(ApiKey, key_id)
    if key is None or key.course_id != course_id:
        raise NotFound(f"There is no key {key_id!r} in course {course_id!r}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        db.commit()
    return key
