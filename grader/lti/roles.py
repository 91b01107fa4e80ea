"""LTI roles (LIS vocabularies): who lands on the course's pages instead of the exercise."""
from __future__ import annotations

ROLES_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/roles"
CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person"
STAFF = {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}
SYSTEM_STAFF = {"Administrator", "SysAdmin"}


def _split(role: str) -> tuple[str, set[str]]:
    """(vocabulary, names): 'membership/Instructor#TeachingAssistant' names both the principal role and
    the sub-role; a simple name ('Instructor', allowed for context roles) is a context role."""
    if "#" not in role:
        return (CONTEXT, {role}) if "/" not in role and ":" not in role else ("", set())
    base, name = role.rsplit("#", 1)
    if base.startswith(CONTEXT + "/"):
        return CONTEXT, {base[len(CONTEXT) + 1:], name}
    return base, {name}


def is_staff(roles: list[str]) -> bool:
    """Context roles decide when the launch has any (a learner of this course who is also an
    institution administrator launches as a learner); otherwise institution and system roles do."""
    context, wider = set(), set()
    for role in roles or []:
        vocabulary, names = _split(role)
        if vocabulary == CONTEXT:
            context |= names
        elif vocabulary == INSTITUTION:
            wider |= names & STAFF
        elif vocabulary == SYSTEM:
            wider |= names & SYSTEM_STAFF
    if context:
        return bool(context & STAFF)
    return bool(wider)
