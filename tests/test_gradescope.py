"""Gradescope mode: a submission folder laid out as Gradescope's autograder does, graded through the
same path, and a results.json that validates against a schema written from Gradescope's spec."""
import json
from pathlib import Path

import jsonschema
import pytest

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gradescope_results.schema.json").read_text())
SOLUTION = Path("exercises/linear-bptt/solution.py").read_text()


@pytest.mark.parametrize("source, filename, score, verdict", [
    (SOLUTION, "bptt.py", 10.0, "correct"),
    (SOLUTION.replace("MISTAKE = None", "MISTAKE = 'h-t-instead-of-h-prev'"), "homework.py", 7.0, "partially_correct"),
    ("def linear_bptt(:", "broken.py", 0.0, "invalid"),
], ids=["right", "mistake", "syntax-error"])
def test_results_json(zygote, app, tmp_path, source, filename, score, verdict):
    submission = tmp_path / "autograder" / "submission"
    submission.mkdir(parents=True)
    (submission / filename).write_text(source)
    (submission / "README.txt").write_text("not code")
    results_path = tmp_path / "autograder" / "results" / "results.json"
    outcome = app.test_cli_runner().invoke(args=["gradescope", "--exercise", "linear-bptt", "--submission",
                                                 str(submission), "--results", str(results_path)])
    assert outcome.exit_code == 0, outcome.output
    results = json.loads(results_path.read_text())
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == pytest.approx(score) and f"Verdict: {verdict}" in results["output"]
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(10.0)
    if verdict == "partially_correct":
        (wrong,) = [t for t in results["tests"] if t["status"] == "failed"]
        assert wrong["name"] == "dW_hh" and "h_t used where h_{t-1} belongs" in results["output"]


def test_a_notebook_submission(zygote, app, tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
                           "source": ["%load_ext autoreload\n", SOLUTION]}]}
    (submission / "bptt.ipynb").write_text(json.dumps(notebook))
    results_path = tmp_path / "results.json"
    outcome = app.test_cli_runner().invoke(args=["gradescope", "--exercise", "linear-bptt", "--submission",
                                                 str(submission), "--results", str(results_path), "--scale", "4"])
    assert outcome.exit_code == 0, outcome.output
    results = json.loads(results_path.read_text())
    jsonschema.validate(results, SCHEMA)
    assert results["score"] == pytest.approx(4.0)
