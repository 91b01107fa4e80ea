"""Grade a numeric answer for one issued instance: ladder, comparison, diagnosis, score."""
from __future__ import annotations

import numpy as np

from grader.catalog.exercise import Exercise, Instance, differs, relative_error
from grader.grading.compare import find_relation, locate
from grader.grading.ladder import climb, fmt_shape
from grader.grading.report import MisconceptionMatch, PartResult, Report, Verdict

DIAGNOSIS_RTOL = 1e-6  # an answer this close to a variant's part is that mistake
TRANSPOSED = "transposed-convention"


def grade_numeric(exercise: Exercise, instance: Instance, answer: dict) -> Report:
    """Grade answer (field name -> JSON value) against the instance's reference and variants."""
    rungs = {p.name: climb(p.name, answer[p.name], instance.answer[p.name].shape)
             for p in exercise.parts if p.name in answer}
    invalid = _invalid_parts(exercise, instance, answer, rungs)
    if invalid:
        return Report(verdict=Verdict.INVALID, score=0.0, max_score=exercise.max_score, parts=tuple(invalid),
                      message="The answer could not be graded: fix the fields named below and submit again.")
    parts = [_grade_part(exercise, instance, p, rungs[p.name]) for p in exercise.parts]
    matches = _collect(exercise, parts)
    score = round(sum(p.score for p in parts), 10)
    verdict = (Verdict.CORRECT if all(p.verdict is Verdict.CORRECT for p in parts)
               else Verdict.INCORRECT if score == 0.0 else Verdict.PARTIALLY_CORRECT)
    hints = () if verdict is Verdict.CORRECT else exercise.hints
    return Report(verdict=verdict, score=score, max_score=exercise.max_score, parts=tuple(parts),
                  misconceptions=matches, hints=hints, message=_summary(verdict, parts))


def _invalid_parts(exercise, instance, answer, rungs) -> list[PartResult]:
    names = [p.name for p in exercise.parts]
    invalid = [PartResult(name=name, verdict=Verdict.INVALID, score=0.0, max_score=0.0,
                          message=f"Unknown answer field {name!r}; the fields are {', '.join(names)}.")
               for name in sorted(set(answer) - set(names))]
    for part in exercise.parts:
        shape = fmt_shape(instance.answer[part.name].shape)
        if part.name not in answer:
            message = f"{part.name} is missing; expected an array of shape {shape} ({part.description})."
        elif rungs[part.name].problem:
            message = rungs[part.name].problem
        else:
            continue
        invalid.append(PartResult(name=part.name, verdict=Verdict.INVALID, score=0.0,
                                  max_score=part.weight, message=message))
    return invalid


def _grade_part(exercise, instance, part, rung) -> PartResult:
    expected, actual = instance.answer[part.name], rung.array
    error = relative_error(actual, expected)
    if error <= part.rtol and not rung.transposed:
        return PartResult(name=part.name, verdict=Verdict.CORRECT, score=part.weight, max_score=part.weight,
                          relative_error=error, message=f"{part.name} is correct (relative error {error:.1e}).")
    slugs = _diagnose(instance, part.name, actual, rung.transposed)
    first_step = int(instance.params[part.time_origin]) if part.time_origin else 1
    relation = None if slugs else find_relation(expected=expected, actual=actual, rtol=part.rtol,
                                                scales=instance.scales, time_axis=part.time_axis,
                                                first_step=first_step)
    message = f"{part.name} differs from the reference: relative error {error:.3g}."
    location = locate(expected=expected, actual=actual, time_axis=part.time_axis, first_step=first_step)
    if rung.transposed:
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


def _diagnose(instance, name, actual, transposed) -> list[str]:
    """Slugs whose variant changes this part and matches the answer; a transpose is a convention.

    A transposed-shape answer arrives already swapped back (see ladder.climb).
    """
    expected = instance.answer[name]
    if transposed:
        return [TRANSPOSED] if relative_error(actual, expected) <= DIAGNOSIS_RTOL else []
    square = actual.ndim >= 2 and actual.shape[-1] == actual.shape[-2]
    if square and relative_error(np.swapaxes(actual, -1, -2), expected) <= DIAGNOSIS_RTOL:
        return [TRANSPOSED]
    return [slug for slug, variant in instance.variants.items()
            if np.shape(variant[name]) == actual.shape and differs(variant[name], expected, 1e-12)
            and relative_error(actual, variant[name]) <= DIAGNOSIS_RTOL]


def _collect(exercise, parts) -> tuple[MisconceptionMatch, ...]:
    """One entry per matched slug, listing the parts it explains, in catalog order."""
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
    if verdict is Verdict.CORRECT:
        return "All parts are correct."
    return f"{right} of {len(parts)} parts are correct."
