"""Answer groups of an exercise in a course, naming a code group, and the course's named groups."""
from flask import current_app, g

from grader import courses, service, storage
from grader.api.base import ApiBlueprint
from grader.api.catalog import context
from grader.auth import require
from grader.groups import answer_groups, diagnoses, naming
from grader.schemas import AnswerGroupsSchema, CourseDiagnosisSchema, NameGroupSchema

blp = ApiBlueprint("groups", __name__, description="Answer groups: the class's own mistakes")
AUTH = [{"bearer": []}]


def db():
    return storage.session(current_app)


def groups_of(course_id: str, exercise_id: str) -> dict:
    """The groups of an exercise in a course, for the API and the instructor page."""
    courses.get_course(db(), g.principal, course_id)
    exercise = service.find_exercise(context(), exercise_id)
    return {"course_id": course_id, "exercise_id": exercise.id, "exercise_version": exercise.version,
            "code_groups": answer_groups.code_groups(db(), context().secret, exercise, course_id),
            "numeric_groups": answer_groups.numeric_groups(db(), exercise, course_id)}


@blp.route("/courses/<course_id>/exercises/<exercise_id>/groups")
@blp.response(200, AnswerGroupsSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor")
def list_groups(course_id, exercise_id):
    """Wrong submissions no catalogued misconception explains, grouped: code by behaviour on the probe
    instances, numeric answers by error signature; largest first (admin, the course's instructor)."""
    return groups_of(course_id, exercise_id)


@blp.route("/courses/<course_id>/exercises/<exercise_id>/groups/<group_id>/name", methods=["POST"])
@blp.arguments(NameGroupSchema)
@blp.response(201, CourseDiagnosisSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor")
def name_group(body, course_id, exercise_id, group_id):
    """Name a code group: later matching submissions of the course get this diagnosis; a regrade
    (POST /exercises/{id}/regrade) gives it to the earlier ones."""
    courses.get_course(db(), g.principal, course_id)
    ctx = context()
    exercise = service.find_exercise(ctx, exercise_id)
    row = naming.name_group(db(), ctx.secret, ctx.catalog, exercise, course_id, group_id, body, g.principal.key_id)
    return diagnoses.as_dict(row)


@blp.route("/courses/<course_id>/diagnoses")
@blp.response(200, CourseDiagnosisSchema(many=True))
@blp.doc(security=AUTH)
@require("admin", "instructor")
def list_diagnoses(course_id):
    """The course's named answer groups (its export): slug, title, message, equation, exercise."""
    courses.get_course(db(), g.principal, course_id)
    return [diagnoses.as_dict(d) for d in diagnoses.of_course(db(), course_id)]
