"""JSON text for what the service stores (SQLAlchemy's json_serializer): orjson, about ten times
faster than the standard library on a report and an answer, falling back to the standard library
for what orjson refuses (integers beyond 64 bits, which a strict request may carry; a lone
surrogate in a string, which JSON allows). Reports hold no NaN or infinity (schemas.TwoDigits) and
requests none (the strict parser), so both write the same values. What the API answers keeps
Flask's JSON text (sorted keys, ASCII), which clients and this README's walk-throughs read byte for
byte."""
from __future__ import annotations

import json

import orjson


def dumps(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"))  # ASCII escapes: a lone surrogate survives
