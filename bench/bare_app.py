"""Baseline for bench/numeric.py: bare Flask + numpy doing the same reference computation.

POST /grade {"exercise_id", "seed", "answer"}: generate the instance from the seed, compute the
reference, compare every part; no auth, token, validation ladder, diagnosis or storage.
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
    reference = exercise.instance(body["seed"]).answer
    errors = {name: float(np.linalg.norm(np.asarray(body["answer"][name]) - ref) / np.linalg.norm(ref))
              for name, ref in reference.items()}
    return {"correct": all(e <= 1e-8 for e in errors.values()), "errors": errors}
