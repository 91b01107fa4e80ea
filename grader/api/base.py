"""The blueprint class every API module uses: flask-smorest's, with a strict JSON parser."""
from __future__ import annotations

import json
import math
import re

from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from grader.problems import NonFiniteNumber


BIG_EXPONENT = re.compile(rb"[eE][+-]?0*[1-9][0-9]{2}")
DIGIT_MARKS = bytes.maketrans(b"0123456789", b"\x01" * 10)
LONG_RUN = b"\x01" * 200


def may_overflow(body: bytes) -> bool:
    """Whether a number in the body can overflow a float64: only with a 3-digit exponent or 200
    digits in a row (199 digits times 1e99 is finite). The run is looked for with every digit
    marked alike, which costs far less than a regular expression trying each digit."""
    return BIG_EXPONENT.search(body) is not None or LONG_RUN in body.translate(DIGIT_MARKS)


def _reject_constant(name):
    raise NonFiniteNumber(f"{name} is not a valid JSON number; send finite numbers only.")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise NonFiniteNumber(f"{text} overflows a float64; send finite numbers only.")
    return value


def _finite_int(text):
    if len(text.lstrip("-")) > 308:  # beyond float64's range (and Python's int-to-str limit is 4300 digits)
        raise NonFiniteNumber(f"an integer of {len(text)} digits overflows a float64; send finite numbers only.")
    return int(text)


def loads_strict(body: bytes):
    """A JSON body with NaN, Infinity and overflowing numbers refused (NonFiniteNumber)."""
    # only a body whose numbers may overflow has each number checked in Python (a call per number
    # was a tenth of a numeric submission's parsing); may_overflow reads UTF-8 digits, so a UTF-16
    # or UTF-32 body, which json also accepts, is always checked
    careful = may_overflow(body) or json.detect_encoding(body) != "utf-8"
    checked = {"parse_float": _finite_float, "parse_int": _finite_int} if careful else {}
    return json.loads(body, parse_constant=_reject_constant, **checked)


class StrictParser(FlaskParser):
    """Parse JSON bodies strictly: NaN, Infinity and overflowing numbers are refused."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        try:
            return loads_strict(req.get_data(cache=True))
        except RecursionError:
            abort(400, messages={"json": ["The JSON body is nested too deeply."]})

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, messages={"json": [f"The request body is not valid JSON ({error})."]})


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()
