"""AGS score passback as an outbox delivery. What is sent is the learner's score in the tool's
gradebook (the assignment's rule, best or last, after late penalties), to every line item of the
assignment's links, whenever a grade changes; LMSes keep the newest score, so sending the attempt's
own score would let a wrong answer after a right one win. Timestamps carry microseconds and
increase strictly per learner and assignment; each is fixed when scheduled and replayed on retries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from sqlalchemy import select, text

from grader import delivery, storage
from grader.courses import gradebook
from grader.lti.connector import Connector, token_cache
from grader.lti.tool import tool_conf
from grader.storage.models import Assignment, LtiLink, LtiResourceLink, utcnow
from grader.storage.prepared import Cursor, Prepared

AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
AGS_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
TICK = timedelta(microseconds=1)


LINKED = Prepared(text("SELECT 1 FROM lti_links WHERE learner = :learner AND assignment_id = :assignment_id LIMIT 1"))


class Linked(Exception):
    """The learner was linked to the assignment by an LTI launch after the submission looked."""


def linked(cursor: Cursor, row) -> bool:
    """Whether the learner has a launch link to the submission's assignment (so a grade passback is owed)."""
    return bool(cursor.execute(LINKED, {"learner": row.learner, "assignment_id": row.assignment_id}))


def schedule(db, row) -> int:
    """A passback of the learner's gradebook score to each line item of the submission's assignment."""
    if not row.assignment_id:
        return 0
    link = db.scalar(select(LtiLink).where(LtiLink.learner == row.learner, LtiLink.assignment_id == row.assignment_id))
    if link is None:
        return 0
    assignment = db.get(Assignment, row.assignment_id)
    chosen = gradebook.standing(db, assignment, row.learner) or row
    stamp = next_timestamp(link)
    targets = _targets(db, link, assignment)
    for target, scopes, create in targets:
        verdict = chosen.verdict.replace("_", " ")
        delivery.add(db, kind="passback", submission_id=row.id, target=target, payload={
            "issuer": link.issuer, "client_id": link.client_id, "user_id": link.user_sub, "scopes": scopes,
            "score_given": chosen.final_score if chosen.final_score is not None else chosen.score,
            "score_maximum": chosen.max_score, "timestamp": stamp.isoformat(timespec="microseconds"),
            "comment": f"{verdict}: {chosen.report.get('message', '')}"[:500], "create": create})
    return len(targets)


def next_timestamp(link: LtiLink):
    """Now, or just after the last score sent for this learner and assignment if the clock has not
    moved on (two grades in one microsecond, or a clock stepped back): never the same twice."""
    now = utcnow()
    last = link.last_timestamp
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
        now = max(now, last + TICK)
    link.last_timestamp = now
    return now


def _targets(db, link, assignment):
    """(line item URL, scopes, what to create) for each link placed in the LMS for this assignment and
    registration. A link without a line item, whose launch allowed line-item management, gets one the
    tool finds or makes (bound to the resource link) when its first score is sent. A launch made
    before links were recorded left its line item on the learner's link."""
    rows = db.scalars(select(LtiResourceLink).where(
        LtiResourceLink.assignment_id == link.assignment_id, LtiResourceLink.issuer == link.issuer,
        LtiResourceLink.client_id == link.client_id).order_by(LtiResourceLink.id)).all()
    targets = []
    for r in rows:
        create = None
        if not r.lineitem_url and r.lineitems_url and AGS_LINEITEM in r.scopes:
            create = {"link": r.id, "lineitems": r.lineitems_url, "resource_link_id": r.resource_link_id,
                      "label": assignment.title, "tag": assignment.exercise_id}
        targets.append((r.lineitem_url or "", r.scopes, create))
    if not targets:
        targets.append((link.lineitem_url or "", link.scopes, None))
    return targets


def _made_lineitem(db, ags, payload) -> str:
    """The line item bound to the resource link: found among the platform's, or created."""
    create = payload["create"]
    wanted = (LineItem().set_resource_link_id(create["resource_link_id"]).set_label(create["label"])
              .set_tag(create["tag"]).set_score_maximum(payload["score_maximum"]))
    url = ags.find_or_create_lineitem(wanted, find_by="resource_link_id").get_id()
    db.get(LtiResourceLink, create["link"]).lineitem_url = url
    return url


def send(app, item):
    """One AGS POST of the score; (True, None) done, (True, "stale") done, (False, e) retry, (None, e) give up."""
    payload = item.payload
    if AGS_SCORE not in payload["scopes"] or not (item.target or payload.get("create")):
        return None, "the platform granted no score scope or line item for this link"
    db = storage.session(app)
    registration = tool_conf(app, db).find_registration_by_params(payload["issuer"], payload["client_id"])
    if registration is None:
        return None, f"no registration for {payload['issuer']} and client {payload['client_id']} any more"
    connector = Connector(registration, token_cache(app))
    grade = (Grade().set_score_given(payload["score_given"]).set_score_maximum(payload["score_maximum"])
             .set_timestamp(payload.get("timestamp") or _legacy_timestamp(item))
             .set_activity_progress("Completed").set_grading_progress("FullyGraded")
             .set_user_id(payload["user_id"]).set_comment(payload["comment"]))
    try:
        if not item.target:
            lineitems = {"scope": payload["scopes"], "lineitems": payload["create"]["lineitems"]}
            item.target = _made_lineitem(db, AssignmentsGradesService(connector, lineitems), payload)
        AssignmentsGradesService(connector, {"scope": payload["scopes"], "lineitem": item.target}).put_grade(grade)
    except LtiServiceException as exc:
        return _answer(exc.response)
    except LtiException as exc:
        return None, str(exc)
    return True, None


def _answer(response):
    """What a refusal means: stale timestamp (done), 5xx/408/429 (retry later), any other 4xx (give
    up, keeping the platform's words for the instructor)."""
    status, text = response.status_code, (response.text or "").strip()
    if status == 409 or (status == 400 and "timestamp" in text.lower()):
        return True, "stale"  # the platform holds a newer score: this one is done
    error = f"HTTP {status}" + (f": {text[:300]}" if status < 500 and text else "")
    return (False if status >= 500 or status in (408, 429) else None), error


def _legacy_timestamp(item):
    """Deliveries queued before timestamps were kept in the payload (whole seconds)."""
    return datetime.fromtimestamp(item.event_timestamp, tz=timezone.utc).isoformat()


def register() -> None:
    delivery.SENDERS["passback"] = send
