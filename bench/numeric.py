"""Numeric grading throughput: the service under gunicorn against a bare Flask + numpy endpoint.

Both run under gunicorn with the same worker count on loopback; this process loads them one after
the other with the same client (threads with keep-alive connections) and prints requests/s,
p50/p99 latency and the ratio. The service runs with storage on (SQLite, synchronous=FULL) and is
measured twice: with its instance cache (the default) and with the cache off, where every request
regenerates the instance and evaluates every misconception variant, as the baseline must.

Usage: python bench/numeric.py [--seconds 10] [--clients 16] [--workers 2] [--exercise tanh-rnn-bptt]
"""
import argparse
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEARNERS = 64  # distinct instances in rotation


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app, port, workers, env, extra=()):
    """gunicorn on 127.0.0.1:port; extra: more gunicorn options (e.g. a worker class)."""
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--log-level", "warning", *extra, app]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{app} did not start")


def stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def load(port, requests_, clients, seconds):
    """Send the prepared (path, body, headers) requests round-robin from `clients` threads."""
    latencies, statuses, lock = [], {}, threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(offset):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = offset
        mine, codes = [], {}
        while time.perf_counter() < stop_at:
            path, body, headers = requests_[i % len(requests_)]
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            codes[response.status] = codes.get(response.status, 0) + 1
            i += clients
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    lat = np.array(latencies) * 1000
    return {"rps": len(lat) / elapsed, "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
            "n": len(lat), "statuses": statuses}


def service_requests(port, exercise_id, admin_key):
    """Issue one instance per learner through the API and build right-answer submissions."""
    from grader import tokens
    from grader.catalog import load_catalog
    from grader.config import DefaultConfig
    catalog = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS], Path(DefaultConfig.MISCONCEPTION_SLUGS))
    exercise = catalog[exercise_id]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"}
    prepared, bare = [], []
    for n in range(LEARNERS):
        conn.request("POST", f"/api/v1/exercises/{exercise_id}/instances",
                     body=json.dumps({"learner": f"learner-{n}"}), headers=headers)
        instance = json.loads(conn.getresponse().read())["instance"]
        params = {k: np.asarray(v) for k, v in instance["params"].items()}
        answer = {k: np.asarray(v).tolist() for k, v in exercise.solve(params).items()}
        body = {"exercise_id": exercise_id, "kind": "numeric", "instance_token": instance["token"],
                "answer": answer, "learner": f"learner-{n}"}
        prepared.append(("/api/v1/submissions", json.dumps(body), headers))
        seed = tokens.verify(os.environ["BENCH_SECRET"], instance["token"], learner=f"learner-{n}",
                             max_age=3600).seed
        bare.append(("/grade", json.dumps({"exercise_id": exercise_id, "seed": seed, "answer": answer}),
                     {"Content-Type": "application/json"}))
    conn.close()
    return prepared, bare


def run_service(args, workdir, cache_size, label):
    db = Path(workdir) / f"{label}.sqlite"
    # rate limits stay on (their queries are part of every submission) with counts the bench never reaches
    limits = {"learner_exercise": {"count": 10 ** 9, "window_s": 600}, "key": {"count": 10 ** 9, "window_s": 60}}
    env = {"GRADER_DATABASE_URL": f"sqlite:///{db}", "GRADER_SECRET_KEY": os.environ["BENCH_SECRET"],
           "GRADER_INSTANCE_CACHE_SIZE": str(cache_size), "GRADER_RATE_LIMITS": json.dumps(limits)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=ROOT, check=True,
                   env={**os.environ, **env}, capture_output=True)
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "create-key", "--role", "admin"],
                         cwd=ROOT, check=True, env={**os.environ, **env}, capture_output=True, text=True)
    admin_key = out.stdout.strip().splitlines()[-1]
    port = free_port()
    proc = start("wsgi:app", port, args.workers, env)
    try:
        prepared, bare = service_requests(port, args.exercise, admin_key)
        load(port, prepared, args.clients, 2)  # warm-up, not counted
        result = load(port, prepared, args.clients, args.seconds)
    finally:
        stop(proc)
    with sqlite3.connect(db) as conn:
        result["stored"] = conn.execute("SELECT count(*) FROM submissions").fetchone()[0]
    return result, bare


def run_bare(args, bare):
    port = free_port()
    proc = start("bench.bare_app:app", port, args.workers, {})
    try:
        load(port, bare, args.clients, 2)
        return load(port, bare, args.clients, args.seconds)
    finally:
        stop(proc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--exercise", default="tanh-rnn-bptt")
    args = parser.parse_args()
    os.environ.setdefault("BENCH_SECRET", "bench-secret-" + os.urandom(8).hex())
    with tempfile.TemporaryDirectory() as workdir:
        cached, bare_requests = run_service(args, workdir, 1024, "cached")
        uncached, _ = run_service(args, workdir, 0, "uncached")
        bare = run_bare(args, bare_requests)
    print(f"exercise {args.exercise}, {args.clients} clients, {args.workers} gunicorn workers, "
          f"{args.seconds:.0f} s per run, {LEARNERS} instances in rotation")
    print(f"{'run':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}  statuses / rows stored (incl. warm-up)")
    for name, r in (("bare Flask + numpy", bare), ("service, cache on", cached), ("service, cache off", uncached)):
        stored = f" stored {r['stored']}" if "stored" in r else ""
        print(f"{name:<28}{r['rps']:>9.1f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['n']:>10}  {r['statuses']}{stored}")
    print(f"ratio service/bare, cache on:  {cached['rps'] / bare['rps']:.2f}  (target >= 0.60)")
    print(f"ratio service/bare, cache off: {uncached['rps'] / bare['rps']:.2f}")
    print(f"p99 service, cache on: {cached['p99']:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
