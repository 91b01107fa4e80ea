"""The mistakes the catalog lists but the grader did not name (issue 16), each on a real instance,
and the self-test checks that find such gaps."""
import dataclasses
import types

import numpy as np
import pytest

from grader.catalog import selftest
from grader.catalog.exercise import Exercise
from grader.grading.numeric import grade_numeric
from grader.reference import truncation
from tests.test_catalog import CATALOG, answer_json

DIAGNOSIS_RTOL = 1e-6


def slugs_of(report):
    return [m.slug for m in report.misconceptions]


def first_instance(exercise_id, accept):
    exercise = CATALOG[exercise_id]
    return exercise, next(exercise.instance(seed) for seed in range(200) if accept(exercise.instance(seed)))


def test_ascending_signed_order_is_named_and_kept_away_from_the_answer():
    exercise = CATALOG["matrix-power-eigenvalues"]
    for seed in range(40):
        instance = exercise.instance(seed)
        ascending = np.sort(np.linalg.eigvalsh(instance.params["M"]) ** instance.params["k"])
        # the generator keeps the older edition's order 1e-3 (element-wise) from the answer
        assert exercise.part("eigenvalues").distance(ascending, instance.answer["eigenvalues"]) >= 1e-3, seed
    report = grade_numeric(exercise, instance, {"eigenvalues": ascending.tolist()})
    assert slugs_of(report) == ["eigen-sorted-by-value"]
    assert "ascending" in report.misconceptions[0].message


def test_the_generator_rejects_a_matrix_whose_ascending_order_is_the_answer():
    exercise = CATALOG["matrix-power-eigenvalues"]
    M = np.diag([-1.2, -0.8, 0.4])  # odd k: values -1.728, -0.512, 0.064, by modulus = ascending
    params = {"M": M, "k": 3}
    assert "eigen-sorted-by-value/ascending" in exercise.hidden_variants(exercise.solve(params),
                                                                        exercise.variants_for(params))


def test_tanh_applied_to_the_state_is_named_as_the_derivative_of_the_wrong_quantity():
    exercise = CATALOG["tanh-rnn-bptt"]
    instance = exercise.instance(3)
    variant = instance.variants["tanh-derivative-of-preactivation/tanh-of-state"]
    report = grade_numeric(exercise, instance, answer_json(variant))
    assert slugs_of(report) == ["tanh-derivative-of-preactivation"]
    assert report.verdict in ("incorrect", "partially_correct")


def test_chunk_boundaries_one_step_early_start_at_1_3_6_for_T_8_tau_3():
    """The variant cuts before 1-based steps 3 and 6: the same as a hand-made loss with those chunks."""
    rng = np.random.default_rng(4)
    T, B, d, h, q = 8, 2, 3, 4, 4
    args = {"W_xh": rng.standard_normal((d, h)) / 2, "W_hh": rng.standard_normal((h, h)) / 2,
            "b_h": rng.standard_normal(h) / 10, "W_hq": rng.standard_normal((h, q)) / 2,
            "b_q": rng.standard_normal(q) / 10, "X": rng.standard_normal((T, B, d)),
            "H0": rng.standard_normal((B, h)) / 2, "Y": rng.integers(0, q, size=(T, B))}
    shifted = truncation.chunked_bptt(**args, tau=3, shift=1)
    # chunks of lengths 2, 3, 3 = chunked with tau 3 after the first two steps: compare dW_xh by
    # splitting the sequence at the shifted boundaries and summing chunk-wise gradients of full BPTT
    from grader.reference.tanh_rnn import tanh_bptt, tanh_forward
    H_prev = tanh_forward(*(args[k] for k in ("W_xh", "W_hh", "b_h", "W_hq", "b_q", "X", "H0"))).H_prev
    total = np.zeros((d, h))
    for start, stop in ((0, 2), (2, 5), (5, 8)):
        piece = tanh_bptt(args["W_xh"], args["W_hh"], args["b_h"], args["W_hq"], args["b_q"], args["X"][start:stop],
                          H_prev[start], args["Y"][start:stop])
        total += piece["dW_xh"] * (stop - start) / T  # each piece's mean runs over its own steps
    assert np.linalg.norm(shifted["dW_xh"] - total) <= 1e-12 * np.linalg.norm(total)


def test_shifted_chunks_are_named_on_chunked_instances_and_absent_on_sliding_ones():
    exercise, chunked = first_instance("truncated-bptt", lambda i: i.params["mode"] == "chunked")
    report = grade_numeric(exercise, chunked, answer_json(chunked.variants["truncation-off-by-one/shifted-chunks"]))
    assert slugs_of(report) == ["truncation-off-by-one"]
    _, sliding = first_instance("truncated-bptt", lambda i: i.params["mode"] == "sliding")
    assert "truncation-off-by-one/shifted-chunks" not in sliding.variants


def test_keeping_with_one_minus_pi_and_weighting_one_over_pi_is_biased_and_named():
    exercise = CATALOG["randomized-truncation"]
    for seed in range(12):
        instance = exercise.instance(seed)
        variant = instance.variants["randomized-pi-swapped/keep-probability"]
        samples = variant["samples"].samples
        # its samples fail the unbiasedness test by far (the generator keeps 10 standard errors)
        assert abs(instance.answer["samples"].z(samples)) >= 10 - 4, seed
        report = grade_numeric(exercise, instance, answer_json(variant))
        assert slugs_of(report) == ["randomized-pi-swapped"], seed
        assert next(p for p in report.parts if p.name == "samples").verdict == "incorrect"


@pytest.mark.parametrize("exercise_id", ["truncated-bptt", "minibatch-detach", "forward-mode-recursion"])
def test_no_instance_has_d_equal_to_h(exercise_id):
    exercise = CATALOG[exercise_id]
    for seed in range(40):
        assert selftest.check_guarantees(exercise, seed) == [], seed


def test_minibatch_detach_says_which_edition_it_grades():
    exercise = CATALOG["minibatch-detach"]
    assert "0.17" in exercise.info["section"] and "not d2l 1.0 §9.5" in exercise.info["section"]
    assert "Which edition" in exercise.statement and "d2l 1.0 §9.5" in exercise.statement


def without_variant(exercise: Exercise, key: str) -> Exercise:
    """The same folder with one variant removed, as today's main had it."""
    module = types.SimpleNamespace(generate=exercise._generate, solve=exercise._solve, gradient_checks=exercise.gradient_checks,
                                   VARIANTS={k: v for k, v in exercise._variants.items() if k != key})
    return Exercise(exercise.info, module, exercise.statement, exercise.starter,
                    tuple(exercise.misconceptions.values()), exercise.fallbacks)


@pytest.mark.parametrize("exercise_id, key", [
    ("tanh-rnn-bptt", "tanh-derivative-of-preactivation/tanh-of-state"),
    ("truncated-bptt", "truncation-off-by-one/shifted-chunks"),
    ("randomized-truncation", "randomized-pi-swapped/keep-probability"),
    ("matrix-power-eigenvalues", "eigen-sorted-by-value/ascending"),
])
def test_the_forms_check_finds_a_listed_form_without_a_variant(exercise_id, key):
    failures = selftest.check_forms(without_variant(CATALOG[exercise_id], key))
    assert [f.check for f in failures] == ["forms"] and key in failures[0].detail


def test_an_exempted_form_needs_no_variant_and_every_other_listed_form_has_one():
    for exercise in CATALOG.values():
        assert selftest.check_forms(exercise) == [], exercise.id
    info = CATALOG["tanh-rnn-bptt"].misconception("tanh-derivative-wrong-step")
    assert dict(info.forms_exempt)["next-step"] and "next-step" in info.forms


def test_the_guarantee_check_finds_d_equal_to_h():
    exercise = CATALOG["truncated-bptt"]
    square = dataclasses.replace(exercise.instance(0), params={**exercise.instance(0).params,
                                                               "W_xh": np.ones((4, 4))})
    exercise_view = types.SimpleNamespace(instance=lambda seed: square)
    assert [f.check for f in selftest.check_guarantees(exercise_view, 0)] == ["guarantees"]


@pytest.mark.parametrize("mode", ["sliding", "chunked"])
def test_shifted_chunks_in_code_are_named_whatever_modes_the_hidden_instances_ask(app, zygote, mode):
    """Both regular instances slide (the slip cannot show there: named from the chunked edge case),
    or both are chunked; never graded correct."""
    from grader import codegrading
    from tests.test_catalog import with_mistake
    exercise = CATALOG["truncated-bptt"]
    seeds = [s for s in range(200) if exercise.instance(s).params["mode"] == mode][:2]
    source = with_mistake(exercise, "truncation-off-by-one/shifted-chunks")
    report = codegrading.grade_code_submission(app.extensions["grader.context"], exercise, source, seeds)
    assert [m.slug for m in report.misconceptions] == ["truncation-off-by-one"]
    assert report.verdict in ("partially_correct", "incorrect")
