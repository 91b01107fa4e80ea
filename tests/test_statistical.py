"""The unbiasedness test of samples parts: its false-rejection rate and its power, measured."""
import math

import numpy as np
import pytest

from grader.catalog.exercise import Z_CRIT
from tests.test_catalog import CATALOG

EXERCISE = CATALOG["randomized-truncation"]
INSTANCE = EXERCISE.instance(4)
SETS = 2000  # honest submissions simulated


def draw_sets(p, keep, weight, sets, rng):
    """sets x 4000 draws of z_T with xi_t = weight_t with probability keep_t."""
    count = INSTANCE.answer["samples"].count
    z = np.zeros((sets, count))
    for t in range(len(p["b"])):
        xi = np.where(rng.random((sets, count)) < keep[t], weight[t], 0.0)
        z = p["b"][t] + xi * p["c"][t] * z
    return z


def z_scores(samples):
    target = INSTANCE.answer["samples"]
    return (samples.mean(axis=1) - target.mean) / target.standard_error


def test_false_rejection_rate_matches_the_normal_tail():
    """At 2 standard errors the honest rejection rate is 4.55 %; at the grading threshold (4) it
    is 6.3e-5, so 2000 honest submissions see at most a couple of rejections."""
    p = INSTANCE.params
    z = z_scores(draw_sets(p, p["pi"], 1.0 / p["pi"], SETS, np.random.default_rng(2026)))
    rate_at_2 = np.mean(np.abs(z) > 2.0)
    expected_at_2 = math.erfc(2.0 / math.sqrt(2))
    assert abs(rate_at_2 - expected_at_2) <= 4 * math.sqrt(expected_at_2 * (1 - expected_at_2) / SETS)
    assert np.sum(np.abs(z) > Z_CRIT) <= 2
    assert math.erfc(Z_CRIT / math.sqrt(2)) == pytest.approx(6.3e-5, rel=0.01)


def test_an_unweighted_sampler_is_always_rejected():
    p = INSTANCE.params
    z = z_scores(draw_sets(p, p["pi"], np.ones_like(p["pi"]), 200, np.random.default_rng(7)))
    assert np.all(np.abs(z) > Z_CRIT)


def test_graded_samples_pass_and_fail_through_the_report():
    from grader.grading.numeric import grade_numeric
    from grader.catalog.selftest import to_json
    p = INSTANCE.params
    honest = draw_sets(p, p["pi"], 1.0 / p["pi"], 1, np.random.default_rng(3))[0]
    unweighted = draw_sets(p, p["pi"], np.ones_like(p["pi"]), 1, np.random.default_rng(3))[0]
    answer = to_json(INSTANCE.answer)
    good = grade_numeric(EXERCISE, INSTANCE, {**answer, "samples": honest.tolist()})
    bad = grade_numeric(EXERCISE, INSTANCE, {**answer, "samples": unweighted.tolist()})
    assert good.verdict == "correct"
    samples_part = next(part for part in bad.parts if part.name == "samples")
    assert samples_part.verdict == "incorrect" and samples_part.misconceptions == ("randomized-no-reweighting",)
    assert "not consistent with an unbiased estimator" in samples_part.message
