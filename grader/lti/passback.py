"""AGS score passback as an outbox delivery: the score and its timestamp are fixed when the
submission is graded and replayed on every retry; a platform's "stale timestamp" answer (Moodle
409, Canvas 400) ends the delivery as done, not as an endless retry."""
from __future__ import annotations

from datetime import datetime, timezone

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.contrib.flask.service_connector import FlaskServiceConnector
from sqlalchemy import select

from grader import delivery, storage
from grader.lti.tool import tool_conf
from grader.storage.models import LtiLink

AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def schedule(db, row) -> int:
    """A passback for every LTI link of the submission's learner and assignment; returns how many."""
    if not row.assignment_id:
        return 0
    links = 0
    for link in db.scalars(select(LtiLink).where(LtiLink.learner == row.learner,
                                                 LtiLink.assignment_id == row.assignment_id)):
        verdict = row.verdict.replace("_", " ")
        delivery.add(db, kind="passback", submission_id=row.id, target=link.lineitem_url or "", payload={
            "issuer": link.issuer, "client_id": link.client_id, "user_id": link.user_sub, "scopes": link.scopes,
            "score_given": row.final_score if row.final_score is not None else row.score,
            "score_maximum": row.max_score, "comment": f"{verdict}: {row.report.get('message', '')}"[:500]})
        links += 1
    return links


def send(app, item):
    """One AGS POST of the score; (True, None) done, (True, "stale") done, (False, e) retry, (None, e) give up."""
    payload = item.payload
    if AGS_SCORE not in payload["scopes"] or not item.target:
        return None, "the platform granted no score scope or line item for this link"
    db = storage.session(app)
    registration = tool_conf(app, db).find_registration_by_params(payload["issuer"], payload["client_id"])
    ags = AssignmentsGradesService(FlaskServiceConnector(registration),
                                   {"scope": payload["scopes"], "lineitem": item.target})
    timestamp = datetime.fromtimestamp(item.event_timestamp, tz=timezone.utc).isoformat()
    grade = (Grade().set_score_given(payload["score_given"]).set_score_maximum(payload["score_maximum"])
             .set_timestamp(timestamp).set_activity_progress("Completed").set_grading_progress("FullyGraded")
             .set_user_id(payload["user_id"]).set_comment(payload["comment"]))
    try:
        ags.put_grade(grade)
    except LtiServiceException as exc:
        status = exc.response.status_code
        if status == 409 or (status == 400 and "timestamp" in exc.response.text.lower()):
            return True, "stale"  # the platform holds a newer score: this one is done
        return (False if status >= 500 or status in (408, 429) else None), f"HTTP {status}"
    except LtiException as exc:
        return None, str(exc)
    return True, None


def register() -> None:
    delivery.SENDERS["passback"] = send
