"""Per-time-step data for the report page's plots: relative error per step, and value profiles."""
from __future__ import annotations

import numpy as np

from grader.catalog.exercise import ARRAY


def step_errors(exercise, instance, answer: dict) -> dict[str, list[tuple[int, float]]]:
    """For every array part with a time axis: (time step, relative error of that step)."""
    out = {}
    for part in exercise.parts:
        if part.kind != ARRAY or part.time_axis is None or part.plot == "values-log" or part.name not in answer:
            continue
        expected = np.moveaxis(np.asarray(instance.answer[part.name]), part.time_axis, 0)
        try:
            actual = np.moveaxis(np.asarray(answer[part.name], dtype=float), part.time_axis, 0)
        except (TypeError, ValueError):
            continue
        if actual.shape != expected.shape:
            continue
        first = int(instance.params[part.time_origin]) if part.time_origin else 1
        rows = []
        for k in range(expected.shape[0]):
            scale = max(float(np.linalg.norm(expected[k])), 1e-300)
            rows.append((first + k, float(np.linalg.norm(actual[k] - expected[k]) / scale)))
        out[part.name] = rows
    return out


def value_profiles(exercise, instance, answer: dict) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """For parts marked "plot": "values-log": the learner's values against the reference's."""
    out = {}
    for part in exercise.parts:
        if part.plot != "values-log" or part.name not in answer:
            continue
        try:
            yours = np.asarray(answer[part.name], dtype=float).ravel()
        except (TypeError, ValueError):
            continue
        reference = np.asarray(instance.answer[part.name]).ravel()
        if yours.shape == reference.shape:
            out[part.name] = {"yours": list(enumerate(yours.tolist(), 1)),
                              "reference": list(enumerate(reference.tolist(), 1))}
    return out
