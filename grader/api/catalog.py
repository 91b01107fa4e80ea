"""The exercise catalog and instance issuance."""
from flask import current_app, g

from grader import service
from grader.api.base import ApiBlueprint
from grader.auth import require
from grader.catalog import get_catalog
from grader.schemas import (ExerciseDetailSchema, ExerciseSummarySchema, InstanceEnvelopeSchema,
                            InstanceRequestSchema)

blp = ApiBlueprint("exercises", __name__, description="The exercise catalog and randomized instances")


def context() -> service.Context:
    return current_app.extensions["grader.context"]


@blp.route("/exercises")
@blp.response(200, ExerciseSummarySchema(many=True))
def list_exercises():
    """List every exercise: id, title, section, equations, kinds accepted, max score."""
    return list(get_catalog(current_app).values())


@blp.route("/exercises/<exercise_id>")
@blp.response(200, ExerciseDetailSchema)
def get_exercise(exercise_id):
    """One exercise: statement, convention, answer fields with shapes, starter, misconceptions."""
    return service.find_exercise(context(), exercise_id)


@blp.route("/exercises/<exercise_id>/instances", methods=["POST"])
@blp.arguments(InstanceRequestSchema(), required=False)
@blp.response(200, InstanceEnvelopeSchema)
@blp.doc(security=[{"bearer": []}])
@require("admin", "instructor", "learner")
def issue_instance(body, exercise_id):
    """Issue the caller's randomized instance for an attempt, with a signed token to submit with."""
    instance = service.issue_instance(context(), g.principal, exercise_id, attempt=body.get("attempt", 1),
                                      learner=body.get("learner"))
    return {"instance": instance}
