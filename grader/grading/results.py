"""The job's result document, validated by the app before anything is graded.

The document arrives from a process that ran untrusted code, which can write to the result pipe
itself: every type, shape, depth, size and count is checked here against explicit limits, and
nothing in it is ever shown to a person as text. Exceptions are described from the source the app
holds (line numbers only come from the job) and by class only when the class is one the app knows.
"""
from __future__ import annotations

import ast
import builtins
import threading
from dataclasses import dataclass
from numbers import Real

MAX_FIELDS = 64
MAX_DEPTH = 4  # the deepest answer is a 2-D array; samples are 1-D
MAX_STRING = 256
MAX_LINES = 5
MAX_INTEGER = 2 ** 63
# exception classes named in reports; anything else is "an exception of a class defined in your code"
KNOWN_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                             if isinstance(value, type) and issubclass(value, BaseException)) | {"LinAlgError"}
TOO_LARGE, TOO_MANY_FIELDS, NOT_A_DICT = "result-too-large", "too-many-fields", "not-a-dict"  # runner.py's markers
AUTOGRAD_REFUSED, TORCH_UNAVAILABLE, TORCH_UNNAMED = "autograd-refused", "torch-unavailable", "torch-unnamed"
TORCH_PART = "torch-part-unavailable"
MARKERS = (TOO_LARGE, TOO_MANY_FIELDS, NOT_A_DICT, AUTOGRAD_REFUSED, TORCH_UNAVAILABLE, TORCH_UNNAMED, TORCH_PART)


_PARSE_LOCK = threading.Lock()


def parse_source(source: str) -> ast.Module:
    """ast.parse, one thread at a time: CPython 3.11's AST constructor keeps its recursion depth in
    shared state, and concurrent parses in gthread workers fail with 'AST constructor recursion
    depth mismatch' (CPython gh-106905)."""
    with _PARSE_LOCK:
        return ast.parse(source)


class Malformed(ValueError):
    """The document is not what the grader's harness writes: the job wrote its own."""


@dataclass(frozen=True)
class Returned:
    """An instance whose entry point returned a dict (values are plain, bounded data)."""

    value: dict


@dataclass(frozen=True)
class Raised:
    """An instance whose entry point raised: a known class name or None, and submission lines."""

    error: str | None
    lines: tuple[int, ...]


def validate(document, instances: int, budget: int) -> list[Returned | Raised]:
    """Per instance, what the job produced; Malformed when the document is anything else. budget
    is how many numbers the whole document may hold."""
    if not isinstance(document, list) or len(document) != instances:
        raise Malformed("the document is not one entry per hidden instance")
    remaining = [budget]
    return [_entry(item, remaining) for item in document]


def _entry(item, remaining):
    if not isinstance(item, dict) or not isinstance(item.get("ok"), bool):
        raise Malformed("an entry is not an object with a boolean 'ok'")
    if item["ok"]:
        value = item.get("value")
        if set(item) != {"ok", "value"} or not isinstance(value, dict) or len(value) > MAX_FIELDS:
            raise Malformed("a returned entry is not an object of at most 64 fields")
        for name, field in value.items():
            if len(name) > MAX_STRING:
                raise Malformed("a field name is too long")
            _check_value(field, 0, remaining)
        return Returned(value=value)
    error, lines = item.get("error"), item.get("lines")
    if set(item) != {"ok", "error", "lines"} or not (error is None or isinstance(error, str)) \
            or not isinstance(lines, list) or len(lines) > MAX_LINES \
            or not all(type(n) is int and 0 <= n < MAX_INTEGER for n in lines):
        raise Malformed("an error entry is not a class name and a few line numbers")
    known = error if error in KNOWN_EXCEPTIONS or error in MARKERS else None
    return Raised(error=known, lines=tuple(lines))


def _check_value(value, depth, remaining):
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise Malformed("a string is too long")
        return
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if abs(value) >= MAX_INTEGER:
            raise Malformed("an integer is too large")
    elif not isinstance(value, Real):
        if not isinstance(value, list) or depth >= MAX_DEPTH:
            raise Malformed("a value is nested too deeply or is not a number, string or list")
        for item in value:
            _check_value(item, depth + 1, remaining)
        return
    remaining[0] -= 1
    if remaining[0] < 0:
        raise Malformed("the document holds more numbers than the result cap allows")


def describe_error(source: str, raised: Raised) -> str:
    """'Your code raised ValueError (line 7, in helper: ...)', written from the app's copy of the source."""
    what = raised.error or "an exception of a class defined in your code"
    frames = source_frames(source, raised.lines)
    where = "; ".join(frames) if frames else "outside your function's own lines"
    return f"Your code raised {what} ({where})."


def source_frames(source: str, lines) -> list[str]:
    """'line N, in function: text' for each line number that exists in the source."""
    text = source.splitlines()
    functions = _function_spans(source)
    frames = []
    for number in lines:
        if not 1 <= number <= len(text):
            continue
        inside = [f for f in functions if f[1] <= number <= f[2]]
        name = min(inside, key=lambda f: f[2] - f[1])[0] if inside else "<module>"
        frames.append(f"line {number}, in {name}: {text[number - 1].strip()[:120]}")
    return frames


def _function_spans(source: str) -> list[tuple[str, int, int]]:
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    return [(node.name, node.lineno, node.end_lineno or node.lineno) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
