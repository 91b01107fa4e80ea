"""The answer ladder and the generic relations, rung by rung, on a real instance."""
import numpy as np
import pytest

from tests.test_catalog import CATALOG, answer_json
from grader.grading.numeric import grade_numeric

EXERCISE = CATALOG["linear-bptt"]
INSTANCE = EXERCISE.instance(11)


def grade(**changes):
    answer = {**answer_json(INSTANCE.answer), **changes}
    return grade_numeric(EXERCISE, INSTANCE, {k: v for k, v in answer.items() if v is not None})


def part(report, name):
    return next(p for p in report.parts if p.name == name)


def listed(array):
    return np.asarray(array).tolist()


@pytest.mark.parametrize("value, needle", [
    (None, "is missing; expected an array of shape"),
    ("1.0", "got a string"),
    ([[1.0, "2"]], "must be a number or nested lists"),
    ([[1.0, 2.0], [3.0]], "ragged"),
    ([[True]], "must be a number or nested lists"),
    ({"a": 1}, "got an object"),
    ([[1.0, 2.0]], "has shape (1, 2); expected"),
    ([[1.0, True]], "must be a number or nested lists"),
    ([[10 ** 400]], "too large for a float64"),
], ids=["missing", "string", "string-leaf", "ragged", "boolean", "object", "wrong-shape", "boolean-among-numbers",
        "huge-integer"])
def test_ladder_rungs_make_the_answer_invalid(value, needle):
    report = grade(dW_hh=value)
    assert report.verdict == "invalid" and report.score == 0.0
    (failing,) = report.parts
    assert failing.name == "dW_hh" and needle in failing.message


def test_extra_fields_are_named():
    report = grade(dW_xh=[[0.0]])
    assert report.verdict == "invalid"
    assert "Unknown answer field(s) 'dW_xh'" in report.parts[0].message


def test_transposed_shape_is_a_convention_mismatch():
    report = grade(dW_hx=listed(INSTANCE.answer["dW_hx"].T))
    wrong = part(report, "dW_hx")
    assert wrong.verdict == "incorrect" and wrong.misconceptions == ("transposed-convention",)
    assert "transposed shape" in wrong.message
    assert report.verdict == "partially_correct"


def test_square_transpose_is_a_convention_mismatch():
    wrong = part(grade(dW_hh=listed(INSTANCE.answer["dW_hh"].T)), "dW_hh")
    assert wrong.misconceptions == ("transposed-convention",)


@pytest.mark.parametrize("factor, name", [(-1.0, "sign flipped"), (2.5, "2.5 times")])
def test_generic_scale_and_sign(factor, name):
    wrong = part(grade(dW_hx=listed(factor * INSTANCE.answer["dW_hx"])), "dW_hx")
    assert wrong.misconceptions == () and wrong.relation.factor == pytest.approx(factor)
    assert name in wrong.message


def test_a_factor_of_T_is_the_missing_mean():
    T = INSTANCE.params["X"].shape[0]
    wrong = part(grade(dW_hx=listed(T * INSTANCE.answer["dW_hx"])), "dW_hx")
    assert wrong.misconceptions == ("missing-mean-over-time",)


def test_a_factor_no_variant_explains_is_named_from_the_sizes():
    exercise = CATALOG["tanh-rnn-bptt"]
    instance = exercise.instance(3)
    T, B = instance.params["Y"].shape
    answer = answer_json(instance.answer)
    answer["db_q"] = listed(T * B * instance.answer["db_q"])
    wrong = part(grade_numeric(exercise, instance, answer), "db_q")
    assert wrong.misconceptions == () and "(= B*T)" in wrong.message


def test_time_reversal_is_named():
    wrong = part(grade(dL_dh=listed(INSTANCE.answer["dL_dh"][::-1])), "dL_dh")
    assert wrong.relation.kind == "time-reversed"


def test_error_confined_to_a_range_of_steps():
    dL_dh = INSTANCE.answer["dL_dh"].copy()
    dL_dh[:2] *= 1.5
    wrong = part(grade(dL_dh=listed(dL_dh)), "dL_dh")
    assert wrong.relation.kind == "time-range" and wrong.relation.time_steps == (1, 2)
    assert wrong.location.time_step in (1, 2)


def test_tolerance_edges():
    """rtol is 1e-8: a relative perturbation of 1e-10 passes, 1e-6 fails."""
    W = INSTANCE.answer["dW_hh"]
    u = np.random.default_rng(0).standard_normal(W.shape)
    u *= np.linalg.norm(W) / np.linalg.norm(u)
    assert part(grade(dW_hh=listed(W + 1e-10 * u)), "dW_hh").verdict == "correct"
    assert part(grade(dW_hh=listed(W + 1e-6 * u)), "dW_hh").verdict == "incorrect"


def test_scalars_are_accepted_for_zero_dimensional_parts():
    exercise = CATALOG["hidden-state-gradient"]
    instance = exercise.instance(0)
    report = grade_numeric(exercise, instance, {"dL_dh_t": 1.0, "coefficients": answer_json(instance.answer)["coefficients"]})
    assert report.verdict == "invalid" and "shape" in report.parts[0].message


def test_time_steps_count_from_the_parts_origin():
    """coefficients[k] belongs to output s = t + k: locations and ranges name s, not k + 1."""
    exercise = CATALOG["hidden-state-gradient"]
    instance = exercise.instance(2)
    t = instance.params["t"]
    coefficients = instance.answer["coefficients"].copy()
    coefficients[1] *= 3.0
    report = grade_numeric(exercise, instance, {"dL_dh_t": listed(instance.answer["dL_dh_t"]),
                                                "coefficients": listed(coefficients)})
    wrong = part(report, "coefficients")
    assert wrong.location.time_step == t + 1
    assert wrong.relation.time_steps == (t + 1, t + 1)


REMEDIES = CATALOG["exploding-gradient-remedies"]
REMEDY_INSTANCE = REMEDIES.instance(0)
RIGHT = sorted(o["id"] for o in REMEDIES.part("remedies").options if o["correct"])


@pytest.mark.parametrize("picked, score, verdict", [
    (RIGHT, 0.6, "correct"),
    (RIGHT[:3], 0.3, "partially_correct"),
    (RIGHT + ["larger-learning-rate"], 0.5, "partially_correct"),
    (RIGHT[:1] + ["larger-learning-rate", "longer-sequences"], 0.0, "incorrect"),
    ([], 0.0, "incorrect"),
], ids=["all-right", "half", "one-distractor", "more-wrong-than-right", "none"])
def test_multi_select_partial_credit(picked, score, verdict):
    answer = {**answer_json(REMEDY_INSTANCE.answer), "remedies": picked}
    remedies = part(grade_numeric(REMEDIES, REMEDY_INSTANCE, answer), "remedies")
    assert remedies.score == pytest.approx(score) and remedies.verdict == verdict
    if "larger-learning-rate" in picked:
        assert "'larger-learning-rate' does not help" in remedies.message


@pytest.mark.parametrize("value, needle", [(["nope"], "unknown option(s)"), (["gated-units"] * 2, "twice"),
                                           ("gated-units", "list of option ids")])
def test_multi_select_ladder(value, needle):
    report = grade_numeric(REMEDIES, REMEDY_INSTANCE, {**answer_json(REMEDY_INSTANCE.answer), "remedies": value})
    assert report.verdict == "invalid" and needle in report.parts[0].message


def test_the_right_options_are_never_sent(client, alice, fetch_instance):
    detail = client.get("/api/v1/exercises/exploding-gradient-remedies").get_data(as_text=True)
    instance = client.post("/api/v1/exercises/exploding-gradient-remedies/instances", json={},
                           headers=alice).get_data(as_text=True)
    for text in (detail, instance):
        assert '"correct"' not in text and '"why"' not in text and "gated-units" in text


@pytest.mark.parametrize("value, verdict", [(7, "correct"), (7.0, "correct"), (8, "incorrect")])
def test_integer_parts_are_exact(value, verdict):
    exercise = CATALOG["power-iteration-alignment"]
    instance = exercise.instance(0)
    k_min = int(instance.answer["k_min"])
    answer = {**answer_json(instance.answer), "k_min": value - 7 + k_min}
    assert part(grade_numeric(exercise, instance, answer), "k_min").verdict == verdict


def test_integer_and_label_ladders():
    exercise = CATALOG["gradient-norm-profile"]
    instance = exercise.instance(0)
    report = grade_numeric(exercise, instance, {**answer_json(instance.answer), "regime": "exploded"})
    assert report.verdict == "invalid" and "must be one of" in report.parts[0].message
    other = CATALOG["power-iteration-alignment"]
    report = grade_numeric(other, other.instance(0), {**answer_json(other.instance(0).answer), "k_min": 2.5})
    assert report.verdict == "invalid" and "must be an integer" in report.parts[0].message


def test_a_narrower_explanation_gives_way_to_a_wider_one():
    """Clipping each tensor and clamping by value both leave a small tensor alone; the report names
    the mistake that also explains the other parts."""
    exercise = CATALOG["gradient-clipping"]
    instance = exercise.instance(0)
    report = grade_numeric(exercise, instance, answer_json(instance.variants["clipping-per-tensor"]))
    assert [m.slug for m in report.misconceptions] == ["clipping-per-tensor"]
    assert part(report, "db_a").misconceptions == ("clipping-per-tensor",)


def test_pytorch_clipping_is_an_accepted_near_miss():
    exercise = CATALOG["gradient-clipping"]
    instance = exercise.instance(1)
    report = grade_numeric(exercise, instance, answer_json(instance.variants["clipping-torch-epsilon"]))
    assert report.verdict == "correct" and report.score == pytest.approx(1.0)
    assert [m.slug for m in report.misconceptions] == ["clipping-torch-epsilon"]
    assert "accepted" in part(report, "dW_a").message
