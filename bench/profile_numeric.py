"""Where a numeric submission's CPU goes: cProfile (CPU time) over in-process submissions.

The app runs in this process (Flask's test client, no HTTP) on a fresh SQLite database with
synchronous=FULL (or the database URL given), with rate limits on and never reached; one admin key
submits right answers to 64 rotating instances of tanh-rnn-bptt. Prints the CPU time per submission
(best of 3 runs) and each step's share of the profiled run's CPU time, by the cumulative time of the
function that does it (steps missing from a version of the code show 0).

Usage: python bench/profile_numeric.py [--submissions 500] [--database-url URL]
"""
import argparse
import cProfile
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = {  # step -> (file suffix, function name)
    "request body: strict JSON parse": ("grader/api/base.py", "loads_strict"),
    "request fields (the schema's own)": ("grader/api/fastlane.py", "_load"),
    "key lookup and check": ("grader/auth.py", "principal_for"),
    "instance token": ("grader/tokens.py", "verify"),
    "grading (ladder, comparison, diagnosis)": ("grader/grading/numeric.py", "grade_numeric"),
    "report document": ("grader/service.py", "record"),
    "submission and slug rows, bound": ("grader/storage/__init__.py", "insertions"),
    "rate limit: counts added": ("grader/ratelimit.py", "count"),
    "statistics summaries": ("grader/courses/summaries.py", "add"),
    "group commit (the batch's statements)": ("grader/storage/writers.py", "_commit"),
    "response JSON (Flask's)": ("flask/json/provider.py", "dumps"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    from grader import auth, create_app, storage
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bptt-profile-')}/p.sqlite"
    app = create_app({"SECRET_KEY": "profile", "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "RATE_LIMITS": {
        "learner_exercise": {"count": 10 ** 9, "window_s": 600}, "key": {"count": 10 ** 9, "window_s": 60}}})
    storage.upgrade(app)
    with app.app_context():
        key = auth.create_key(storage.session(app), role="admin").key
    client, headers = app.test_client(), {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    exercise = app.extensions["grader.context"].catalog["tanh-rnn-bptt"]
    bodies = []
    for n in range(64):
        instance = client.post("/api/v1/exercises/tanh-rnn-bptt/instances", json={"learner": f"l{n}"},
                               headers=headers).json["instance"]
        answer = exercise.solve({k: np.asarray(v) for k, v in instance["params"].items()})
        bodies.append(json.dumps({"exercise_id": "tanh-rnn-bptt", "kind": "numeric", "learner": f"l{n}",
                                  "instance_token": instance["token"],
                                  "answer": {k: np.asarray(v).tolist() for k, v in answer.items()}}))

    def run(count):
        for i in range(count):
            assert client.post("/api/v1/submissions", data=bodies[i % 64], headers=headers).status_code == 201

    run(100)  # warm: caches, compiled statements
    best = []
    for _ in range(3):
        started = time.process_time()
        run(args.submissions)
        best.append((time.process_time() - started) / args.submissions * 1000)
    print(f"CPU per submission: {min(best):.2f} ms (best of 3 runs of {args.submissions})")
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    run(args.submissions)
    profile.disable()
    stats = pstats.Stats(profile)
    lane = max((v[3] for (path, _, function), v in stats.stats.items()
                if path.endswith("grader/api/fastlane.py") and function == "__call__"), default=0.0)
    print(f"  (the fast lane takes {100 * lane / stats.total_tt:.1f}% of it, the test client the rest; its steps:)")
    for step, (suffix, name) in STEPS.items():
        spent = max((v[3] for (path, _, function), v in stats.stats.items()
                     if path.endswith(suffix) and function == name), default=0.0)
        print(f"  {step:<45} {100 * spent / stats.total_tt:5.1f}%")


if __name__ == "__main__":
    main()
