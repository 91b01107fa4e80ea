"""Names and Role Provisioning Services: the LMS course's roster, enrolled in the tool's course, so
the gradebook lists learners who never launched. Staff members are listed by the LMS but not enrolled."""
from __future__ import annotations

from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.names_roles import NamesRolesProvisioningService

from grader import courses, storage
from grader.lti.connector import Connector, token_cache
from grader.lti.mapping import learner_id
from grader.lti.roles import is_staff
from grader.lti.tool import tool_conf
from grader.problems import NotFound, PlatformRefused
from grader.storage.models import Enrollment, LtiContext

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def can_sync(db, course_id: str) -> bool:
    context = db.get(LtiContext, course_id)
    return bool(context and context.memberships_url)


def sync(app, course_id: str) -> dict:
    """Enrol every active learner of the LMS course, with their names where the LMS gives them."""
    db = storage.session(app)
    context = db.get(LtiContext, course_id)
    if context is None or not context.memberships_url:
        raise NotFound(f"Course {course_id!r} has no roster service: launch the tool from the LMS course "
                       "(with Names and Role Provisioning Services enabled) first.")
    registration = tool_conf(app, db).find_registration_by_params(context.issuer, context.client_id)
    if registration is None:
        raise NotFound(f"{context.issuer} (client {context.client_id}) is not registered any more.")
    service = NamesRolesProvisioningService(Connector(registration, token_cache(app)), {
        "context_memberships_url": context.memberships_url, "service_versions": ["2.0"]})
    try:
        members = service.get_members()
    except LtiServiceException as exc:
        raise PlatformRefused(f"The LMS answered the roster request with HTTP {exc.response.status_code}: "
                              f"{(exc.response.text or '')[:300]}") from exc
    except LtiException as exc:
        raise PlatformRefused(f"The roster request failed: {exc}") from exc
    learners = {learner_id(context.issuer, m["user_id"]): m.get("name") or _joined(m)
                for m in members if m.get("status", "Active") == "Active" and not is_staff(m.get("roles", []))}
    rows = courses.enroll(db, course_id, list(learners))
    for learner, name in learners.items():
        if name:
            db.get(Enrollment, (course_id, learner)).name = name
    db.commit()
    return {"course_id": course_id, "members": len(members), "learners": len(learners),
            "new": sum(r["new"] for r in rows)}


def _joined(member: dict) -> str | None:
    return " ".join(p for p in (member.get("given_name"), member.get("family_name")) if p) or None
