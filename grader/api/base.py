"""The blueprint class every API module uses: flask-smorest's, with a strict JSON parser."""
from __future__ import annotations

import json
import math
import re

import orjson
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from grader.problems import NonFiniteNumber


BIG_EXPONENT = re.compile(rb"[eE][+-]?0*[1-9][0-9]{2}")
NUMBER_MARKS = bytes(1 if byte in b"0123456789" else 2 if byte == ord(".") else 0 for byte in range(256))
LONG_RUN = b"\x01" * 200
WIDE = b"\x01" * 19  # digits of an integer beyond 64 bits (or of a float's integer part beyond 1e18)
FEW_BRACKETS = 256  # an answer's arrays take about 20


def may_overflow(marked: bytes, body: bytes) -> bool:
    """Whether a number in the body can overflow a float64: only with a 3-digit exponent or 200
    digits in a row (199 digits times 1e99 is finite). The run is looked for in the body with its
    digits marked (NUMBER_MARKS), which costs far less than a regular expression trying each digit."""
    return LONG_RUN in marked or BIG_EXPONENT.search(body) is not None


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


_PLAIN = json.JSONDecoder(parse_constant=_reject_constant)
_CAREFUL = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_finite_int)


def loads_strict(body: bytes):
    """A JSON body with NaN, Infinity and overflowing numbers refused (NonFiniteNumber)."""
    marked = body.translate(NUMBER_MARKS)
    if b"\x00" + WIDE not in marked and not marked.startswith(WIDE) \
            and body.count(b"[") + body.count(b"{") <= FEW_BRACKETS:
        # orjson parses in a fifth of json's time and reads every number alike, except an integer
        # beyond 64 bits (a float to orjson), which only a run of 19 digits that follows no point can
        # be. What orjson refuses, json reads again: it refuses NaN, Infinity and overflow with its
        # own message, and reads what only it reads (a byte order mark, UTF-16). A body with many
        # brackets goes to json too: orjson nests deeper (1,024) than json and the standard library's
        # encoders further on (the idempotency digest, say) can follow, which is what limits nesting.
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    # only a body whose numbers may overflow has each number checked in Python (a call per number
    # was a tenth of a numeric submission's parsing); may_overflow reads UTF-8 digits, so a UTF-16
    # or UTF-32 body, which json also accepts, is always checked
    encoding = json.detect_encoding(body)
    careful = encoding != "utf-8" or may_overflow(marked, body)
    return (_CAREFUL if careful else _PLAIN).decode(body.decode(encoding, "surrogatepass"))


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
