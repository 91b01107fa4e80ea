"""marshmallow schemas at the HTTP edge: requests, the catalog, instances, reports, problems."""
from __future__ import annotations

import math

from marshmallow import RAISE, Schema, fields, validate

from grader.grading.report import Verdict

LEARNER = validate.Length(min=1, max=200)
ROW_ID = validate.Range(min=1, max=2 ** 31 - 1)  # fits an INTEGER column on every backend


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error response carries them."""

    type = fields.String(metadata={"description": "URI of the problem type, or about:blank"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String(metadata={"description": "the request path"})
    errors = fields.Raw(metadata={"description": "validation messages by field, when there are any"})


class OptionOutSchema(Schema):
    id = fields.String()
    text = fields.String()


class AnswerFieldSchema(Schema):
    name = fields.String()
    kind = fields.String(metadata={"description": "array, integer, label, choices or samples"})
    shape = fields.String(metadata={"description": "symbolic shape, e.g. (q, h)"})
    labels = fields.List(fields.String())
    options = fields.List(fields.Nested(OptionOutSchema), metadata={"description": "for choices parts"})
    description = fields.String()
    weight = fields.Float()
    rtol = fields.Float(metadata={"description": "relative Frobenius tolerance of the part"})


class MisconceptionSummarySchema(Schema):
    slug = fields.String()
    title = fields.String()
    equation = fields.String()


class ExerciseSummarySchema(Schema):
    id = fields.String()
    version = fields.Integer()
    title = fields.String()
    section = fields.String(attribute="info.section")
    equations = fields.List(fields.String(), attribute="info.equations")
    kinds = fields.List(fields.String(), attribute="info.kinds")
    max_score = fields.Float()


class StartersSchema(Schema):
    numpy = fields.String(required=True, metadata={"description": "the same text as `starter`"})
    torch = fields.String(metadata={"description": "the PyTorch starter; absent when the exercise has none"})


class RulesSchema(Schema):
    autograd = fields.String(validate=validate.OneOf(["refused", "allowed"]), metadata={
        "description": "refused: a code submission that reaches torch's autograd is graded invalid"})
    summary = fields.String(metadata={"description": "the rule in one sentence, as the exercise page shows it"})


class ExerciseDetailSchema(ExerciseSummarySchema):
    convention = fields.String(attribute="info.convention")
    statement = fields.String(metadata={"description": "Markdown with LaTeX"})
    answer_fields = fields.List(fields.Nested(AnswerFieldSchema), attribute="parts")
    entry_point = fields.String(attribute="info.entry_point")
    starter = fields.String(metadata={"description": "the numpy starter (kept for compatibility; see starters)"})
    starters = fields.Nested(StartersSchema, metadata={"description": "the starter per framework"})
    rules = fields.Nested(RulesSchema, metadata={"description": "what code submissions may use"})
    misconceptions = fields.Method("_misconceptions")
    references = fields.List(fields.String(), attribute="info.references")

    def _misconceptions(self, exercise):
        return MisconceptionSummarySchema(many=True).dump(exercise.misconceptions.values())


class InstanceRequestSchema(StrictSchema):
    attempt = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    learner = fields.String(validate=LEARNER, metadata={"description": "admin and instructor keys only"})


class InstanceSchema(Schema):
    token = fields.String()
    exercise_id = fields.String()
    exercise_version = fields.Integer()
    learner = fields.String()
    attempt = fields.Integer()
    params = fields.Dict(keys=fields.String(), values=fields.Raw())
    answer_fields = fields.Dict(keys=fields.String(), values=fields.Dict())


class InstanceEnvelopeSchema(Schema):
    instance = fields.Nested(InstanceSchema)


class SubmissionRequestSchema(StrictSchema):
    exercise_id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["numeric", "code"]))
    instance_token = fields.String(validate=validate.Length(min=1, max=4096))
    answer = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), metadata={
        "description": "answer field -> number or nested lists of numbers (labels and option ids for some "
                       "parts); anything else makes an `invalid` report naming the field"})
    source = fields.String(validate=validate.Length(min=1, max=200_000))
    notebook = fields.Raw(metadata={"description": "a Jupyter notebook (nbformat 4) instead of source: the "
                                                   "document, or its JSON text", "oneOf": [{"type": "object"},
                                                                                          {"type": "string"}]})
    callback_url = fields.Url(require_tld=False, validate=validate.Length(max=2000), metadata={
        "description": "the graded report is POSTed here, signed per Standard Webhooks"})
    assignment_id = fields.Integer(validate=ROW_ID, metadata={
        "description": "default: the only assignment of the exercise in the key's course"})
    learner = fields.String(validate=LEARNER, metadata={"description": "admin and instructor keys only"})


class TwoDigits(fields.Float):
    """A float shown with 2 significant digits: enough to learn from, useless as an exact oracle
    (probing a part with unit vectors and reading full-precision errors would solve it). Never
    NaN or infinite: those are null (reports are strict JSON on every backend)."""

    def _serialize(self, value, attr, obj, **kwargs):
        value = super()._serialize(value, attr, obj, **kwargs)
        return None if value is None or not math.isfinite(value) else float(f"{value:.2g}")


class LocationSchema(Schema):
    index = fields.List(fields.Integer())
    time_step = fields.Integer(allow_none=True)


class RelationSchema(Schema):
    kind = fields.String()
    detail = fields.String()
    factor = TwoDigits(allow_none=True)
    time_steps = fields.List(fields.Integer(), allow_none=True)


class PartSchema(Schema):
    name = fields.String()
    verdict = fields.String(validate=validate.OneOf([v.value for v in Verdict]))
    score = fields.Float()
    max_score = fields.Float()
    relative_error = TwoDigits(allow_none=True, metadata={"description": "2 significant digits"})
    location = fields.Nested(LocationSchema, allow_none=True)
    message = fields.String()
    misconceptions = fields.List(fields.String())
    relation = fields.Nested(RelationSchema, allow_none=True)


class MisconceptionMatchSchema(Schema):
    slug = fields.String()
    title = fields.String()
    message = fields.String()
    equation = fields.String()
    parts = fields.List(fields.String())
    origin = fields.String(dump_default="catalog", metadata={
        "description": "catalog, or course: a diagnosis the course's instructor gave to an answer group"})


class InstanceSummarySchema(Schema):
    index = fields.Integer()
    kind = fields.String(metadata={"description": "regular, or edge (T = 1, B = 1, ...)"})
    sizes = fields.Dict(keys=fields.String(), values=fields.Raw(), metadata={"description": "shapes only"})
    verdict = fields.String()
    score = fields.Float()
    message = fields.String()


class ReportSchema(Schema):
    """The grade: verdict, score, parts, misconceptions and hints (a report dataclass)."""

    verdict = fields.String(validate=validate.OneOf([v.value for v in Verdict]))
    score = fields.Float()
    max_score = fields.Float()
    message = fields.String()
    parts = fields.List(fields.Nested(PartSchema))
    misconceptions = fields.List(fields.Nested(MisconceptionMatchSchema))
    hints = fields.List(fields.String())
    instances = fields.List(fields.Nested(InstanceSummarySchema),
                            metadata={"description": "code submissions: one entry per hidden instance"})


class SubmissionSchema(ReportSchema):
    """A stored submission: who, what and when, with its report."""

    id = fields.String()
    exercise_id = fields.String()
    exercise_version = fields.Integer()
    kind = fields.String()
    learner = fields.String()
    seed = fields.Integer(allow_none=True, metadata={"description": "replays the instance"})
    attempt = fields.Integer(allow_none=True)
    course_id = fields.String(allow_none=True)
    assignment_id = fields.Integer(allow_none=True)
    late = fields.Boolean()
    final_score = fields.Float(allow_none=True, metadata={"description": "score after the late penalty"})
    created_at = fields.String(metadata={"description": "ISO 8601, UTC"})


class StepErrorsSchema(Schema):
    id = fields.String()
    parts = fields.Dict(keys=fields.String(), values=fields.List(fields.List(fields.Float())), metadata={
        "description": "part name -> [[time step, relative error of that step], ...]"})


class SubmissionQuerySchema(StrictSchema):
    learner = fields.String(validate=LEARNER)
    exercise_id = fields.String()
    course_id = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))
    cursor = fields.String(validate=validate.Length(max=200), metadata={
        "description": "where the previous page ended: the `next` Link header carries it"})


class KeyRequestSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(["admin", "instructor", "learner"]))
    course_id = fields.String()
    learner = fields.String(validate=LEARNER)
    label = fields.String(validate=validate.Length(max=200))


class KeySchema(Schema):
    id = fields.String()
    course_id = fields.String(allow_none=True)
    key = fields.String(metadata={"description": "shown once; only its hash is stored"})
    role = fields.String()
    learner = fields.String(allow_none=True)
    label = fields.String(allow_none=True)


class HealthSchema(Schema):
    status = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.Dict())


class CourseSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    created_at = fields.DateTime(dump_only=True)


class EnrollInSchema(StrictSchema):
    learners = fields.List(fields.String(validate=LEARNER), required=True, validate=validate.Length(min=1, max=5000))
    keys = fields.Boolean(load_default=False, metadata={"description": "issue one learner key each"})


class EnrollOutSchema(Schema):
    learner = fields.String()
    new = fields.Boolean()
    key = fields.String(metadata={"description": "shown once"})


class AssignmentInSchema(StrictSchema):
    exercise_id = fields.String(required=True)
    title = fields.String(validate=validate.Length(max=200))
    opens_at = fields.AwareDateTime(allow_none=True, load_default=None)
    due_at = fields.AwareDateTime(allow_none=True, load_default=None)
    max_attempts = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=10_000))
    late_policy = fields.String(load_default="refuse", validate=validate.OneOf(["refuse", "penalty"]))
    late_penalty = fields.Float(load_default=0.0, validate=validate.Range(min=0.0, max=1.0))
    scoring = fields.String(load_default="best", validate=validate.OneOf(["best", "last"]))
    credit_float32 = fields.Boolean(load_default=True, metadata={
        "description": "credit parts right to float32 precision only (named float32-precision either way)"})


class AssignmentSchema(Schema):
    id = fields.Integer()
    course_id = fields.String()
    exercise_id = fields.String()
    title = fields.String()
    opens_at = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    max_attempts = fields.Integer(allow_none=True)
    late_policy = fields.String()
    late_penalty = fields.Float()
    scoring = fields.String()
    credit_float32 = fields.Boolean()


class GradebookQuerySchema(StrictSchema):
    course_id = fields.String()
    after = fields.String(validate=LEARNER, metadata={
        "description": "the last learner of the previous page: the `next` Link header carries it"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000),
                           metadata={"description": "learners per page (each with every assignment)"})


class GradebookRowSchema(Schema):
    learner = fields.String()
    assignment_id = fields.Integer()
    exercise_id = fields.String()
    title = fields.String()
    score = fields.Float(allow_none=True, metadata={"description": "after late penalties; null: no attempt"})
    max_score = fields.Float(allow_none=True)
    attempts = fields.Integer()
    late = fields.Boolean()


class StatsQuerySchema(StrictSchema):
    course_id = fields.String()


class StatsSchema(Schema):
    exercise_id = fields.String()
    course_id = fields.String(allow_none=True)
    attempts = fields.Integer()
    learners = fields.Integer()
    first_try_correct_rate = fields.Float(allow_none=True)
    score_distribution = fields.List(fields.Dict())
    misconceptions = fields.List(fields.Dict())


class RegradeQuerySchema(StrictSchema):
    course_id = fields.String()


class RegradeJobSchema(Schema):
    id = fields.String()
    exercise_id = fields.String()
    course_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "queued, running, done, or failed (then `error`; a repeated "
                                                    "request resumes it after its last committed batch)"})
    total = fields.Integer(metadata={"description": "submissions made against an older version when it started"})
    done = fields.Integer()
    changed = fields.Integer(metadata={"description": "of those done, how many changed verdict or score"})
    error = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()


class PassbackStateSchema(Schema):
    id = fields.String()
    submission_id = fields.String()
    learner = fields.String()
    status = fields.String(metadata={"description": "pending, sending, delivered, done or failed"})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    score = fields.Float(allow_none=True)
    next_attempt_at = fields.String(allow_none=True, metadata={"description": "ISO 8601 with offset, when pending"})


class PassbacksSchema(Schema):
    passbacks = fields.List(fields.Nested(PassbackStateSchema))


class LearnerExportSchema(Schema):
    learner = fields.String()
    enrollments = fields.List(fields.Dict(), metadata={"description": "course_id and since"})
    keys = fields.List(fields.Dict(), metadata={"description": "ids, roles, courses; never secrets or hashes"})
    submissions = fields.List(fields.Dict(), metadata={"description": "report, answer, source and history of each"})


class LearnerErasureSchema(Schema):
    learner = fields.String()
    submissions = fields.Integer()
    enrollments = fields.Integer()
    keys_revoked = fields.Integer()


class RegistrationInSchema(StrictSchema):
    issuer = fields.String(required=True, validate=validate.Length(min=1, max=500))
    client_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    auth_login_url = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                                   metadata={"description": "the platform's OIDC authorization endpoint"})
    auth_token_url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    key_set_url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    deployment_ids = fields.List(fields.String(validate=validate.Length(min=1, max=500)), required=True,
                                 validate=validate.Length(min=1))
    audience = fields.String(allow_none=True, validate=validate.Length(max=2000))


class RegistrationChangeSchema(StrictSchema):
    auth_login_url = fields.String(validate=validate.Length(min=1, max=2000))
    auth_token_url = fields.String(validate=validate.Length(min=1, max=2000))
    key_set_url = fields.String(validate=validate.Length(min=1, max=2000))
    audience = fields.String(allow_none=True, validate=validate.Length(max=2000))
    deployment_ids = fields.List(fields.String(validate=validate.Length(min=1, max=500)),
                                 validate=validate.Length(min=1))


class RegistrationSchema(Schema):
    id = fields.Integer()
    issuer = fields.String()
    client_id = fields.String()
    auth_login_url = fields.String()
    auth_token_url = fields.String()
    key_set_url = fields.String()
    audience = fields.String(allow_none=True)
    deployment_ids = fields.List(fields.String())


class RegistrationListSchema(Schema):
    registrations = fields.List(fields.Nested(RegistrationSchema))


class DeploymentInSchema(StrictSchema):
    deployment_id = fields.String(required=True, validate=validate.Length(min=1, max=500))


class RosterSyncSchema(Schema):
    course_id = fields.String()
    members = fields.Integer(metadata={"description": "members the platform listed"})
    learners = fields.Integer(metadata={"description": "active learners among them, enrolled"})
    new = fields.Integer(metadata={"description": "learners enrolled by this sync (not enrolled before)"})


class NameGroupSchema(StrictSchema):
    slug = fields.String(required=True, validate=[validate.Length(max=100),
                                                  validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$")])
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    message = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                            metadata={"description": "what to look at, shown to the learner"})
    equation = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CourseDiagnosisSchema(Schema):
    slug = fields.String()
    title = fields.String()
    message = fields.String()
    equation = fields.String()
    exercise_id = fields.String()
    exercise_version = fields.Integer()
    group_id = fields.String()
    course_id = fields.String()
    created_at = fields.String()


class AnswerGroupSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "code or numeric"})
    size = fields.Integer(metadata={"description": "submissions"})
    learners = fields.List(fields.String())
    learner_count = fields.Integer()
    submissions = fields.List(fields.String())
    diagnosis = fields.Nested(CourseDiagnosisSchema, allow_none=True)
    example = fields.Dict(metadata={"description": "the first submission: id, report and (code) source"})
    differences = fields.List(fields.Dict(), metadata={
        "description": "code: per probe instance, each part against the reference"})
    signature = fields.List(fields.Dict(), metadata={
        "description": "numeric: per wrong part, its relation, factor and time steps"})


class AnswerGroupsSchema(Schema):
    course_id = fields.String()
    exercise_id = fields.String()
    exercise_version = fields.Integer()
    code_groups = fields.List(fields.Nested(AnswerGroupSchema))
    numeric_groups = fields.List(fields.Nested(AnswerGroupSchema))
