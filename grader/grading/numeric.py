"""Grade a numeric answer for one issued instance: ladder, comparison, diagnosis, score."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from grader.catalog.exercise import ARRAY, CHOICES, INTEGER, LABEL, SAMPLES, Z_CRIT, Exercise, Instance, slug_of
from grader.grading import precision
from grader.grading.choices import grade_choices
from grader.grading.compare import find_relation, locate
from grader.grading.ladder import climb, fmt_shape, read_choices, read_integer, read_label
from grader.grading.report import MisconceptionMatch, PartResult, Report, Verdict

DIAGNOSIS_RTOL = 1e-6  # an answer this close to a variant's part is that mistake
TRANSPOSED = "transposed-convention"
UNKNOWN_SHOWN = 5  # unknown answer fields named in a report


def grade_numeric(exercise: Exercise, instance: Instance, answer: dict) -> Report:
    """Grade answer (field name -> JSON value) against the instance's reference and variants."""
    rungs = {p.name: _read(p, answer[p.name], instance.answer[p.name]) for p in exercise.parts if p.name in answer}
    invalid = _invalid_parts(exercise, instance, answer, rungs)
    if invalid:
        return Report(verdict=Verdict.INVALID, score=0.0, max_score=exercise.max_score, parts=tuple(invalid),
                      message="The answer could not be graded: fix the fields named below and submit again.")
    parts = [_grade_part(exercise, instance, p, rungs[p.name]) for p in exercise.parts]
    return assemble(exercise, parts)


def assemble(exercise: Exercise, parts: list[PartResult]) -> Report:
    """The report from graded parts: score, verdict, the misconceptions matched, hints."""
    parts = _keep_widest_explanations(parts)
    score = round(sum(p.score for p in parts), 10)
    verdict = (Verdict.CORRECT if all(p.verdict is Verdict.CORRECT for p in parts)
               else Verdict.INCORRECT if score == 0.0 else Verdict.PARTIALLY_CORRECT)
    precision_only = all(p.misconceptions == (precision.FLOAT32_SLUG,) or (p.relation and p.relation.kind == "precision")
                         for p in parts if p.verdict is not Verdict.CORRECT)
    # right math is never sent to the derivation hints
    hints = () if verdict is Verdict.CORRECT else (precision.FLOAT32_HINT,) if precision_only else exercise.hints
    return Report(verdict=verdict, score=score, max_score=exercise.max_score, parts=tuple(parts),
                  misconceptions=_collect(exercise, parts), hints=hints, message=_summary(verdict, parts))


def _read(part, value, expected):
    if part.kind == INTEGER:
        return read_integer(part.name, value)
    if part.kind == LABEL:
        return read_label(part.name, value, part.labels)
    if part.kind == CHOICES:
        return read_choices(part.name, value, part.options)
    if part.kind == SAMPLES:
        return climb(part.name, value, (expected.count,))
    return climb(part.name, value, np.shape(expected))


def _invalid_parts(exercise, instance, answer, rungs) -> list[PartResult]:
    names = [p.name for p in exercise.parts]
    unknown = sorted(set(answer) - set(names))
    invalid = []
    if unknown:  # one entry naming a handful, however many were sent: a report's size stays bounded
        shown = ", ".join(repr(name[:40]) for name in unknown[:UNKNOWN_SHOWN])
        more = f" and {len(unknown) - UNKNOWN_SHOWN} more" if len(unknown) > UNKNOWN_SHOWN else ""
        invalid.append(PartResult(name="unknown fields", verdict=Verdict.INVALID, score=0.0, max_score=0.0,
                                  message=f"Unknown answer field(s) {shown}{more}; the fields are {', '.join(names)}."))
    for part in exercise.parts:
        if part.name not in answer:
            what = (f"an array of shape {fmt_shape(np.shape(instance.answer[part.name]))}" if part.kind == ARRAY
                    else f"a {part.kind} value")
            message = f"{part.name} is missing; expected {what} ({part.description})."
        elif rungs[part.name].problem:
            message = rungs[part.name].problem
        else:
            continue
        invalid.append(PartResult(name=part.name, verdict=Verdict.INVALID, score=0.0,
                                  max_score=part.weight, message=message))
    return invalid


def _grade_part(exercise, instance, part, rung) -> PartResult:
    if part.kind == CHOICES:
        return grade_choices(part, actual=rung.array, expected=instance.answer[part.name])
    expected, actual = instance.answer[part.name], rung.array
    error = part.distance(actual, expected)
    if error <= part.rtol and not rung.transposed:
        if part.kind == SAMPLES:
            return _correct(part, error, _samples_message(part, actual, expected))
        detail = f" (relative error {error:.1e})." if part.kind == ARRAY else "."
        return _correct(part, error, f"{part.name} is correct{detail}")
    near_miss = _accepted_near_miss(exercise, instance, part, actual)
    if near_miss:
        info = exercise.misconception(near_miss)
        return _correct(part, error, f"{part.name} is accepted: it matches {info.title.lower()}.", (near_miss,))
    if part.kind == ARRAY and not rung.transposed and precision.within_float32(part, error=error, actual=actual):
        return _float32(exercise, part, error)
    slugs = _diagnose(exercise, instance, part, actual, rung.transposed)
    if part.kind == SAMPLES:
        return PartResult(name=part.name, verdict=Verdict.INCORRECT, score=0.0, max_score=part.weight,
                          misconceptions=tuple(slugs), message=_samples_message(part, actual, expected))
    if part.kind != ARRAY:
        return PartResult(name=part.name, verdict=Verdict.INCORRECT, score=0.0, max_score=part.weight,
                          misconceptions=tuple(slugs), message=f"{part.name} is not right.")
    return _wrong_array(part, instance, expected, actual, error, slugs, rung.transposed)


def _samples_message(part, samples, target) -> str:
    z = target.z(samples)
    verdict = "consistent with" if abs(z) <= Z_CRIT else "not consistent with"
    return (f"{part.name}: the mean of your {target.count} samples is {np.mean(samples):.6g}, {abs(z):.1f} "
            f"standard errors from the estimator's expectation: {verdict} an unbiased estimator "
            f"(the test rejects beyond {Z_CRIT:g} standard errors).")


def _correct(part, error, message, slugs=()) -> PartResult:
    return PartResult(name=part.name, verdict=Verdict.CORRECT, score=part.weight, max_score=part.weight,
                      relative_error=error if part.kind == ARRAY else None, misconceptions=slugs, message=message)


def _float32(exercise, part, error) -> PartResult:
    """Right to float32 precision: credited by default, withheld where the policy says so; named either way."""
    if exercise.float32_credit:
        return _correct(part, error, precision.credited_message(part.name, error, part.rtol), (precision.FLOAT32_SLUG,))
    return PartResult(name=part.name, verdict=Verdict.INCORRECT, score=0.0, max_score=part.weight,
                      relative_error=error, misconceptions=(precision.FLOAT32_SLUG,),
                      message=precision.withheld_message(part.name, error, part.rtol))


def _wrong_array(part, instance, expected, actual, error, slugs, transposed) -> PartResult:
    first_step = int(instance.params[part.time_origin]) if part.time_origin else 1
    comparable = bool(np.isfinite(error))  # huge finite answers overflow the norm: described in words
    relation = None if slugs or transposed or not comparable else precision.precision_relation(part, error)
    relation = relation or (None if slugs or not comparable else find_relation(
        expected=expected, actual=actual, rtol=part.rtol, scales=instance.scales, time_axis=part.time_axis,
        first_step=first_step))
    if comparable:
        message = f"{part.name} differs from the reference: relative error {error:.2g}."
    else:
        message = (f"{part.name} differs from the reference by more than float64 can express (the difference "
                   f"overflows), so the relative error is not comparable: check the magnitudes.")
        error = None
    location = locate(expected=expected, actual=actual, time_axis=part.time_axis, first_step=first_step)
    if transposed:
        message = (f"{part.name} has the transposed shape {fmt_shape(actual.shape[:-2] + actual.shape[:-3:-1])}"
                   f"; expected {fmt_shape(expected.shape)}. " + message)
    elif location.index:
        message += f" The largest difference is at index {list(location.index)}"
        message += f" (time step {location.time_step})." if location.time_step else "."
    if relation:
        message += " " + relation.detail
    return PartResult(name=part.name, verdict=Verdict.INCORRECT, score=0.0, max_score=part.weight,
                      relative_error=error, location=location, misconceptions=tuple(slugs),
                      relation=relation, message=message)


def _accepted_near_miss(exercise, instance, part, actual) -> str | None:
    for key, variant in instance.variants.items():
        slug = slug_of(key)
        if (slug in exercise.misconceptions and exercise.misconceptions[slug].accepted
                and part.distance(actual, variant[part.name]) <= part.rtol):
            return slug
    return None


def _diagnose(exercise, instance, part, actual, transposed) -> list[str]:
    """Slugs whose variant changes this part and matches the answer; a transpose is a convention.

    A transposed-shape answer arrives already swapped back (see ladder.climb).
    """
    expected = instance.answer[part.name]
    # a mistake computed in float32 is still that mistake
    near = max(DIAGNOSIS_RTOL, part.float32_rtol) if part.kind == ARRAY and precision.float32_valued(actual) \
        else DIAGNOSIS_RTOL
    if transposed:
        return [TRANSPOSED] if part.distance(actual, expected) <= near else []
    if part.kind == ARRAY and actual.ndim >= 2 and actual.shape[-1] == actual.shape[-2] \
            and part.distance(np.swapaxes(actual, -1, -2), expected) <= near:
        return [TRANSPOSED]
    tolerance = {ARRAY: near, SAMPLES: 1.0}.get(part.kind, 0.0)
    slugs = [slug_of(key) for key, variant in instance.variants.items()
             if part.distance(variant[part.name], expected) > 1e-12
             and part.distance(actual, variant[part.name]) <= tolerance]
    return list(dict.fromkeys(slugs))


def _keep_widest_explanations(parts: list[PartResult]) -> list[PartResult]:
    """Drop a slug whose matched parts are a strict subset of another slug's: when one part is left
    alone by two mistakes, the mistake that also explains the other parts is the one made."""
    covered: dict[str, set[str]] = {}
    for part in parts:
        for slug in part.misconceptions:
            covered.setdefault(slug, set()).add(part.name)
    narrower = {a for a in covered for b in covered if covered[a] < covered[b]}
    return [replace(p, misconceptions=tuple(s for s in p.misconceptions if s not in narrower))
            if narrower.intersection(p.misconceptions) else p for p in parts]


def _collect(exercise, parts) -> tuple[MisconceptionMatch, ...]:
    """One entry per matched slug, listing the parts it explains, in the order first met."""
    by_slug: dict[str, list[str]] = {}
    for part in parts:
        for slug in part.misconceptions:
            by_slug.setdefault(slug, []).append(part.name)
    matches = []
    for slug, names in by_slug.items():
        info = exercise.misconception(slug)
        matches.append(MisconceptionMatch(slug=slug, title=info.title, message=info.message,
                                          equation=info.equation, parts=tuple(names)))
    return tuple(matches)


def _summary(verdict, parts) -> str:
    right = sum(p.verdict is Verdict.CORRECT for p in parts)
    float32 = sum(precision.FLOAT32_SLUG in p.misconceptions for p in parts)
    note = (f" {float32} of {len(parts)} parts are right to float32 precision only: compute in float64 "
            "(torch.float64 or .double() in PyTorch, np.float64 in numpy).") if float32 else ""
    if verdict is Verdict.CORRECT:
        return "All parts are correct." + note
    return f"{right} of {len(parts)} parts are correct." + note
