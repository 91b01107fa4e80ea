"""Float32 answers: right to float32 precision (PyTorch's default dtype) is not a misconception.

An answer part is *float32-valued* when every entry is a float32 number (a float32 tensor or array
sent as JSON, or its shortest float32 decimal); it is right to float32 precision when it is
float32-valued and within the part's float32_rtol of the reference. float32_rtol is at most 1e-4,
ten times below the 1e-3 by which every catalogued mistake differs on every generated instance.
"""
from __future__ import annotations

import numpy as np

from grader.grading.report import Relation

FLOAT32_SLUG = "float32-precision"
FLOAT32_EQUATION = "float64 throughout (conventions)"
FLOAT32_MESSAGE = ("The math is right, but the numbers were computed in float32 (PyTorch's default dtype) and "
                   "this part is checked to float64 precision. Compute in float64: torch.float64 tensors "
                   "(torch.set_default_dtype(torch.float64), or .double() on every tensor) in PyTorch, "
                   "dtype=np.float64 in numpy, and send the values without converting them to float32.")
FLOAT32_HINT = ("Only the precision is off: recompute in float64 (torch.float64 or .double() in PyTorch, "
                "np.float64 in numpy) and submit again; the derivation itself is right.")


def float32_valued(array: np.ndarray) -> bool:
    """True when every entry is a float32 number, sent exactly or as its shortest float32 decimal.

    Short decimals (0.1, 2.5) are both; a computed float64 value has 16-17 digits and is not.
    """
    with np.errstate(over="ignore"):  # beyond float32's range: not a float32 number, no warning
        single = np.asarray(array, dtype=np.float64).astype(np.float32)
    if not np.all(np.isfinite(single)):
        return False
    if np.array_equal(single.astype(np.float64), array):
        return True
    return all(float(str(float32)) == value for float32, value in zip(single.ravel(), np.ravel(array)))


def within_float32(part, *, error: float, actual: np.ndarray) -> bool:
    """A float32-valued answer within the part's float32 tolerance of the reference (`error`: its
    distance, already computed by the caller; the cheap test first, the value scan only if it passes)."""
    return error <= part.float32_rtol and float32_valued(actual)


def precision_relation(part, error: float):
    """For an answer within float32_rtol that is not float32-valued (float32 inputs summed into
    float64 arrays, say): not credited, not named, but said to be a precision issue, not a math error."""
    if error is None or not error <= part.float32_rtol:  # None or NaN: not comparable
        return None
    return Relation(kind="precision", detail=(
        f"It is within {part.float32_rtol:g} of the reference, as float32 work is: a precision issue, not a "
        f"math error. Compute in float64 throughout (float32 inputs lose these digits even when the sums are "
        f"float64)."))


def credited_message(name: str, error: float, rtol: float) -> str:
    return (f"{name} is accepted: right to float32 precision (relative error {error:.1e}; the float64 "
            f"tolerance is {rtol:.0e}). Compute in float64 to match the reference exactly.")


def withheld_message(name: str, error: float, rtol: float) -> str:
    return (f"{name} is right to float32 precision (relative error {error:.1e}) but not to the float64 "
            f"tolerance {rtol:.0e} this assignment requires: recompute in float64 (torch.float64 or "
            f".double() in PyTorch, np.float64 in numpy).")
