"""Compare one part with the reference: relative error, where it is largest, generic relations."""
from __future__ import annotations

import numpy as np

from grader.catalog.exercise import relative_error
from grader.grading.report import Location, Relation

RELATION_RTOL = 1e-6  # how closely a wrong part must follow a relation to be named by it


def locate(*, expected: np.ndarray, actual: np.ndarray, time_axis: int | None, first_step: int = 1) -> Location:
    """Index of the largest absolute difference, with its time step when the part has a time axis
    (first_step is the time step of index 0 along that axis)."""
    if expected.ndim == 0:
        return Location(index=())
    index = tuple(int(i) for i in np.unravel_index(np.argmax(np.abs(actual - expected)), expected.shape))
    return Location(index=index, time_step=None if time_axis is None else index[time_axis] + first_step)


def find_relation(*, expected: np.ndarray, actual: np.ndarray, rtol: float, scales: dict[str, float],
                  time_axis: int | None, first_step: int = 1) -> Relation | None:
    """Name how a wrong part relates to the reference, when it does in a simple way."""
    return (_scale(expected, actual, scales) or _time_reversed(expected, actual, time_axis)
            or _confined(expected, actual, rtol, time_axis, first_step))


def _scale(expected, actual, scales):
    denominator = float(np.sum(expected * expected))
    if denominator == 0.0:
        return None
    factor = float(np.sum(actual * expected)) / denominator
    if not np.isfinite(factor):  # an overflowing answer: no factor worth naming
        return None
    if abs(factor - 1.0) <= RELATION_RTOL or relative_error(factor * expected, actual) > RELATION_RTOL:
        return None
    if abs(factor + 1.0) <= RELATION_RTOL:
        return Relation(kind="sign", factor=-1.0, detail="It is the reference with the sign flipped.")
    name = _name_factor(factor, scales)
    shown = f"{factor:.2g}" + (f" (= {name})" if name else "")  # 2 digits: no oracle
    return Relation(kind="scale", factor=factor, detail=f"It is {shown} times the reference.")


def _name_factor(factor, scales):
    candidates = {}
    for name, value in scales.items():
        candidates[name] = value
        candidates[f"1/{name}"] = 1.0 / value
        candidates[f"-{name}"] = -value
    for a, b in ((a, b) for a in scales for b in scales if a < b):
        candidates[f"{a}*{b}"] = scales[a] * scales[b]
        candidates[f"1/({a}*{b})"] = 1.0 / (scales[a] * scales[b])
    for name, value in candidates.items():
        if abs(factor - value) <= RELATION_RTOL * abs(value):
            return name
    return None


def _time_reversed(expected, actual, time_axis):
    if time_axis is None or expected.shape[time_axis] < 2:
        return None
    if relative_error(np.flip(actual, axis=time_axis), expected) <= RELATION_RTOL:
        return Relation(kind="time-reversed", detail="It is the reference with the time steps in reverse order.")
    return None


def _confined(expected, actual, rtol, time_axis, first_step):
    if time_axis is None:
        return None
    steps = np.moveaxis(actual - expected, time_axis, 0).reshape(expected.shape[time_axis], -1)
    scale = max(float(np.linalg.norm(expected)), 1e-300)
    wrong = np.flatnonzero(np.linalg.norm(steps, axis=1) > rtol * scale)
    if wrong.size == 0 or wrong.size == expected.shape[time_axis]:
        return None
    first, last = int(wrong[0]) + first_step, int(wrong[-1]) + first_step
    where = f"time step {first}" if first == last else f"time steps {first} to {last}"
    return Relation(kind="time-range", time_steps=(first, last),
                    detail=f"The difference is confined to {where}; the other steps are right.")
