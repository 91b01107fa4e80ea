"""Multi-select parts: partial credit (right picks minus wrong picks) and named distractors."""
from __future__ import annotations

from grader.grading.report import PartResult, Verdict


def grade_choices(part, *, actual: frozenset, expected: frozenset) -> PartResult:
    """score = weight * max(0, (right picks - wrong picks) / number of right options)."""
    right, wrong = actual & expected, actual - expected
    fraction = max(0.0, (len(right) - len(wrong)) / len(expected))
    missed = len(expected - actual)
    if actual == expected:
        verdict = Verdict.CORRECT
    else:
        verdict = Verdict.PARTIALLY_CORRECT if fraction > 0 else Verdict.INCORRECT
    why = {o["id"]: o["why"] for o in part.options}
    lines = [f"{part.name}: {len(right)} of {len(expected)} right options chosen"
             + (f", {missed} missed." if missed else ".")]
    lines += [f"'{option}' does not help: {why[option]}" for option in sorted(wrong)]
    return PartResult(name=part.name, verdict=verdict, score=round(part.weight * fraction, 10),
                      max_score=part.weight, message=" ".join(lines))
