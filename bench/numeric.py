"""Numeric grading throughput: the service under gunicorn against bare Flask + numpy baselines.

Everything runs under gunicorn with the service's own serving model (2 gthread workers x 8 threads
unless told otherwise) on loopback; this process loads one after the other with the same client
(threads with keep-alive connections) and prints requests/s, p50/p99 latency, the servers' CPU time
per request and the ratios.

- The service, storage on: SQLite with synchronous=FULL (durable commit before every response),
  then PostgreSQL (127.0.0.1:5432) when it answers. Rate limits, authorization, idempotency and the
  full report are all on.
- Baseline "params" (bench/bare_app.py /grade): receives the instance's parameters in the body and
  does only what grading must: parse the JSON answer, compute the reference gradients, compare each
  part with np.allclose, answer JSON. No storage.
- Baseline "seed" (/grade-from-seed): the earlier baseline, kept as a second line for continuity; it
  regenerates the instance from its seed on every request, more work than grading needs.

All servers run at once and are loaded in turn, round after round, so that what else the machine
does weighs on every target alike; each target's figures add its rounds up.

With --compare DIR (another checkout of this repository, e.g. `git worktree add /tmp/before REV`),
that checkout's service on SQLite is loaded in the same rounds too, so that a change is measured
against the code before it under the same load.

Usage: python bench/numeric.py [--seconds 10] [--rounds 3] [--clients 16] [--workers 2] [--threads 8]
                               [--exercise tanh-rnn-bptt] [--no-postgres] [--compare DIR]
"""
import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LEARNERS = 64  # distinct instances in rotation
SERVERS = {}  # port -> the gunicorn master's psutil.Process
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app, port, workers, env, extra=(), cwd=ROOT):
    """gunicorn on 127.0.0.1:port in the checkout cwd; extra: more gunicorn options (e.g. a worker class)."""
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
           "--log-level", "warning", *extra, app]
    # ./gunicorn.conf.py applies to every server here (gunicorn reads it from the working directory):
    # the same serving model and access log for the service and the baselines; the log is dropped
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env}, start_new_session=True,
                            stdout=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            SERVERS[port] = psutil.Process(proc.pid)
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{app} did not start")


def stop(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def cpu_seconds(port) -> float:
    """CPU time (user + system) of the gunicorn processes serving `port`: the master and its workers."""
    master = SERVERS[port]
    processes = [master, *master.children(recursive=True)]
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def load(port, requests_, clients, seconds):
    """Send the prepared (path, body, headers) requests round-robin from `clients` threads."""
    latencies, statuses, lock = [], {}, threading.Lock()
    cpu_before = cpu_seconds(port)
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
    return {"elapsed": time.perf_counter() - started, "latencies": latencies, "statuses": statuses,
            "cpu": cpu_seconds(port) - cpu_before}


def summary(runs: list[dict]) -> dict:
    """Requests/s and latency percentiles of the rounds of one target taken together."""
    lat = np.array([x for r in runs for x in r["latencies"]]) * 1000
    statuses = {}
    for r in runs:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    return {"rps": len(lat) / sum(r["elapsed"] for r in runs), "p50": float(np.percentile(lat, 50)),
            "p99": float(np.percentile(lat, 99)), "n": len(lat), "statuses": statuses,
            "rounds": [len(r["latencies"]) / r["elapsed"] for r in runs],
            "cpu_ms": 1000 * sum(r["cpu"] for r in runs) / len(lat)}


def service_requests(port, exercise_id, admin_key):
    """Issue one instance per learner through the API and build right-answer submissions, with the
    same instances' requests for both baselines."""
    from grader import tokens
    from grader.catalog import load_catalog
    from grader.config import DefaultConfig
    catalog = load_catalog([Path(p) for p in DefaultConfig.EXERCISE_DIRS], Path(DefaultConfig.MISCONCEPTION_SLUGS))
    exercise = catalog[exercise_id]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"}
    plain = {"Content-Type": "application/json"}
    prepared, params_baseline, seed_baseline = [], [], []
    for n in range(LEARNERS):
        conn.request("POST", f"/api/v1/exercises/{exercise_id}/instances",
                     body=json.dumps({"learner": f"learner-{n}"}), headers=headers)
        instance = json.loads(conn.getresponse().read())["instance"]
        params = {k: np.asarray(v) for k, v in instance["params"].items()}
        answer = {k: np.asarray(v).tolist() for k, v in exercise.solve(params).items()}
        body = {"exercise_id": exercise_id, "kind": "numeric", "instance_token": instance["token"],
                "answer": answer, "learner": f"learner-{n}"}
        prepared.append(("/api/v1/submissions", json.dumps(body), headers))
        params_baseline.append(("/grade", json.dumps({"exercise_id": exercise_id, "params": instance["params"],
                                                      "answer": answer}), plain))
        seed = tokens.verify(os.environ["BENCH_SECRET"], instance["token"], learner=f"learner-{n}",
                             max_age=3600).seed
        seed_baseline.append(("/grade-from-seed", json.dumps({"exercise_id": exercise_id, "seed": seed,
                                                              "answer": answer}), plain))
    conn.close()
    return prepared, {"params": params_baseline, "seed": seed_baseline}


def serving(args):
    """gunicorn options: the service's serving model, the same for the baselines."""
    return ["--worker-class", "gthread", "--threads", str(args.threads), "--keep-alive", "5"]


def start_service(args, database_url, checkout=ROOT):
    """The service of a checkout under gunicorn on a fresh database; (process, port, admin key)."""
    # rate limits stay on (their queries are part of every submission) with counts the bench never reaches
    limits = {"learner_exercise": {"count": 10 ** 9, "window_s": 600}, "key": {"count": 10 ** 9, "window_s": 60}}
    env = {"GRADER_DATABASE_URL": database_url, "GRADER_SECRET_KEY": os.environ["BENCH_SECRET"],
           "GRADER_RATE_LIMITS": json.dumps(limits)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=checkout, check=True,
                   env={**os.environ, **env}, capture_output=True)
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "create-key", "--role", "admin"],
                         cwd=checkout, check=True, env={**os.environ, **env}, capture_output=True, text=True)
    port = free_port()
    return (start("wsgi:app", port, args.workers, env, serving(args), cwd=checkout), port,
            out.stdout.strip().splitlines()[-1])


def stored_rows(database_url):
    from sqlalchemy import create_engine, text
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM submissions")).scalar_one()
    engine.dispose()
    return count


class PostgresDatabase:
    """A fresh database on the local server for one run, dropped after."""

    def __enter__(self):
        import psycopg
        self.name = f"bptt_numeric_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"

    def __exit__(self, *exc):
        import psycopg
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{self.name}" WITH (FORCE)')


def postgres_available():
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="per target, split over the rounds")
    parser.add_argument("--rounds", type=int, default=3, help="targets loaded in turn, this many times")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--exercise", default="tanh-rnn-bptt")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL run")
    parser.add_argument("--compare", metavar="DIR", help="another checkout whose service (SQLite) is loaded too")
    args = parser.parse_args()
    os.environ.setdefault("BENCH_SECRET", "bench-secret-" + os.urandom(8).hex())
    with tempfile.TemporaryDirectory() as workdir, contextlib.ExitStack() as stack:
        urls = {"service, SQLite (FULL)": f"sqlite:///{workdir}/bench.sqlite"}
        checkouts = {"service, SQLite (FULL)": ROOT}
        if args.compare:
            name = f"service, SQLite (FULL), {revision(args.compare)}"
            urls[name], checkouts[name] = f"sqlite:///{workdir}/compared.sqlite", Path(args.compare).resolve()
        if not args.no_postgres and postgres_available():
            urls["service, PostgreSQL"] = stack.enter_context(PostgresDatabase())
        targets, baselines = {}, None
        for name, url in urls.items():
            proc, port, admin_key = start_service(args, url, checkouts.get(name, ROOT))
            stack.callback(stop, proc)
            prepared, baselines = service_requests(port, args.exercise, admin_key)
            targets[name] = (port, prepared)
        bare_port = free_port()
        stack.callback(stop, start("bench.bare_app:app", bare_port, args.workers, {}, serving(args)))
        targets = {"baseline: params, reference, allclose": (bare_port, baselines["params"]),
                   "baseline: regenerate from seed": (bare_port, baselines["seed"]), **targets}
        for port, requests_ in targets.values():
            load(port, requests_, args.clients, 2)  # warm-up, not counted
        runs = {name: [] for name in targets}
        for _ in range(args.rounds):  # in turn, so that the machine's load weighs on every target alike
            for name, (port, requests_) in targets.items():
                runs[name].append(load(port, requests_, args.clients, args.seconds / args.rounds))
        results = {name: summary(r) for name, r in runs.items()}
        for name, url in urls.items():
            results[name]["stored"] = stored_rows(url)
    report(args, results)


def revision(checkout) -> str:
    """The short commit id of a checkout (its directory's name if git cannot tell)."""
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or Path(checkout).name


def report(args, results):
    print(f"exercise {args.exercise}, {args.clients} clients, {args.workers} gunicorn gthread workers x "
          f"{args.threads} threads, {args.seconds:.0f} s per target in {args.rounds} rounds taken in turn, "
          f"{LEARNERS} instances in rotation")
    print(f"{'run':<40}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms':>8}{'requests':>10}"
          "  per round; statuses, rows stored")
    for name, r in results.items():
        stored = f", stored {r['stored']} (incl. warm-up)" if "stored" in r else ""
        rounds = "/".join(f"{x:.0f}" for x in r["rounds"])
        print(f"{name:<40}{r['rps']:>9.1f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['cpu_ms']:>8.2f}{r['n']:>10}  {rounds}; "
              f"{r['statuses']}{stored}")
    params, seed = results["baseline: params, reference, allclose"], results["baseline: regenerate from seed"]
    for name, r in results.items():
        if name.startswith("service"):
            print(f"{name}: {r['rps'] / params['rps']:.2f} of the params baseline (target >= 0.60), "
                  f"{r['rps'] / seed['rps']:.2f} of the seed baseline; p99 {r['p99']:.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
