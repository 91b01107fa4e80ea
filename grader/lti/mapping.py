"""A validated launch becomes the tool's own records: the LMS context a course, the link an
assignment with its line item, the user a learner (enrolled, with an LTI link for passback) or, for
staff roles, an instructor session bound to that course only (not enrolled, nothing passed back)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from grader import auth, courses
from grader.lti.roles import ROLES_CLAIM, is_staff
from grader.storage.models import (ApiKey, Assignment, Course, Enrollment, LtiContext, LtiLink, LtiResourceLink,
                                   utcnow)

CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
RESOURCE_LINK = "https://purl.imsglobal.org/spec/lti/claim/resource_link"
DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"


@dataclass(frozen=True)
class Landing:
    key_id: str
    course_id: str
    exercise_id: str | None  # None: an instructor, who lands on the course's pages


def learner_id(issuer: str, sub: str) -> str:
    return f"{sub}@{urlsplit(issuer).hostname}"


def map_launch(db, catalog, data: dict, client_id: str, exercise_id: str | None) -> Landing:
    issuer = data["iss"]
    course_id = _course(db, issuer, client_id, data)
    if exercise_id is not None:
        assignment = _assignment(db, catalog, course_id, exercise_id, issuer, client_id, data)
    if is_staff(data.get(ROLES_CLAIM, [])):
        key = _key(db, role="instructor", course_id=course_id, learner=None,
                   label=f"lti-instructor:{learner_id(issuer, data['sub'])}")
        return Landing(key.id, course_id, None)
    learner = learner_id(issuer, data["sub"])
    courses.enroll(db, course_id, [learner])
    _name(db, course_id, learner, data.get("name"))
    if exercise_id is not None:
        _link(db, learner, assignment, issuer, client_id, data)
    key = _key(db, role="learner", course_id=course_id, learner=learner, label="lti")
    return Landing(key.id, course_id, exercise_id)


def _course(db, issuer, client_id, data) -> str:
    """The course of the LMS context (one per registration and context), with its NRPS endpoint."""
    context = data.get(CONTEXT) or {"id": "no-context", "title": "LTI"}
    course_id = "lti-" + hashlib.sha256(f"{issuer}|{client_id}|{context['id']}".encode()).hexdigest()[:16]
    if db.get(Course, course_id) is None:
        db.add(Course(id=course_id, title=context.get("title") or context.get("label") or course_id))
        db.flush()
    row = db.get(LtiContext, course_id) or LtiContext(course_id=course_id)
    row.issuer, row.client_id, row.context_id, row.updated_at = issuer, client_id, context["id"], utcnow()
    memberships = (data.get(NRPS) or {}).get("context_memberships_url")
    if memberships:
        row.memberships_url = memberships
    db.merge(row)
    db.commit()
    return course_id


def _assignment(db, catalog, course_id, exercise_id, issuer, client_id, data) -> Assignment:
    """The course's assignment for the exercise; each resource link keeps its own line item on it."""
    assignment = db.scalar(select(Assignment).where(Assignment.course_id == course_id,
                                                    Assignment.exercise_id == exercise_id).order_by(Assignment.id))
    if assignment is None:
        assignment = courses.create_assignment(db, catalog, course_id,
                                               {"exercise_id": exercise_id, "late_policy": "penalty"})
    link_id = (data.get(RESOURCE_LINK) or {}).get("id")
    if link_id:
        where = dict(issuer=issuer, client_id=client_id, deployment_id=data[DEPLOYMENT], resource_link_id=link_id)
        row = db.scalar(select(LtiResourceLink).filter_by(**where)) or LtiResourceLink(**where)
        ags = data.get(AGS) or {}
        row.assignment_id, row.scopes, row.lineitems_url = assignment.id, ags.get("scope", []), ags.get("lineitems")
        row.lineitem_url = ags.get("lineitem") or row.lineitem_url  # keep one the tool made for the link
        row.updated_at = utcnow()
        db.add(row)
        db.commit()
    return assignment


def _link(db, learner, assignment, issuer, client_id, data) -> None:
    """Who the learner is on the platform, for passback (the line items are the assignment's links)."""
    link = db.scalar(select(LtiLink).where(LtiLink.learner == learner, LtiLink.assignment_id == assignment.id))
    if link is None:
        link = LtiLink(learner=learner, assignment_id=assignment.id)
        db.add(link)
    ags = data.get(AGS) or {}
    link.issuer, link.client_id, link.user_sub = issuer, client_id, data["sub"]
    link.lineitem_url, link.scopes, link.updated_at = ags.get("lineitem"), ags.get("scope", []), utcnow()
    db.commit()


def _name(db, course_id, learner, name) -> None:
    row = db.get(Enrollment, (course_id, learner))
    if name and row is not None and row.name != name:
        row.name = name
        db.commit()


def _key(db, *, role, course_id, learner, label) -> ApiKey:
    key = db.scalar(select(ApiKey).where(ApiKey.role == role, ApiKey.course_id == course_id,
                                         ApiKey.learner.is_(learner) if learner is None else ApiKey.learner == learner,
                                         ApiKey.label == label, ApiKey.revoked_at.is_(None)))
    if key is None:
        issued = auth.create_key(db, role=role, learner=learner, course_id=course_id, label=label)
        key = db.get(ApiKey, issued.id)
    return key
