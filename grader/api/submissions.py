"""Submitting answers and reading the stored reports."""
from flask import current_app, g, url_for

from grader import service, storage
from grader.api.base import ApiBlueprint
from grader.api.catalog import context
from grader.auth import require
from grader.schemas import SubmissionQuerySchema, SubmissionRequestSchema, SubmissionSchema

blp = ApiBlueprint("submissions", __name__, description="Grading and stored reports")
AUTH = [{"bearer": []}]


@blp.route("/submissions", methods=["POST"])
@blp.arguments(SubmissionRequestSchema)
@blp.response(201, SubmissionSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.doc(security=AUTH)
@require("admin", "instructor", "learner")
def submit(body):
    """Grade a submission; the report is stored before it is returned. A wrong answer is a 201 too."""
    report = service.submit(storage.session(current_app), context(), g.principal, body)
    return report, 201, {"Location": url_for("submissions.get_submission", submission_id=report["id"])}


@blp.route("/submissions/<submission_id>")
@blp.response(200, SubmissionSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor", "learner")
def get_submission(submission_id):
    """One stored report; a learner key reads only its own."""
    return service.get_submission(storage.session(current_app), g.principal, submission_id)


@blp.route("/submissions")
@blp.arguments(SubmissionQuerySchema, location="query")
@blp.response(200, SubmissionSchema(many=True))
@blp.doc(security=AUTH)
@require("admin", "instructor", "learner")
def list_submissions(query):
    """Stored reports, newest first, filtered by learner and exercise; learners see their own."""
    return service.list_submissions(storage.session(current_app), g.principal, **query)
