"""Every exercise proves itself: auto-enrolled over the real catalog, nothing to add per exercise."""
from pathlib import Path

import numpy as np
import pytest

from grader import tokens
from grader.catalog import load_catalog
from grader.config import DefaultConfig
from grader.grading.numeric import grade_numeric

CATALOG = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS], Path(DefaultConfig.MISCONCEPTION_SLUGS))
EXERCISES = list(CATALOG.values())
SEEDS = range(12)
FD_RTOL = 1e-6  # central differences at step 1e-6 in float64: about 1e-9 relative, with margin
FD_ATOL = 1e-9


def by_id(exercise):
    return exercise.id


def answer_json(answer):
    return {name: np.asarray(value).tolist() for name, value in answer.items()}


def run_starter(exercise, params):
    namespace = {}
    exec(compile(exercise.starter, f"{exercise.id}/starter.py", "exec"), namespace)
    return namespace[exercise.info["entry_point"]](**params)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_passes_finite_differences(exercise, seed):
    instance = exercise.instance(seed)
    checks = list(exercise.gradient_checks(instance.params, instance.answer, np.random.default_rng(seed)))
    assert checks, "an exercise must check its reference"
    for label, numeric, analytic in checks:
        assert abs(numeric - analytic) <= FD_RTOL * abs(analytic) + FD_ATOL, label


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_reference_is_graded_correct_through_http(exercise, client, alice, fetch_instance, submit):
    instance = fetch_instance(exercise.id, alice)
    answer = exercise.solve(instance["arrays"])
    response = submit(instance, answer, alice)
    assert response.status_code == 201
    assert response.json["verdict"] == "correct"
    assert response.json["score"] == pytest.approx(exercise.max_score, abs=1e-12)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_starter_and_zero_answer_are_not_correct(exercise, client, alice, fetch_instance, submit):
    instance = fetch_instance(exercise.id, alice)
    starter_answer = run_starter(exercise, instance["arrays"])
    zeros = {name: np.zeros(np.shape(value)) for name, value in starter_answer.items()}
    for answer in (starter_answer, zeros):
        response = submit(instance, answer, alice)
        assert response.status_code == 201
        assert response.json["verdict"] == "incorrect"
        assert response.json["score"] == 0.0


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_each_misconception_is_diagnosed_through_http(exercise, client, alice, fetch_instance, submit):
    instance = fetch_instance(exercise.id, alice, attempt=3)
    graded = exercise.instance(instance_seed(instance))
    for slug, variant in graded.variants.items():
        report = submit(instance, variant, alice).json
        assert report["verdict"] in ("incorrect", "partially_correct"), slug
        assert [m["slug"] for m in report["misconceptions"]] == [slug]
        assert report["hints"], slug


def instance_seed(instance):
    return tokens.verify("test-secret", instance["token"], learner=instance["learner"], max_age=3600).seed


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_misconceptions_are_distinguishable_on_generated_instances(exercise):
    for seed in SEEDS:
        instance = exercise.instance(seed)
        assert exercise.hidden_variants(instance.answer, instance.variants) == []
        for slug, variant in instance.variants.items():
            report = grade_numeric(exercise, instance, answer_json(variant))
            assert [m.slug for m in report.misconceptions] == [slug], (seed, slug)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_generator_is_deterministic_per_seed(exercise):
    first = exercise.generate(np.random.default_rng([5, 0]))
    again = exercise.generate(np.random.default_rng([5, 0]))
    other = exercise.generate(np.random.default_rng([6, 0]))
    assert first.keys() == again.keys()
    for name in first:
        assert np.asarray(first[name]).tobytes() == np.asarray(again[name]).tobytes(), name
    assert any(np.shape(first[n]) != np.shape(other[n]) or np.asarray(first[n]).tobytes() != np.asarray(other[n]).tobytes()
               for n in first)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_generator_honours_the_catalog_guarantees(exercise):
    """Non-symmetric W_hh, non-zero initial state, bounded growth (EXERCISES.md)."""
    for seed in SEEDS:
        p = exercise.instance(seed).params
        if "W_hh" in p:
            W = p["W_hh"]
            assert np.linalg.norm(W - W.T) >= 1e-3 * np.linalg.norm(W), seed
            T = max(np.shape(v)[0] for k, v in p.items() if k in ("X", "dL_do"))
            assert max(abs(np.linalg.eigvals(W))) ** T <= 1e3, seed
        for name in ("h0", "H0"):
            if name in p:
                assert np.linalg.norm(p[name]) > 0.1, seed


def test_a_symmetric_w_hh_would_hide_the_missing_transpose():
    """The discrimination check is what rejects instances on which a mistake cannot show."""
    exercise = CATALOG["linear-bptt"]
    params = exercise.instance(0).params
    W = params["W_hh"]
    symmetric = {**params, "W_hh": (W + W.T) / 2}
    answer = exercise.solve(symmetric)
    variants = exercise.variants_for(symmetric)
    assert "missing-transpose-in-recurrence" in exercise.hidden_variants(answer, variants)
