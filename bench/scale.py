"""Scaling on one machine: throughput with one and with two worker processes (PostgreSQL and Redis on
loopback), and how cost grows with the instance size, plotted to a PNG.

1. numeric grading through gunicorn on PostgreSQL, 1 vs 2 gunicorn workers (8 keep-alive clients);
2. code grading through the Celery queue, 1 vs 2 grading workers (200 submissions queued at once,
   timed until the last is graded);
3. the reference engine (tanh RNN forward + BPTT) and numeric grading as T and h double, with the
   log-log slopes, plotted to docs/scaling.png.

Usage: python bench/scale.py [--seconds 8] [--codes 200] [--out docs/scaling.png]
"""
import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.numeric import free_port, load, start, stop  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/14"
NO_LIMITS = json.dumps({"learner_exercise": {"count": 10 ** 9, "window_s": 600}})


def fresh_database():
    import psycopg
    name = f"bptt_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(name):
    import psycopg
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def prepare(url, env):
    from grader import auth, create_app, storage
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": env["GRADER_SECRET_KEY"]})
    storage.upgrade(app)
    with app.app_context():
        key = auth.create_key(storage.session(app), role="admin").key
    storage.engine_of(app).dispose()
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def numeric_requests(port, headers, exercise_id="tanh-rnn-bptt", learners=32):
    import http.client
    from grader.catalog import load_catalog
    from grader.config import DefaultConfig
    exercise = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS],
                            Path(DefaultConfig.MISCONCEPTION_SLUGS))[exercise_id]
    conn, out = http.client.HTTPConnection("127.0.0.1", port), []
    for n in range(learners):
        conn.request("POST", f"/api/v1/exercises/{exercise_id}/instances", body=json.dumps({"learner": f"l{n}"}),
                     headers=headers)
        instance = json.loads(conn.getresponse().read())["instance"]
        answer = {k: np.asarray(v).tolist() for k, v in
                  exercise.solve({k: np.asarray(v) for k, v in instance["params"].items()}).items()}
        out.append(("/api/v1/submissions", json.dumps({"exercise_id": exercise_id, "kind": "numeric",
                                                       "instance_token": instance["token"], "answer": answer,
                                                       "learner": f"l{n}"}), headers))
    conn.close()
    return out


def numeric_throughput(workers, seconds):
    name, url = fresh_database()
    env = {"GRADER_DATABASE_URL": url, "GRADER_SECRET_KEY": "bench", "GRADER_RATE_LIMITS": NO_LIMITS}
    headers = prepare(url, env)
    port = free_port()
    web = start("wsgi:app", port, workers, env)
    try:
        requests_ = numeric_requests(port, headers)
        load(port, requests_, 8, 2)
        return load(port, requests_, 8, seconds)
    finally:
        stop(web)
        drop_database(name)


def code_throughput(workers, count, zygote_socket):
    import http.client
    import redis
    name, url = fresh_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {"GRADER_DATABASE_URL": url, "GRADER_SECRET_KEY": "bench", "GRADER_RATE_LIMITS": NO_LIMITS,
           "GRADER_QUEUE_URL": REDIS_URL, "GRADER_SANDBOX_SOCKET": zygote_socket, "GRADER_QUEUE_MAX": "100000",
           "GRADER_LOG_LEVEL": "WARNING"}
    headers = prepare(url, env)
    port = free_port()
    web = start("wsgi:app", port, 2, env)
    source = (ROOT / "exercises/tanh-rnn-bptt/solution.py").read_text()
    grading = [subprocess.Popen([sys.executable, "-m", "celery", "-A", "wsgi:celery_app", "worker", "--pool", "solo",
                                 "-Q", "grading", "--loglevel", "WARNING", "-n", f"b{k}@%h"], cwd=ROOT,
                                env={**os.environ, **env}, start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for k in range(workers)]
    try:
        time.sleep(3)  # the workers connect
        conn = http.client.HTTPConnection("127.0.0.1", port)
        started = time.perf_counter()
        ids = []
        for n in range(count):
            conn.request("POST", "/api/v1/submissions", headers={**headers, "Prefer": "respond-async"},
                         body=json.dumps({"exercise_id": "tanh-rnn-bptt", "kind": "code", "source": source,
                                          "learner": f"c{n}"}))
            ids.append(json.loads(conn.getresponse().read())["id"])
        import psycopg
        with psycopg.connect(url.replace("+psycopg", "")) as db:
            while db.execute("SELECT count(*) FROM submissions WHERE verdict = 'pending'").fetchone()[0]:
                time.sleep(0.1)
            correct = db.execute("SELECT count(*) FROM submissions WHERE verdict = 'correct'").fetchone()[0]
        elapsed = time.perf_counter() - started
        return {"per_s": count / elapsed, "correct": correct, "count": count}
    finally:
        for process in grading:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        stop(web)
        drop_database(name)


def cost_growth(repeats=7):
    """Median seconds of the reference (tanh_bptt) and of grade_numeric, as T and then h double."""
    from grader.catalog import load_catalog
    from grader.catalog.exercise import Instance
    from grader.catalog.selftest import to_json
    from grader.config import DefaultConfig
    from grader.grading.numeric import grade_numeric
    from grader.reference.tanh_rnn import tanh_bptt
    exercise = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS],
                            Path(DefaultConfig.MISCONCEPTION_SLUGS))["tanh-rnn-bptt"]
    rng = np.random.default_rng(0)

    def params(T, h, B=4, d=8, q=8):
        return {"W_xh": rng.standard_normal((d, h)) / np.sqrt(d), "W_hh": 0.9 * rng.standard_normal((h, h)) / np.sqrt(h),
                "b_h": np.zeros(h), "W_hq": rng.standard_normal((h, q)) / np.sqrt(h), "b_q": np.zeros(q),
                "X": rng.standard_normal((T, B, d)), "H0": 0.5 * rng.standard_normal((B, h)),
                "Y": rng.integers(0, q, size=(T, B))}

    def median_time(fn):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    sizes = [8, 16, 32, 64, 128]
    rows = {"T": [], "h": []}
    for axis in ("T", "h"):
        for size in sizes:
            p = params(size, 16) if axis == "T" else params(16, size)
            instance = Instance(0, 0, p, exercise.solve(p), exercise.variants_for(p), {"T": p["Y"].shape[0], "B": 4})
            answer = to_json(instance.answer)
            rows[axis].append((size, median_time(lambda: tanh_bptt(**p)),
                               median_time(lambda: grade_numeric(exercise, instance, answer))))
    return rows


def slope(points):
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def plot(rows, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, axis in zip(axes, ("T", "h")):
        data = rows[axis]
        x = [r[0] for r in data]
        ax.loglog(x, [r[1] * 1e3 for r in data], "o-", label=f"reference BPTT (slope {slope([(r[0], r[1]) for r in data]):.2f})")
        ax.loglog(x, [r[2] * 1e3 for r in data], "s-", label=f"grading a right answer (slope {slope([(r[0], r[2]) for r in data]):.2f})")
        ax.set_xlabel(f"{axis} (the other = 16; B = 4, d = q = 8)")
        ax.set_xscale("log", base=2)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("milliseconds (median of 7)")
    fig.suptitle("tanh-rnn-bptt: cost as the instance grows")
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--codes", type=int, default=200)
    parser.add_argument("--out", default=str(ROOT / "docs/scaling.png"))
    args = parser.parse_args()
    numeric = {w: numeric_throughput(w, args.seconds) for w in (1, 2)}
    with tempfile.TemporaryDirectory() as workdir:
        socket_path = f"{workdir}/sandbox.sock"
        zygote = subprocess.Popen([sys.executable, "-I", str(ROOT / "grader/sandbox/zygote.py"), "--socket",
                                   socket_path, "--slots", "4"], env={}, stdout=subprocess.PIPE, text=True)
        zygote.stdout.readline()
        try:
            code = {w: code_throughput(w, args.codes, socket_path) for w in (1, 2)}
        finally:
            zygote.terminate()
            zygote.wait(timeout=10)
            zygote.stdout.close()
    rows = cost_growth()
    plot(rows, args.out)
    print("numeric grading on PostgreSQL, 8 clients:")
    for w, r in numeric.items():
        print(f"  {w} gunicorn worker(s): {r['rps']:7.1f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms")
    print(f"  2 workers / 1 worker: {numeric[2]['rps'] / numeric[1]['rps']:.2f}x")
    print(f"code grading through the queue, {args.codes} submissions queued at once:")
    for w, r in code.items():
        print(f"  {w} grading worker(s): {r['per_s']:7.1f} graded/s ({r['correct']}/{r['count']} correct)")
    print(f"  2 workers / 1 worker: {code[2]['per_s'] / code[1]['per_s']:.2f}x")
    for axis in ("T", "h"):
        print(f"cost as {axis} doubles (the other 16): " + ", ".join(
            f"{s}: ref {r * 1e3:.2f} ms / grade {g * 1e3:.2f} ms" for s, r, g in rows[axis]))
        print(f"  log-log slope: reference {slope([(s, r) for s, r, _ in rows[axis]]):.2f}, "
              f"grading {slope([(s, g) for s, _, g in rows[axis]]):.2f}")
    print(f"plot written to {args.out}")


if __name__ == "__main__":
    main()
