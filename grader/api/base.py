"""The blueprint class every API module uses: flask-smorest's, with a strict JSON parser."""
from __future__ import annotations

import json
import math
import re

from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from grader.problems import NonFiniteNumber


MAY_OVERFLOW = re.compile(rb"[eE][+-]?0*[1-9][0-9]{2}|[0-9]{200}")


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
    # a number can overflow a float64 only with a 3-digit exponent or 200 digits in a row (199
    # digits times 1e99 is finite): only then is each number checked in Python (a call per
    # number was a tenth of a numeric submission's parsing)
    # (the regex reads UTF-8 digits: a UTF-16 or UTF-32 body, which json also accepts, is always checked)
    careful = MAY_OVERFLOW.search(body) or json.detect_encoding(body) != "utf-8"
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
