"""The cost of answer-group probes per wrong code submission, measured side by side in one run.

A wrong submission (the exercise's solution with a mistake switched on; tanh-rnn-bptt by default)
runs in the sandbox on its graded instances (2 regular + the edge cases) with and without the 2
probe instances, the two
kinds of job interleaved; then the app's own work: reading the fingerprint from the validated probe
entries, and comparing two fingerprints (what grouping and matching a named group do per pair).
Prints medians and p99s in milliseconds, and the added cost.

Usage: python bench/probes.py [--runs 200] [--exercise tanh-rnn-bptt] [--mistake missing-output-term]
"""
import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.catalog import load_catalog  # noqa: E402
from grader.config import DefaultConfig  # noqa: E402
from grader.grading import results  # noqa: E402
from grader.groups import fingerprint  # noqa: E402
from grader.sandbox.client import SandboxClient  # noqa: E402


def summary(samples_s):
    ms = np.array(samples_s) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 99))


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--exercise", default="tanh-rnn-bptt")
    parser.add_argument("--mistake", default="missing-output-term")
    args = parser.parse_args()
    catalog = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS], Path(DefaultConfig.MISCONCEPTION_SLUGS))
    exercise = catalog[args.exercise]
    source = exercise.solution.replace("MISTAKE = None", f"MISTAKE = {args.mistake!r}")
    probes = fingerprint.probe_instances("bench-secret", exercise)
    limits = DefaultConfig.SANDBOX_LIMITS
    workdir = tempfile.mkdtemp(prefix="bptt-probes-")
    zygote = subprocess.Popen([sys.executable, "-I", str(ROOT / "grader/sandbox/zygote.py"), "--socket",
                               f"{workdir}/sandbox.sock", "--slots", "2"], env={}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    json.loads(zygote.stdout.readline())
    client = SandboxClient(f"{workdir}/sandbox.sock")
    plain, probed, reads, compares = [], [], [], []
    try:
        for run in range(args.runs + 10):
            seeds = [secrets.randbits(62) for _ in range(2)]
            graded = [exercise.instance(s).params for s in seeds] + [i.params for i in exercise.edge_instances(seeds[0])]
            jobs = [("plain", graded), ("probed", graded + [p.params for p in probes])]
            for name, params in (jobs if run % 2 else jobs[::-1]):
                elapsed, outcome = timed(lambda: client.run(source, exercise.info["entry_point"], params, limits))
                assert outcome.status == "ok", outcome.status
                if run >= 10:  # warm-up excluded
                    (plain if name == "plain" else probed).append(elapsed)
                if name == "probed":
                    probe_results = outcome.results[len(graded):]
            entries = results.validate(probe_results, len(probes), 1 << 19)
            elapsed, fp = timed(lambda: fingerprint.from_entries(exercise, probes, entries))
            reads.append(elapsed)
            other = {**fp, "hash": "different"}  # forces the tolerance comparison, the slower path
            compares.append(timed(lambda: fingerprint.agree(exercise, probes, fp, other))[0])
    finally:
        zygote.terminate()
        zygote.wait(timeout=10)
        zygote.stdout.close()
    (p50, p99), (q50, q99) = summary(plain), summary(probed)
    print(f"exercise {exercise.id}, mistake {args.mistake}, {args.runs} runs of each job, interleaved")
    print(f"sandbox job, {len(graded)} graded instances:            median {p50:7.2f} ms  p99 {p99:7.2f} ms")
    print(f"sandbox job, {len(graded)} graded + {len(probes)} probe instances:  median {q50:7.2f} ms  p99 {q99:7.2f} ms")
    print(f"added by the probes in the job:             median {q50 - p50:+7.2f} ms ({100 * (q50 - p50) / p50:+.0f}%)")
    r50, r99 = summary(reads)
    c50, c99 = summary(compares)
    print(f"fingerprint from the probe entries (app):   median {r50:7.3f} ms  p99 {r99:7.3f} ms")
    print(f"one tolerance comparison of two prints:     median {c50:7.3f} ms  p99 {c99:7.3f} ms")


if __name__ == "__main__":
    main()
