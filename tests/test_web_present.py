"""What the pages say, without a browser: grader text with its math marked for KaTeX, verdict words,
the instance as tables, the book's order, and chart axes."""
import re

import numpy as np
import pytest

from grader.web import plots, present, progress
from tests.test_catalog import CATALOG


@pytest.mark.parametrize("text, html", [
    ("h_t used where h_{t-1} belongs", r"\(h_{t}\) used where \(h_{t-1}\) belongs"),
    ("dW_hh is correct (relative error 0.0e+00).", "<code>dW_hh</code> is correct (relative error 0.0e+00)."),
    ("In dL/dW_hh each dL/dh_t", r"In \(dL/dW_{hh}\) each \(dL/dh_{t}\)"),
    ("(W_hh^T)^(s-t) W_qh^T", r"\((W_{hh}^{T})^{(s-t)}\) \(W_{qh}^{T}\)"),
    ("factor (1 - h_t^2) left out", r"factor (1 - \(h_{t}^{2}\)) left out"),
    ("linear_bptt returned <b>", "linear_bptt returned &lt;b&gt;"),
], ids=["title", "field-name", "slash", "powers", "parenthesised", "identifier-and-escaping"])
def test_grader_text_marks_its_math_for_katex(text, html):
    assert str(present.mathify(text, code_names=("dW_hh",))) == html


def test_verdicts_read_as_words():
    assert [present.verdict_word(v) for v in ("partially_correct", "error", "correct")] == \
        ["Partly correct", "Your code raised an error", "Correct"]


def test_the_instance_reads_as_tables_with_full_shapes():
    tables = {t["name"]: t for t in present.instance_tables({"W": np.arange(6.0).reshape(2, 3) / 7, "t": 3,
                                                             "X": np.zeros((2, 3, 4))})}
    assert tables["W"]["shape"] == "2 × 3" and tables["W"]["rows"][0][1] == "0.1429"
    assert tables["t"]["scalar"] == "3" and tables["X"]["rows"] is None and tables["X"]["shape"] == "2 × 3 × 4"


def test_the_catalog_follows_the_book():
    ids = [e.id for e in progress.book_order(CATALOG.values())]
    assert ids.index("linear-bptt") < ids.index("hidden-state-gradient") < ids.index("matrix-power-eigenvalues")
    assert ids[-1] == "exploding-gradient-remedies"
    assert progress.next_exercise(CATALOG, "linear-bptt").id == "hidden-state-gradient"
    assert progress.next_exercise(CATALOG, ids[-1]) is None


def test_log_axes_are_labelled_at_whole_decades():
    svg = plots.line_chart("norms", {"yours": [(1, 2.0), (2, 0.03)], "reference": [(1, 1.5), (2, 0.2)]},
                           x_label="t", y_label="norm", log_y=True)
    labels = re.findall(r'class="tick">(10<tspan[^>]*>[^<]*</tspan>)', svg)
    assert [re.sub("<[^>]+>", "", label) for label in labels] == ["10−2", "10−1", "100", "101"]
    assert "1e" not in svg
