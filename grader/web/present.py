"""How the pages say things to people: verdict words, grader messages with their math typeset by
the same KaTeX path as the statements, the instance as readable tables, and times for a reader."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import numpy as np
from markupsafe import Markup, escape

VERDICT_WORDS = {"correct": "Correct", "partially_correct": "Partly correct", "incorrect": "Not correct yet",
                 "invalid": "Could not be graded", "error": "Your code raised an error",
                 "timeout": "Ran out of time", "pending": "Being graded"}
# a run that may be math: letters, digits, sub- and superscripts, braces, a slash (dL/dh_t)
_WORD = re.compile(r"(?<![\w{}^\\])\(?[A-Za-z][A-Za-z0-9_^{}()+\-/']*")
_SCRIPT = re.compile(r"([_^])(\{[^{}]*\}|\([^()]*\)|[A-Za-z0-9]+)")
_CODE_WORD = re.compile(r"_[a-z]{4,}")  # linear_bptt, spectral_rescale: identifiers, not subscripts
MATRIX_CELLS = 144  # arrays up to this many numbers are shown as a table of values


def verdict_word(verdict: str) -> str:
    return VERDICT_WORDS.get(verdict, verdict.replace("_", " "))


def mathify(text, code_names=()) -> Markup:
    """Grader text as HTML with its math (W_hh^T, h_{t-1}, dL/dh_t) between \\( \\) for KaTeX;
    answer field names stay code. Everything else is escaped."""
    text = "" if text is None else str(text)
    out, last = [], 0
    for match in _WORD.finditer(text):
        word = _balanced(match.group(0))
        start = match.start() + match.group(0).index(word) if word else match.start()
        end = start + len(word)
        out.append(escape(text[last:start]))
        out.append(_render_word(word, code_names))
        last = end
    out.append(escape(text[last:]))
    return Markup("".join(out))


def _balanced(word: str) -> str:
    """Drop trailing punctuation that closes nothing inside the word: 'W_hh)' -> 'W_hh'."""
    word = word.rstrip("/-+'")
    while word.endswith(")") and word.count(")") > word.count("("):
        word = word[:-1]
    while word.startswith("(") and word.count("(") > word.count(")"):
        word = word[1:]
    return word


def _render_word(word: str, code_names) -> str:
    core = word
    if core in code_names:
        return f"<code>{escape(core)}</code>"
    if ("_" not in core and "^" not in core) or _CODE_WORD.search(core):
        return str(escape(core))
    tex = _SCRIPT.sub(lambda m: m.group(1) + ("{" + m.group(2) + "}" if not m.group(2).startswith("{")
                                              else m.group(2)), core)
    return f"\\({escape(tex)}\\)"


def shape_text(value) -> str:
    shape = np.shape(value)
    return " × ".join(str(n) for n in shape) if shape else "scalar"


def instance_tables(params: dict) -> list[dict]:
    """Each parameter with its full shape; scalars with their value, small arrays as rows of numbers
    (4 significant digits for reading; the copy button and the downloads carry full precision)."""
    tables = []
    for name, value in params.items():
        array = np.asarray(value)
        plain = value.tolist() if isinstance(value, np.ndarray) else value
        entry = {"name": name, "shape": shape_text(value), "json": json.dumps(plain), "scalar": None, "rows": None}
        if array.ndim == 0:
            entry["scalar"] = _number(array.item())
        elif array.ndim <= 2 and array.size <= MATRIX_CELLS and array.dtype.kind in "biuf":
            entry["rows"] = [[_number(x) for x in row] for row in np.atleast_2d(array).tolist()]
        tables.append(entry)
    return tables


def _number(x) -> str:
    if isinstance(x, (bool, str)):
        return str(x)
    if isinstance(x, int) or float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.4g}"


def iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def utc_text(moment: datetime | None) -> str:
    """The server's rendering (UTC); the page's script rewrites it in the reader's time zone."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).strftime("%d %b %Y, %H:%M UTC")


def error_lines(message: str) -> set[int]:
    """The line numbers a code report names ('line 7, in helper: ...')."""
    return {int(n) for n in re.findall(r"\bline (\d+)", message or "")}


def init_app(app) -> None:
    app.jinja_env.filters.update(verdict_word=verdict_word, mathify=mathify, iso=iso, utc_text=utc_text)
