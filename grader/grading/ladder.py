"""The answer ladder: present, numeric, rectangular, shape, finite. The first failing rung wins."""
from __future__ import annotations

from dataclasses import dataclass
import itertools
import math
from numbers import Real

import numpy as np


@dataclass(frozen=True)
class Rung:
    """The outcome of the ladder for one field: an array, or the message of the failing rung.

    transposed is True when the array came in with its last two axes swapped (another convention).
    """

    array: np.ndarray | None = None
    problem: str | None = None
    transposed: bool = False


def climb(name: str, value, expected_shape: tuple[int, ...]) -> Rung:
    """Check one submitted field against the shape it must have."""
    array = _numbers(value)
    shape = array.shape if array is not None else _shape_of(value)
    if shape is None:
        return Rung(problem=f"{name} must be a number or nested lists of numbers of shape "
                            f"{fmt_shape(expected_shape)}; got {_describe(value)}.")
    if shape == "ragged":
        return Rung(problem=f"{name} is a ragged nested list; expected a rectangular array of shape "
                            f"{fmt_shape(expected_shape)}.")
    if array is None:
        try:
            array = np.asarray(value, dtype=np.float64)
        except OverflowError:
            return Rung(problem=f"{name} contains a number too large for a float64.")
    if not np.isfinite(array).all():
        return Rung(problem=f"{name} contains NaN or infinite values.")
    if shape == expected_shape:
        return Rung(array=array)
    if len(shape) >= 2 and shape[:-2] + shape[:-3:-1] == expected_shape:
        return Rung(array=np.swapaxes(array, -1, -2), transposed=True)
    return Rung(problem=f"{name} has shape {fmt_shape(shape)}; expected {fmt_shape(expected_shape)}.")


def _numbers(value):
    """The float64 array of a rectangular nested list of numbers, built by numpy in C, or None (then
    the slow walk names what is wrong). numpy would read true as 1: booleans are looked for apart."""
    if not isinstance(value, list):
        return None
    try:
        array = np.asarray(value)
    except (ValueError, TypeError, OverflowError):  # ragged, or not numbers: the slow walk says which
        return None
    if array.dtype.kind not in "fiu" or array.ndim > MAX_DEPTH:
        return None
    flat = value
    for _ in range(array.ndim - 1):
        flat = itertools.chain.from_iterable(flat)
    if bool in set(map(type, flat)):  # the types of the leaves, collected in C
        return None
    return array.astype(np.float64)


MAX_DEPTH = 16  # answers are arrays of a few dimensions; deeper nesting is refused, not recursed into


def _shape_of(value, depth=0):
    """The shape of a nested list of real numbers, 'ragged', or None if a leaf is not a number."""
    if depth > MAX_DEPTH or isinstance(value, bool):
        return None
    if isinstance(value, Real):
        return ()
    if not isinstance(value, list) or not value:
        return None if not isinstance(value, list) else (0,)
    shapes = [_shape_of(item, depth + 1) for item in value]
    if any(s is None for s in shapes):
        return None
    if any(s == "ragged" or s != shapes[0] for s in shapes):
        return "ragged"
    return (len(value),) + shapes[0]


def _describe(value) -> str:
    if isinstance(value, list):
        return "a list containing something other than numbers"
    return {str: "a string", bool: "a boolean", dict: "an object", type(None): "null"}.get(
        type(value), type(value).__name__)


def fmt_shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"



def read_integer(name: str, value) -> Rung:
    """An exact integer part: a JSON integer (or a float with an integral value)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return Rung(problem=f"{name} must be an integer; got {_describe(value)}.")
    if not math.isfinite(value) or abs(value) >= 2 ** 53 or float(value) != int(value):
        # not echoed: from a code job it could carry hidden inputs or chosen digits
        return Rung(problem=f"{name} must be an integer of at most 15 digits; got another number.")
    return Rung(array=int(value))


def read_label(name: str, value, labels) -> Rung:
    if not isinstance(value, str) or value not in labels:
        return Rung(problem=f"{name} must be one of {', '.join(map(repr, labels))}.")
    return Rung(array=value)


def read_choices(name: str, value, options) -> Rung:
    """A multi-select part: a list of distinct option ids."""
    ids = [o["id"] for o in options]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return Rung(problem=f"{name} must be a list of option ids, e.g. [{ids[0]!r}].")
    unknown = set(value) - set(ids)
    if unknown:  # not echoed: in a code submission they are the job's text
        return Rung(problem=f"{name} names {len(unknown)} unknown option(s); the options are {ids}.")
    if len(set(value)) != len(value):
        return Rung(problem=f"{name} lists an option twice.")
    return Rung(array=frozenset(value))
