"""Code grading latency: the service (gunicorn + zygote sandbox) against a fresh interpreter per
submission, measured side by side in one run.

Service: POST /api/v1/submissions with a correct tanh-rnn-bptt solution, graded on 5 hidden
instances (2 regular + 3 edge cases) in the sandbox, stored in SQLite, end to end over HTTP.
Baseline: `python -I bench/fresh_runner.py` per submission on the same 5 instances, unsandboxed.
Prints median and p99 of each, their ratio, and service submissions/s at 4 concurrent clients.

Usage: python bench/code.py [--runs 100] [--seconds 10]
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.numeric import free_port, start, stop  # noqa: E402


def percentiles(samples_s):
    ms = np.array(samples_s) * 1000
    return float(np.median(ms)), float(np.percentile(ms, 99))


def service_run(args, workdir, source):
    env = {"GRADER_DATABASE_URL": f"sqlite:///{workdir}/code.sqlite", "GRADER_SECRET_KEY": "bench-" + os.urandom(8).hex(),
           "GRADER_SANDBOX_SOCKET": f"{workdir}/sandbox.sock",
           "GRADER_RATE_LIMITS": json.dumps({"learner_exercise": {"count": 10 ** 9, "window_s": 600}})}
    full_env = {**os.environ, **env}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=ROOT, env=full_env, check=True,
                   capture_output=True)
    # one learner per client: a learner has one code job in flight at a time (fair share)
    keys = [subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "create-key", "--role", "learner",
                            "--learner", f"bench-{k}"], cwd=ROOT, env=full_env, check=True, capture_output=True,
                           text=True).stdout.strip().splitlines()[-1] for k in range(4)]
    zygote = subprocess.Popen([sys.executable, "-I", str(ROOT / "grader/sandbox/zygote.py"), "--socket",
                               env["GRADER_SANDBOX_SOCKET"], "--slots", "4"], env={}, stdout=subprocess.PIPE, text=True)
    layers = json.loads(zygote.stdout.readline())
    port = free_port()
    web = start("wsgi:app", port, args.workers, env)
    body = json.dumps({"exercise_id": "tanh-rnn-bptt", "kind": "code", "source": source})

    def submit(conn, k=0):
        headers = {"Authorization": f"Bearer {keys[k]}", "Content-Type": "application/json"}
        conn.request("POST", "/api/v1/submissions", body=body, headers=headers)
        reply = json.loads(conn.getresponse().read())
        assert reply["verdict"] == "correct" and len(reply["instances"]) == 5, reply.get("message")

    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(10):
            submit(conn)
        latencies = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            submit(conn)
            latencies.append(time.perf_counter() - t0)
        conn.close()
        throughput = concurrent(port, submit, args.seconds)
    finally:
        stop(web)
        zygote.terminate()
        zygote.wait(timeout=10)
        zygote.stdout.close()
    return latencies, throughput, layers


def concurrent(port, submit, seconds, clients=4):
    counts, stop_at = [0] * clients, time.perf_counter() + seconds

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < stop_at:
            submit(conn, k)
            counts[k] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def baseline_run(args, source):
    from grader.catalog import load_catalog
    from grader.config import DefaultConfig
    from grader.sandbox.client import encode
    exercise = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS],
                            Path(DefaultConfig.MISCONCEPTION_SLUGS))["tanh-rnn-bptt"]
    instances = [exercise.instance(s).params for s in (1, 2)] + [i.params for i in exercise.edge_instances(1)]
    request = json.dumps({"source": source, "entry_point": "rnn_bptt",
                          "instances": [{k: encode(v) for k, v in p.items()} for p in instances]})
    latencies = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-I", str(ROOT / "bench/fresh_runner.py")], input=request,
                             capture_output=True, text=True, check=True)
        json.loads(out.stdout)
        latencies.append(time.perf_counter() - t0)
    return latencies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    source = (ROOT / "exercises/tanh-rnn-bptt/solution.py").read_text()
    with tempfile.TemporaryDirectory() as workdir:
        service, throughput, layers = service_run(args, workdir, source)
    baseline = baseline_run(args, source)
    s50, s99 = percentiles(service)
    b50, b99 = percentiles(baseline)
    active = ", ".join(k for k, v in layers["layers"].items() if v) + f" (mode {layers['mode']})"
    print(f"correct tanh-rnn-bptt solution, 5 hidden instances, {args.runs} sequential submissions each")
    print(f"sandbox layers: {active}")
    print(f"{'run':<44}{'median ms':>10}{'p99 ms':>10}")
    print(f"{'service over HTTP (sandbox, stored)':<44}{s50:>10.1f}{s99:>10.1f}")
    print(f"{'fresh interpreter per submission (no sandbox)':<44}{b50:>10.1f}{b99:>10.1f}")
    print(f"speed-up of the median: {b50 / s50:.1f}x (target >= 5x); service median target < 50 ms")
    print(f"service throughput at 4 concurrent clients: {throughput:.1f} code submissions/s")


if __name__ == "__main__":
    main()
