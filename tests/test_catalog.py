"""Every exercise proves itself: auto-enrolled over the real catalog, nothing to add per exercise."""
from pathlib import Path

import numpy as np
import pytest

from grader import tokens
from grader.catalog import load_catalog, selftest
from grader.catalog.exercise import ARRAY, slug_of
from grader.config import DefaultConfig

CATALOG = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS], Path(DefaultConfig.MISCONCEPTION_SLUGS))
EXERCISES = list(CATALOG.values())
SEEDS = range(12)
answer_json = selftest.to_json


def by_id(exercise):
    return exercise.id


def failures_text(failures):
    return "\n".join(f"{f.check}: {f.detail}" for f in failures)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_passes_its_gradient_checks(exercise, seed):
    failures = selftest.check_gradients(exercise, seed)
    assert not failures, failures_text(failures)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
@pytest.mark.parametrize("seed", SEEDS)
def test_reference_correct_starter_not_each_mistake_named_alone(exercise, seed):
    failures = selftest.check_grading(exercise, seed)
    assert not failures, failures_text(failures)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_float32_answers_are_named_float32_precision_and_credited(exercise, seed):
    """The reference rounded to float32 and recomputed from float32 inputs: credited and named
    float32-precision alone; each mistake computed in float32 still named by its slug."""
    failures = selftest.check_float32(exercise, seed)
    assert not failures, failures_text(failures)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_generator_is_deterministic_per_seed(exercise):
    failures = selftest.check_determinism(exercise)
    assert not failures, failures_text(failures)


def instance_seed(instance):
    return tokens.verify("test-secret", instance["token"], learner=instance["learner"], max_age=3600).seed


def params_of(exercise, instance):
    return exercise.instance(instance_seed(instance)).params


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_reference_is_graded_correct_through_http(exercise, client, alice, fetch_instance, submit):
    instance = fetch_instance(exercise.id, alice)
    response = submit(instance, exercise.solve(params_of(exercise, instance)), alice)
    assert response.status_code == 201
    assert response.json["verdict"] == "correct"
    assert response.json["score"] == pytest.approx(exercise.max_score, abs=1e-12)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_instance_params_round_trip_through_json(exercise, alice, fetch_instance):
    """What the learner receives is exactly what the grader generated."""
    instance = fetch_instance(exercise.id, alice)
    for name, value in params_of(exercise, instance).items():
        assert np.asarray(instance["params"][name]).tobytes() == np.asarray(value).tobytes(), name


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_starter_and_blank_answer_are_not_correct_through_http(exercise, client, alice, fetch_instance, submit):
    instance = fetch_instance(exercise.id, alice)
    params = params_of(exercise, instance)
    for answer in (selftest.run_starter(exercise, params), selftest.blank_answer(exercise, exercise.solve(params))):
        response = submit(instance, answer, alice)
        assert response.status_code == 201
        assert response.json["verdict"] != "correct"


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_each_misconception_is_diagnosed_through_http(exercise, client, alice, fetch_instance, submit):
    instance = fetch_instance(exercise.id, alice, attempt=3)
    graded = exercise.instance(instance_seed(instance))
    for key, variant in graded.variants.items():
        report = submit(instance, variant, alice).json
        assert [m["slug"] for m in report["misconceptions"]] == [slug_of(key)], key
        if not exercise.misconception(slug_of(key)).accepted:
            assert report["verdict"] in ("incorrect", "partially_correct"), key
            assert report["hints"], key


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_generator_honours_the_catalog_guarantees(exercise):
    """Non-symmetric W_hh, non-zero initial state, bounded growth, d != h (EXERCISES.md)."""
    failures = [f for seed in SEEDS for f in selftest.check_guarantees(exercise, seed)]
    assert not failures, failures_text(failures)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_every_listed_form_of_a_mistake_is_a_variant(exercise):
    failures = selftest.check_forms(exercise)
    assert not failures, failures_text(failures)


@pytest.mark.parametrize("exercise", EXERCISES, ids=by_id)
def test_hints_never_contain_the_answer(exercise):
    correct_options = {o["id"] for p in exercise.parts for o in p.options if o["correct"]}
    for hint in exercise.hints:
        assert not any(option in hint for option in correct_options)
    for seed in range(3):
        for part in exercise.parts:
            value = exercise.instance(seed).answer[part.name]
            if part.kind == ARRAY and np.size(value) == 1:
                assert f"{float(np.ravel(value)[0]):.4g}" not in " ".join(exercise.hints)


def test_a_symmetric_w_hh_would_hide_the_missing_transpose():
    """The discrimination check is what rejects instances on which a mistake cannot show."""
    exercise = CATALOG["linear-bptt"]
    params = exercise.instance(0).params
    W = params["W_hh"]
    symmetric = {**params, "W_hh": (W + W.T) / 2}
    answer = exercise.solve(symmetric)
    assert "missing-transpose-in-recurrence" in exercise.hidden_variants(answer, exercise.variants_for(symmetric))


CODE_EXERCISES = [e for e in EXERCISES if "code" in e.info["kinds"]]


def with_mistake(exercise, key, source=None):
    source = source or exercise.solution
    assert "MISTAKE = None" in source
    return source.replace("MISTAKE = None", f"MISTAKE = {key!r}")


@pytest.mark.parametrize("exercise", CODE_EXERCISES, ids=by_id)
def test_code_reference_and_each_mistake_through_the_sandbox(exercise, zygote, alice, submit_code):
    report = submit_code(exercise.id, exercise.solution, alice).json
    assert report["verdict"] == "correct", report
    assert len(report["instances"]) >= 4 and any(i["kind"] == "edge" for i in report["instances"])
    for key in exercise.variant_keys():
        report = submit_code(exercise.id, with_mistake(exercise, key), alice).json
        assert [m["slug"] for m in report["misconceptions"]] == [slug_of(key)], (key, report["message"])
        accepted = exercise.misconception(slug_of(key)).accepted
        assert (report["verdict"] == "correct") == accepted, key


@pytest.mark.parametrize("exercise", CODE_EXERCISES, ids=by_id)
def test_code_starter_is_not_correct(exercise, zygote, alice, submit_code):
    report = submit_code(exercise.id, exercise.starter, alice).json
    assert report["verdict"] in ("incorrect", "partially_correct")


@pytest.mark.parametrize("exercise", CODE_EXERCISES, ids=by_id)
def test_torch_twin_and_each_mistake_through_the_sandbox(exercise, zygote, alice, submit_code):
    """solution_torch.py, the PyTorch twin, is graded correct, and each of its mistakes is named alone."""
    assert exercise.torch_solution, f"{exercise.id} has no solution_torch.py"
    report = submit_code(exercise.id, exercise.torch_solution, alice).json
    assert report["verdict"] == "correct", report
    for key in exercise.variant_keys():
        report = submit_code(exercise.id, with_mistake(exercise, key, exercise.torch_solution), alice).json
        assert [m["slug"] for m in report["misconceptions"]] == [slug_of(key)], (key, report["message"])
        assert (report["verdict"] == "correct") == exercise.misconception(slug_of(key)).accepted, key


@pytest.mark.parametrize("exercise", CODE_EXERCISES, ids=by_id)
def test_torch_starter_is_offered_and_not_correct(exercise, zygote, alice, submit_code):
    assert set(exercise.starters) == {"numpy", "torch"} and exercise.starters["numpy"] == exercise.starter
    report = submit_code(exercise.id, exercise.starters["torch"], alice).json
    assert report["verdict"] in ("incorrect", "partially_correct"), report["message"]
