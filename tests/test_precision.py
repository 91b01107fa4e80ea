"""Float32 answers: named float32-precision, credited by default, never sent to the derivation hints;
float64 answers never named so; an assignment may withhold the credit."""
import numpy as np
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from grader import auth, storage
from grader.storage import MIGRATIONS, engine_of
from grader.catalog import selftest
from grader.grading.numeric import grade_numeric
from grader.grading.precision import FLOAT32_HINT, FLOAT32_SLUG, float32_valued
from tests.test_catalog import CATALOG, EXERCISES, answer_json, by_id, instance_seed

TANH = CATALOG["tanh-rnn-bptt"]


def slugs(report):
    return [m.slug for m in report.misconceptions]


def float32_answer(exercise, instance):
    return answer_json(selftest.as_float32(exercise, instance.answer))


def test_the_reported_case_float32_tanh_rnn_is_credited_and_named():
    """The issue's case: relative errors of a few 1e-8 against rtol 1e-8 on all six parts."""
    instance = TANH.instance(4)
    report = grade_numeric(TANH, instance, float32_answer(TANH, instance))
    assert report.verdict == "correct" and report.score == pytest.approx(1.0, abs=1e-12)
    assert slugs(report) == [FLOAT32_SLUG] and report.hints == ()
    errors = [p.relative_error for p in report.parts]
    assert all(1e-9 < e < 1e-6 for e in errors), errors
    assert "torch.float64" in report.misconceptions[0].message and "np.float64" in report.misconceptions[0].message
    assert "right to float32 precision only" in report.message


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_no_float64_answer_is_named_float32(exercise):
    """The reference, each mistake, and a near miss perturbed by 1e-6 relative, all in float64."""
    instance = exercise.instance(5)
    answers = [instance.answer, *instance.variants.values()]
    rng = np.random.default_rng(0)
    near = dict(instance.answer)
    for part in exercise.parts:
        if part.kind == "array":
            value = np.asarray(instance.answer[part.name], dtype=float)
            near[part.name] = value * (1 + 1e-6 * rng.standard_normal(value.shape))
    for answer in answers + [near]:
        assert FLOAT32_SLUG not in slugs(grade_numeric(exercise, instance, answer_json(answer)))


def test_withheld_credit_names_precision_and_gives_no_derivation_hints():
    strict = TANH.with_float32_credit(False)
    instance = strict.instance(4)
    report = grade_numeric(strict, instance, float32_answer(strict, instance))
    assert report.verdict == "incorrect" and report.score == 0.0
    assert slugs(report) == [FLOAT32_SLUG]
    assert report.hints == (FLOAT32_HINT,) and not set(report.hints) & set(TANH.hints)
    assert all("float64" in p.message for p in report.parts)
    assert TANH.float32_credit and TANH.instance is strict.instance  # the default is untouched, caches shared


def test_a_float32_answer_on_clipping_is_not_named_the_torch_epsilon():
    exercise = CATALOG["gradient-clipping"]
    for seed in range(12):
        instance = exercise.instance(seed)
        report = grade_numeric(exercise, instance, float32_answer(exercise, instance))
        assert slugs(report) == [FLOAT32_SLUG] and report.verdict == "correct", seed


def test_a_mistake_computed_in_float32_is_still_that_mistake():
    instance = TANH.instance(4)
    variant = instance.variants["missing-tanh-derivative"]
    report = grade_numeric(TANH, instance, answer_json(selftest.as_float32(TANH, variant)))
    assert "missing-tanh-derivative" in slugs(report) and report.verdict != "correct"
    assert set(report.hints) == set(TANH.hints)  # wrong math: the derivation hints are the right ones


def test_a_part_right_only_to_float32_next_to_a_wrong_part_keeps_the_hints():
    instance = TANH.instance(4)
    answer = float32_answer(TANH, instance)
    answer["db_q"] = np.zeros_like(instance.answer["db_q"]).tolist()
    report = grade_numeric(TANH, instance, answer)
    assert report.verdict == "partially_correct" and report.hints == TANH.hints


def test_float32_inputs_with_float64_sums_get_the_precision_hint_not_the_credit():
    """linear-bptt's reference run on float32 inputs returns float64 arrays (numpy upcasts in the
    sums): within 1e-5, not float32 numbers, so not credited nor named, but told it is precision."""
    exercise = CATALOG["linear-bptt"]
    instance = exercise.instance(6)
    answer = exercise.solve(selftest.float32_params(instance.params))
    assert all(np.asarray(value).dtype == np.float64 for value in answer.values())
    report = grade_numeric(exercise, instance, answer_json(answer))
    wrong = [p for p in report.parts if p.verdict != "correct"]
    assert wrong and report.verdict != "correct" and FLOAT32_SLUG not in slugs(report)
    assert all(p.relation.kind == "precision" and "not a math error" in p.message for p in wrong)
    assert report.hints == (FLOAT32_HINT,)


@pytest.mark.parametrize("values, expected", [
    ([1 / 3, 2 ** 0.5, -np.pi * 1e-9], False),                    # computed float64 values
    (np.float32([0.1, 2.5, -3.0]).astype(float).tolist(), True),  # a float32 array's .tolist()
    ([float(str(np.float32(v))) for v in (0.1, 1 / 3, -7.25e-9)], True),  # printed float32 values
    ([1 / 3, float(np.float32(0.5))], False),                     # one float64 entry is enough
    ([1e300, 1.0], False),                                        # beyond float32's range, without a warning
], ids=["float64", "exact-float32", "float32-decimals", "mixed", "huge"])
def test_float32_valued(values, expected):
    assert float32_valued(np.asarray(values)) is expected


def test_an_assignment_may_withhold_float32_credit(client, admin, fetch_instance, submit):
    """credit_float32 (default true) on the assignment, through the API and the migration."""
    assert client.post("/api/v1/courses", json={"id": "c1", "title": "RNNs"}, headers=admin).status_code == 201
    for exercise_id, credit in (("tanh-rnn-bptt", False), ("linear-bptt", None)):
        body = {"exercise_id": exercise_id, **({} if credit is None else {"credit_float32": credit})}
        created = client.post("/api/v1/courses/c1/assignments", json=body, headers=admin)
        assert created.status_code == 201 and created.json["credit_float32"] is (credit is not False)
    client.post("/api/v1/courses/c1/learners", json={"learners": ["ann"]}, headers=admin)
    with client.application.app_context():
        ann = {"Authorization": "Bearer " + auth.create_key(storage.session(client.application), role="learner",
                                                             learner="ann", course_id="c1").key}
    verdicts = {}
    for exercise_id in ("tanh-rnn-bptt", "linear-bptt"):
        exercise = CATALOG[exercise_id]
        instance = fetch_instance(exercise_id, ann)
        graded = exercise.instance(instance_seed(instance))
        report = submit(instance, selftest.as_float32(exercise, graded.answer), ann).json
        assert [m["slug"] for m in report["misconceptions"]] == [FLOAT32_SLUG]
        verdicts[exercise_id] = (report["verdict"] == "correct", report["hints"])
    assert verdicts["tanh-rnn-bptt"] == (False, [FLOAT32_HINT])  # parts within 1e-8 by chance keep their credit
    assert verdicts["linear-bptt"] == (True, [])


def test_code_computing_in_float32_is_named_float32_precision(zygote, alice, submit_code):
    """The sandbox returns float32 arrays exactly (as float64 lists): the same diagnosis as numbers."""
    source = TANH.solution.replace(
        "def rnn_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):\n",
        "def rnn_bptt(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):\n"
        "    W_xh, W_hh, b_h, W_hq, b_q, X, H0 = (np.asarray(a, dtype=np.float32)\n"
        "                                        for a in (W_xh, W_hh, b_h, W_hq, b_q, X, H0))\n")
    assert source != TANH.solution
    report = submit_code("tanh-rnn-bptt", source, alice).json
    assert report["verdict"] == "correct" and [m["slug"] for m in report["misconceptions"]] == [FLOAT32_SLUG]
    assert report["hints"] == []


def test_the_credit_float32_migration_goes_down_and_up(app):
    """0013 (credit_float32, revises 0012): the column goes away on downgrade and comes back true."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = engine_of(app)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO courses (id, title, created_at) VALUES ('c9', 'x', '2026-01-01')"))
        connection.execute(text("INSERT INTO assignments (course_id, exercise_id, title, late_policy, late_penalty, "
                                "scoring, created_at) VALUES ('c9', 'linear-bptt', 't', 'refuse', 0, 'best', "
                                "'2026-01-01')"))
    for target, present in (("0012", False), ("head", True)):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if target == "0012" else command.upgrade)(config, target)
        columns = {c["name"] for c in inspect(engine).get_columns("assignments")}
        assert ("credit_float32" in columns) is present, target
    with engine.connect() as connection:
        assert connection.execute(text("SELECT credit_float32 FROM assignments")).scalar_one() in (1, True)
