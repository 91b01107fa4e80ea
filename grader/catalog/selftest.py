"""The self-test every exercise must pass; the catalog test and `flask check-exercises` run it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.catalog.exercise import ARRAY, CHOICES, INTEGER, LABEL, SAMPLES, Exercise, SampleTarget, slug_of
from grader.grading.numeric import grade_numeric
from grader.grading.precision import FLOAT32_SLUG

FD_RTOL, FD_ATOL = 1e-6, 1e-9  # central differences at step 1e-6 in float64: ~1e-9 relative, with margin


@dataclass(frozen=True)
class Failure:
    check: str
    detail: str


def to_json(answer: dict) -> dict:
    """An answer as a client sends it: arrays as nested lists, sets as sorted lists."""
    def plain(value):
        if isinstance(value, SampleTarget):
            return value.samples.tolist()
        if isinstance(value, (set, frozenset)):
            return sorted(value)
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        return value
    return {name: plain(value) for name, value in answer.items()}


def run_starter(exercise: Exercise, params: dict) -> dict:
    """Call the starter's entry point (trusted course material, run in-process)."""
    namespace: dict = {}
    exec(compile(exercise.starter, f"{exercise.id}/starter.py", "exec"), namespace)
    return namespace[exercise.info["entry_point"]](**params)


def blank_answer(exercise: Exercise, answer: dict) -> dict:
    """Zeros of the right shapes, 0 for integers, the first label, no choices."""
    blank = {}
    for part in exercise.parts:
        blank[part.name] = {ARRAY: lambda: np.zeros(np.shape(answer[part.name])), INTEGER: lambda: 0,
                            LABEL: lambda: part.labels[0], CHOICES: lambda: [],
                            SAMPLES: lambda: np.zeros(answer[part.name].count)}[part.kind]()
    return blank


def check_gradients(exercise: Exercise, seed: int) -> list[Failure]:
    instance = exercise.instance(seed)
    checks = list(exercise.gradient_checks(instance.params, instance.answer, np.random.default_rng(seed)))
    if not checks:
        return [Failure("reference", "gradient_checks yields nothing")]
    failures = []
    for label, numeric, analytic, *atol in checks:
        # a check may carry its own absolute tolerance (Monte Carlo: a few standard errors)
        tolerance = atol[0] if atol else FD_RTOL * abs(analytic) + FD_ATOL
        if not abs(numeric - analytic) <= tolerance:
            failures.append(Failure("reference", f"seed {seed}, {label}: {numeric!r} vs reference {analytic!r}"))
    return failures


def check_grading(exercise: Exercise, seed: int) -> list[Failure]:
    """Reference correct, starter and blank answers not, every variant named by its slug alone."""
    instance = exercise.instance(seed)
    failures = []
    report = grade_numeric(exercise, instance, to_json(instance.answer))
    if report.verdict != "correct":
        failures.append(Failure("reference graded", f"seed {seed}: {report.verdict}: {report.message}"))
    for name, answer in (("starter", run_starter(exercise, instance.params)),
                         ("blank answer", blank_answer(exercise, instance.answer))):
        verdict = grade_numeric(exercise, instance, to_json(answer)).verdict
        if verdict == "correct":
            failures.append(Failure(name, f"seed {seed}: the {name} is graded correct"))
    hidden = exercise.hidden_variants(instance.answer, instance.variants)
    if hidden:
        failures.append(Failure("distinguishable", f"seed {seed}: hidden variants {hidden}"))
    for key, variant in instance.variants.items():
        report = grade_numeric(exercise, instance, to_json(variant))
        slugs = [m.slug for m in report.misconceptions]
        accepted = exercise.misconception(slug_of(key)).accepted
        if slugs != [slug_of(key)] or (report.verdict == "correct") != accepted:
            failures.append(Failure("diagnosis", f"seed {seed}, variant {key}: {report.verdict}, matched {slugs}"))
    return failures


def as_float32(exercise: Exercise, answer: dict) -> dict:
    """The answer's array parts rounded to float32 (what a float32 tensor's .tolist() sends)."""
    return {name: np.asarray(value).astype(np.float32).astype(np.float64)
            if exercise.part(name).kind == ARRAY else value for name, value in answer.items()}


def float32_params(params: dict) -> dict:
    """The instance's float arrays and scalars as float32: the reference recomputed from them is a
    float32 computation wherever numpy keeps the dtype."""
    return {k: v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
            else np.float32(v) if isinstance(v, float) else v for k, v in params.items()}


def check_float32(exercise: Exercise, seed: int) -> list[Failure]:
    """The reference rounded to float32, and recomputed from float32 inputs, is named
    float32-precision and credited; every mistake computed in float32 is still named by its slug."""
    instance = exercise.instance(seed)
    failures = []
    for name, answer in (("rounded", instance.answer), ("recomputed", exercise.solve(float32_params(instance.params)))):
        report = grade_numeric(exercise, instance, to_json(as_float32(exercise, answer)))
        slugs = [m.slug for m in report.misconceptions]
        if slugs != [FLOAT32_SLUG] or report.verdict != "correct":
            failures.append(Failure("float32", f"seed {seed}, {name} reference: {report.verdict}, matched {slugs}"))
    for key, variant in exercise.variants_for(float32_params(instance.params)).items():
        if variant is None:  # a form that cannot occur on this instance
            continue
        report = grade_numeric(exercise, instance, to_json(as_float32(exercise, variant)))
        slugs = [m.slug for m in report.misconceptions]
        if exercise.misconception(slug_of(key)).accepted:  # a near miss may hide in float32 noise: credited
            named = report.verdict == "correct" and set(slugs) <= {slug_of(key), FLOAT32_SLUG}
        else:
            named = slug_of(key) in slugs and report.verdict != "correct"
        if not named:
            failures.append(Failure("float32", f"seed {seed}, variant {key} in float32: {report.verdict}, "
                                               f"matched {slugs}"))
    return failures


def check_forms(exercise: Exercise) -> list[Failure]:
    """Every form of every listed mistake (misconception-forms.json, and those the exercise's own
    info.json names) is a variant `slug/form`, unless info.json exempts it with a reason; a slug with
    forms has no variant outside them. Evaluated with the others on every generated instance, each
    form is kept 1e-3 from the answer by the generator and must be named by its slug."""
    keys, failures = set(exercise.variant_keys()), []
    for slug, info in exercise.misconceptions.items():
        if not info.forms:
            continue
        exempt = dict(info.forms_exempt)
        for form in info.forms:
            if form not in exempt and f"{slug}/{form}" not in keys:
                failures.append(Failure("forms", f"{slug}: the form {form!r} has no variant {slug}/{form} "
                                                 "(or an exemption with its reason in info.json)"))
        for key in keys:
            if key.startswith(slug + "/") and key.split("/", 1)[1] not in info.forms:
                failures.append(Failure("forms", f"variant {key} is not a listed form of {slug}"))
            if key == slug:
                failures.append(Failure("forms", f"{slug} has forms {list(info.forms)}: name its variants slug/form"))
    return failures


INPUT_WEIGHTS = ("W_xh", "W_hx", "U")  # (d, h), (h, d) and forward-mode's (h, d)


def check_guarantees(exercise: Exercise, seed: int) -> list[Failure]:
    """The generator guarantees of EXERCISES.md: non-symmetric W_hh, a non-zero initial state,
    bounded growth, and d != h so that a convention slip shows in the shapes."""
    p, failures = exercise.instance(seed).params, []
    if "W_hh" in p and "X" in p:
        W = np.asarray(p["W_hh"])
        if np.linalg.norm(W - W.T) < 1e-3 * np.linalg.norm(W):
            failures.append(Failure("guarantees", f"seed {seed}: W_hh is symmetric"))
        if max(abs(np.linalg.eigvals(W))) ** np.shape(p["X"])[-3 if np.ndim(p["X"]) == 4 else 0] > 1e3:
            failures.append(Failure("guarantees", f"seed {seed}: rho(W_hh)^T exceeds 1e3"))
    for name in ("h0", "H0"):
        if name in p and np.linalg.norm(p[name]) <= 0.1:
            failures.append(Failure("guarantees", f"seed {seed}: the initial state {name} is (nearly) zero"))
    for name in INPUT_WEIGHTS:
        if name in p and np.ndim(p[name]) == 2 and np.shape(p[name])[0] == np.shape(p[name])[1]:
            failures.append(Failure("guarantees", f"seed {seed}: d = h ({name} is {np.shape(p[name])})"))
    return failures


def check_determinism(exercise: Exercise) -> list[Failure]:
    def as_bytes(params):
        return {k: np.asarray(v).tobytes() + str(np.shape(v)).encode() for k, v in params.items()}
    first = as_bytes(exercise.generate(np.random.default_rng([5, 0])))
    again = as_bytes(exercise.generate(np.random.default_rng([5, 0])))
    other = as_bytes(exercise.generate(np.random.default_rng([6, 0])))
    failures = []
    if first != again:
        failures.append(Failure("deterministic", "the same seed gave different params"))
    if first == other:
        failures.append(Failure("deterministic", "two seeds gave the same params"))
    return failures


def self_test(exercise: Exercise, seeds=range(12)) -> list[Failure]:
    """Every check on the given seeds (gradient checks on the first three)."""
    failures = check_determinism(exercise) + check_forms(exercise)
    for seed in seeds:
        if seed in list(seeds)[:3]:
            failures += check_gradients(exercise, seed)
        failures += check_grading(exercise, seed) + check_float32(exercise, seed) + check_guarantees(exercise, seed)
    return failures
