"""Submitting answers and reading the stored reports."""
from flask import current_app, g, json, request, url_for

from grader import service, storage, submissions
from grader.api.base import ApiBlueprint
from grader.api.catalog import context
from grader.auth import require
from grader.problems import InvalidRequest
from grader.schemas import StepErrorsSchema, SubmissionQuerySchema, SubmissionRequestSchema, SubmissionSchema

blp = ApiBlueprint("submissions", __name__, description="Grading and stored reports")
AUTH = [{"bearer": []}]


@blp.route("/submissions", methods=["POST"])
@blp.arguments(SubmissionRequestSchema())  # an instance: webargs builds a class anew per request
@blp.response(201, SubmissionSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.alt_response(202, schema=SubmissionSchema, description="Queued (GRADER_QUEUE_URL set): the report is "
                  "pending; poll Location. ?wait=N waits up to N seconds; Prefer: respond-async answers at once.")
@blp.doc(security=AUTH, parameters=[
    {"in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "minLength": 1,
     "maxLength": 200}, "description": "a retry with the same key and body returns the first report "
                                       "(Idempotent-Replayed: true); another body answers 422"},
    {"in": "header", "name": "Prefer", "required": False, "schema": {"type": "string"},
     "description": "respond-async: a queued code submission answers 202 at once (RFC 7240)"},
    {"in": "query", "name": "wait", "required": False, "schema": {"type": "number", "minimum": 0},
     "description": "queued grading: wait up to this many seconds (capped by GRADER_QUEUE_WAIT_MAX_S) for the "
                    "report before answering 202"}])
@require("admin", "instructor", "learner")
def submit(body):
    """Grade a submission; the report is stored before it is returned. A wrong answer is a 201 too.
    With an Idempotency-Key, a retry of the same request returns the first report."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise InvalidRequest("Idempotency-Key must be 1 to 200 characters.")
    db = storage.session(current_app)
    report, replayed = service.submit(db, context(), g.principal, body, key)
    headers = {"Location": url_for("submissions.get_submission", submission_id=report["id"])}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    status = 201
    if report["verdict"] == "pending":
        report = service.wait_for_grade(db, report["id"], _wait_seconds())
        if report["verdict"] == "pending":
            status, headers["Retry-After"] = 202, "1"
    # the report was dumped through SubmissionSchema when it was stored: send it as it is
    return current_app.response_class(json.dumps(report), status=status, headers=headers, mimetype="application/json")


def _wait_seconds() -> float:
    """?wait=N (capped) unless the client prefers an asynchronous answer (RFC 7240 respond-async)."""
    if "respond-async" in request.headers.get("Prefer", ""):
        return 0.0
    try:
        wait = float(request.args.get("wait", 0))
    except ValueError:
        raise InvalidRequest("wait must be a number of seconds.", errors={"wait": ["not a number"]}) from None
    return max(0.0, min(wait, current_app.config["QUEUE_WAIT_MAX_S"]))


@blp.route("/submissions/<submission_id>")
@blp.response(200, SubmissionSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor", "learner")
def get_submission(submission_id):
    """One stored report; a learner key reads only its own."""
    report = submissions.get_submission(storage.session(current_app), g.principal, submission_id)
    return current_app.response_class(json.dumps(report), mimetype="application/json")


@blp.route("/submissions/<submission_id>/steps")
@blp.response(200, StepErrorsSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor", "learner")
def get_step_errors(submission_id):
    """Relative error per time step of each time-indexed part (numeric answers): the report's plot data."""
    return submissions.step_errors(storage.session(current_app), context(), g.principal, submission_id)


@blp.route("/submissions")
@blp.arguments(SubmissionQuerySchema, location="query")
@blp.response(200, SubmissionSchema(many=True))
@blp.doc(security=AUTH)
@require("admin", "instructor", "learner")
def list_submissions(query):
    """Stored reports, newest first, filtered by learner and exercise; learners see their own. A page
    at a time: the `Link: <…>; rel="next"` header names the next page (cursor pagination)."""
    reports, cursor = submissions.list_submissions(storage.session(current_app), g.principal, **query)
    headers = {}
    if cursor:
        args = {k: v for k, v in query.items() if k != "cursor"}
        headers["Link"] = f'<{url_for("submissions.list_submissions", **args, cursor=cursor)}>; rel="next"'
    # the reports were dumped through SubmissionSchema when they were stored: sent as they are
    return current_app.response_class(json.dumps(reports), mimetype="application/json", headers=headers)
