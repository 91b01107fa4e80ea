"""Fair share: one learner floods hostile 5 s code jobs while another submits a correct solution.

Per serving model (gunicorn sync workers, and gthread workers with threads), 2 workers each, the
in-process default (SQLite, the zygote with 4 slots): 8 flooding clients of one learner send a job
that sleeps past the 5 s wall clock, retrying 0.1 s after each refusal; one honest learner submits
a correct 5-instance tanh-rnn-bptt solution over and over. Prints the honest learner's latency (p50,
p95, max), what the flood got (graded and stored, refused with 429) and what it was charged (its
stored submissions, which count against its rate limit).

Usage: python bench/fairness.py [--seconds 20] [--threads 8]
"""
import argparse
import http.client
import json
import os
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

from bench.numeric import free_port, start, stop  # noqa: E402

HOSTILE = "import time\n\ndef rnn_bptt(**kw):\n    time.sleep(30)\n    return {}\n"


def create_key(env, learner):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "create-key", "--role", "learner",
                           "--learner", learner], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]


def post(port, key, source, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/api/v1/submissions", body=json.dumps(
            {"exercise_id": "tanh-rnn-bptt", "kind": "code", "source": source}),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def scenario(label, extra, seconds, solution):
    with tempfile.TemporaryDirectory() as workdir:
        database = f"{workdir}/fair.sqlite"
        env = {"GRADER_DATABASE_URL": f"sqlite:///{database}", "GRADER_SECRET_KEY": "bench-" + os.urandom(8).hex(),
               "GRADER_SANDBOX_SOCKET": f"{workdir}/sandbox.sock",
               "GRADER_SANDBOX_LIMITS": json.dumps({"wall_s": 5.0, "cpu_s": 3, "memory_bytes": 1 << 30}),
               "GRADER_RATE_LIMITS": json.dumps({"learner_exercise": {"count": 10 ** 6, "window_s": 600}})}
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "init-db"], cwd=ROOT,
                       env={**os.environ, **env}, check=True, capture_output=True)
        flooder, honest = create_key(env, "flooder"), create_key(env, "honest")
        zygote = subprocess.Popen([sys.executable, "-I", str(ROOT / "grader/sandbox/zygote.py"), "--socket",
                                   env["GRADER_SANDBOX_SOCKET"], "--slots", "4"], env={}, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        zygote.stdout.readline()
        port = free_port()
        web = start("wsgi:app", port, 2, env, ("--access-logfile", "/dev/null", *extra))
        flood = {"graded": 0, "refused": 0, "other": 0}
        lock, stop_at = threading.Lock(), time.monotonic() + seconds

        def flood_client():
            while time.monotonic() < stop_at:
                try:
                    status, _ = post(port, flooder, HOSTILE)
                except OSError:  # the server stopping under a request at the end of the run
                    status = None
                with lock:
                    flood["graded" if status == 201 else "refused" if status == 429 else "other"] += 1
                if status == 429:
                    time.sleep(0.1)

        try:
            assert post(port, honest, solution)[1]["verdict"] == "correct"  # warm both workers' caches
            threads = [threading.Thread(target=flood_client) for _ in range(8)]
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # the flood is in flight
            latencies = []
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                status, report = post(port, honest, solution)
                latencies.append(time.perf_counter() - t0)
                assert status == 201 and report["verdict"] == "correct", report
            for thread in threads:
                thread.join()
        finally:
            stop(web)
            zygote.terminate()
            zygote.wait(timeout=10)
            zygote.stdout.close()
        with sqlite3.connect(database) as db:
            charged = db.execute("SELECT verdict, count(*) FROM submissions WHERE learner = 'flooder' "
                                 "GROUP BY verdict").fetchall()
    ms = np.array(latencies) * 1000
    print(f"{label:<34}{len(ms):>8}{np.median(ms):>10.0f}{np.percentile(ms, 95):>10.0f}{ms.max():>10.0f}"
          f"{flood['graded']:>9}{flood['refused']:>9}   {dict(charged)}")
    return float(np.percentile(ms, 95))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    solution = (ROOT / "exercises/tanh-rnn-bptt/solution.py").read_text()
    print(f"8 flooding clients of one learner (5 s hostile jobs) vs one honest learner, {args.seconds:g} s each")
    print(f"{'serving model':<34}{'honest':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'flood ok':>9}"
          f"{'flood 429':>9}   flooder's stored verdicts")
    sync = scenario("sync, 2 workers", ("--worker-class", "sync", "--threads", "1"), args.seconds, solution)
    threaded = scenario(f"gthread, 2 workers x {args.threads} threads",
                        ("--worker-class", "gthread", "--threads", str(args.threads)), args.seconds, solution)
    print(f"honest p95: sync {sync / 1000:.2f} s, gthread {threaded / 1000:.2f} s (target < 3 s)")


if __name__ == "__main__":
    main()
