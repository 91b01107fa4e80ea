"""Courses, learners, assignments, the gradebook, class analytics, regrades and learner data."""
from flask import current_app, g, json, request, stream_with_context, url_for

from grader import courses, learners, service, storage
from grader.courses import gradebook, regrade as regrades
from grader.delivery import delivery_states
from grader.api.base import ApiBlueprint
from grader.api.catalog import context
from grader.auth import create_key, may_read, require, require_course
from grader.problems import Forbidden, NotFound
from grader.schemas import (LearnerErasureSchema, LearnerExportSchema, PassbacksSchema,
                            AssignmentInSchema, AssignmentSchema, CourseSchema, EnrollInSchema, EnrollOutSchema,
                            GradebookQuerySchema, GradebookRowSchema, KeySchema, RegradeQuerySchema,
                            RegradeJobSchema, StatsQuerySchema, StatsSchema)

blp = ApiBlueprint("courses", __name__, description="Courses, assignments, gradebook and analytics")
AUTH = [{"bearer": []}]


def db():
    return storage.session(current_app)


def wants_csv() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


@blp.route("/courses", methods=["POST"])
@blp.arguments(CourseSchema)
@blp.response(201, CourseSchema)
@blp.doc(security=AUTH)
@require("admin")
def create_course(body):
    """Create a course (admin)."""
    return courses.create_course(db(), **body)


@blp.route("/courses")
@blp.response(200, CourseSchema(many=True))
@blp.doc(security=AUTH)
@require("admin", "instructor")
def list_courses():
    """The courses this key may manage."""
    return courses.list_courses(db(), g.principal)


@blp.route("/courses/<course_id>/instructors", methods=["POST"])
@blp.response(201, KeySchema)
@blp.doc(security=AUTH)
@require("admin")
def add_instructor(course_id):
    """Issue an instructor key for the course (admin)."""
    courses.get_course(db(), g.principal, course_id)
    return create_key(db(), role="instructor", course_id=course_id, label=request.args.get("label"))


@blp.route("/courses/<course_id>/learners", methods=["POST"])
@blp.arguments(EnrollInSchema)
@blp.response(201, EnrollOutSchema(many=True))
@blp.doc(security=AUTH, description="With `keys: true`, one learner key each; `Accept: text/csv` for a CSV.")
@require("admin", "instructor")
def enroll(body, course_id):
    """Enroll learners by external id, optionally issuing their keys."""
    courses.get_course(db(), g.principal, course_id)
    rows = courses.enroll(db(), course_id, body["learners"], with_keys=body["keys"])
    if wants_csv():
        lines = ["learner,key"] + [f"{r['learner']},{r.get('key', '')}" for r in rows]
        return current_app.response_class("\n".join(lines) + "\n", status=201, mimetype="text/csv")
    return rows


@blp.route("/courses/<course_id>/learners")
@blp.response(200, EnrollOutSchema(many=True))
@blp.doc(security=AUTH)
@require("admin", "instructor")
def list_learners(course_id):
    """The course's learners."""
    courses.get_course(db(), g.principal, course_id)
    return [{"learner": learner, "new": False} for learner in courses.learners_of(db(), course_id)]


@blp.route("/courses/<course_id>/assignments", methods=["POST"])
@blp.arguments(AssignmentInSchema)
@blp.response(201, AssignmentSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor")
def create_assignment(body, course_id):
    """Assign an exercise: opening and due times, attempts, late policy, scoring rule."""
    courses.get_course(db(), g.principal, course_id)
    return courses.create_assignment(db(), context().catalog, course_id, body)


@blp.route("/courses/<course_id>/assignments")
@blp.response(200, AssignmentSchema(many=True))
@blp.doc(security=AUTH)
@require("admin", "instructor", "learner")
def list_assignments(course_id):
    """The course's assignments (learners of the course may read them)."""
    if g.principal.role == "learner" and g.principal.course_id != course_id:
        raise NotFound(f"There is no course {course_id!r} for this key.")
    if g.principal.role != "learner":
        courses.get_course(db(), g.principal, course_id)
    return courses.list_assignments(db(), course_id)


@blp.route("/gradebook")
@blp.arguments(GradebookQuerySchema, location="query")
@blp.response(200, GradebookRowSchema(many=True))
@blp.doc(security=AUTH, description="A page of learners (`limit`, default 100), each with every assignment; the "
         "`Link: <…>; rel=\"next\"` header names the next page. `Accept: text/csv` streams the whole gradebook.")
@require("admin", "instructor", "learner")
def get_gradebook(query):
    """Learner x assignment: score by the scoring rule, attempts, late flag; a learner sees their rows."""
    course_id = query.get("course_id") or g.principal.course_id
    if course_id is None:
        raise NotFound("Name a course_id.")
    learner = None
    if g.principal.role == "learner":
        if course_id != g.principal.course_id:
            raise NotFound(f"There is no course {course_id!r} for this key.")
        learner = g.principal.learner
    else:
        courses.get_course(db(), g.principal, course_id)
    if wants_csv():  # the whole gradebook, streamed a page of learners at a time
        lines = stream_with_context(gradebook.csv_lines(db(), course_id, learner))
        return current_app.response_class(lines, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="gradebook-{course_id}.csv"'})
    limit, headers = query["limit"], {}
    # one learner more than the page says whether a next page exists, in the same query
    learners = [learner] if learner else gradebook.learner_page(db(), course_id, query.get("after"), limit + 1)
    if len(learners) > limit:
        learners = learners[:limit]
        following = url_for("courses.get_gradebook", course_id=course_id, after=learners[-1], limit=limit)
        headers["Link"] = f'<{following}>; rel="next"'
    rows = gradebook.rows_of(db(), course_id, learners, courses.list_assignments(db(), course_id))
    # plain dicts of plain values: sent as they are (a schema dump of 1200 rows cost more than the query)
    return current_app.response_class(json.dumps(rows), mimetype="application/json", headers=headers)


@blp.route("/exercises/<exercise_id>/stats")
@blp.arguments(StatsQuerySchema, location="query")
@blp.response(200, StatsSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor")
def exercise_stats(query, exercise_id):
    """Class analytics: attempts, score distribution, first-try correct rate, misconceptions by learners."""
    course_id = query.get("course_id")
    if g.principal.role == "instructor":
        if g.principal.course_id is None:  # a course-less instructor key sees no course's statistics
            raise Forbidden("This instructor key is bound to no course, so it reads no course's statistics.")
        course_id = course_id or g.principal.course_id
        require_course(g.principal, course_id)
    return gradebook.stats(db(), service.find_exercise(context(), exercise_id), course_id)


@blp.route("/exercises/<exercise_id>/regrade", methods=["POST"])
@blp.arguments(RegradeQuerySchema, location="query")
@blp.response(202, RegradeJobSchema, headers={"Location": {"schema": {"type": "string"}}})
@blp.doc(security=AUTH)
@require("admin", "instructor")
def regrade(query, exercise_id):
    """Start (or resume) regrading the submissions made against an older version of the exercise; the
    old reports are kept in each submission's history. 202 with the job; poll its Location."""
    job = regrades.start(db(), context(), g.principal, exercise_id, query.get("course_id"))
    if job.status != "done":
        queue = current_app.extensions.get("grader.queue")
        if queue is not None:
            queue.enqueue_regrade(job.id)
        else:
            regrades.run_in_background(current_app._get_current_object(), job.id)
    return regrades.as_dict(job), 202, {"Location": url_for("courses.get_regrade", job_id=job.id)}


@blp.route("/regrades/<job_id>")
@blp.response(200, RegradeJobSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor")
def get_regrade(job_id):
    """A regrade job's progress."""
    return regrades.as_dict(regrades.get(db(), g.principal, job_id))


@blp.route("/courses/<course_id>/passbacks")
@blp.response(200, PassbacksSchema)
@blp.doc(security=AUTH)
@require("admin", "instructor")
def list_passbacks(course_id):
    """The state of every score passback of the course: delivered, pending (with its next try), done
    (the platform held a newer score) or failed, with the last error."""
    courses.get_course(db(), g.principal, course_id)
    return {"passbacks": delivery_states(db(), course_id)}


@blp.route("/learners/<learner>/export")
@blp.response(200, LearnerExportSchema)
@blp.doc(security=AUTH)
@require("admin", "learner")
def export_learner(learner):
    """Everything stored about a learner (admin, or the learner themself)."""
    if not may_read(g.principal, learner, None):
        raise NotFound(f"There is no learner {learner!r} that this key may read.")
    return learners.export(db(), learner)


@blp.route("/learners/<learner>", methods=["DELETE"])
@blp.response(200, LearnerErasureSchema)
@blp.doc(security=AUTH)
@require("admin")
def erase_learner(learner):
    """Delete a learner's submissions and enrollments and revoke their keys (admin)."""
    return learners.erase(db(), learner)
