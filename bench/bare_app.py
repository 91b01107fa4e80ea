"""Baselines for bench/numeric.py: bare Flask + numpy endpoints with no storage, auth or report.

POST /grade {"exercise_id", "params", "answer"}: what grading must do and no more. The instance's
parameters arrive in the body; the reference gradients are computed from them (for tanh-rnn-bptt,
the d2l tanh RNN's BPTT) and each part is compared with np.allclose; the verdict is answered as JSON.

POST /grade-from-seed {"exercise_id", "seed", "answer"}: the earlier baseline, kept for continuity:
regenerate the instance from its seed (drawing the parameters and evaluating every misconception
variant), then compare. It does more work than grading needs, so its ratio flatters the service.
"""
from pathlib import Path

import numpy as np
from flask import Flask, request

from grader.catalog import load_catalog
from grader.config import DefaultConfig

app = Flask(__name__)
CATALOG = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS], Path(DefaultConfig.MISCONCEPTION_SLUGS),
                       cache_size=0)


@app.post("/grade")
def grade():
    body = request.get_json()
    exercise = CATALOG[body["exercise_id"]]
    reference = exercise.solve({name: np.asarray(value) for name, value in body["params"].items()})
    parts = {name: bool(np.allclose(np.asarray(body["answer"][name], dtype=float), expected, rtol=1e-6, atol=1e-9))
             for name, expected in reference.items()}
    return {"correct": all(parts.values()), "parts": parts}


@app.post("/grade-from-seed")
def grade_from_seed():
    body = request.get_json()
    exercise = CATALOG[body["exercise_id"]]
    reference = exercise.instance(body["seed"]).answer
    errors = {name: float(np.linalg.norm(np.asarray(body["answer"][name]) - ref) / np.linalg.norm(ref))
              for name, ref in reference.items()}
    return {"correct": all(e <= 1e-8 for e in errors.values()), "errors": errors}
