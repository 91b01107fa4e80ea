"""gunicorn settings for the web role, derived from the grader's own limits (gunicorn -c gunicorn.conf.py wsgi:app)."""
import json
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GRADER_BIND", "127.0.0.1:8000")
# gthread workers: grading is CPU-bound numpy plus one fsync, but a code submission waits on the
# sandbox for up to its wall clock; with threads that wait holds one thread, not the whole worker
# (bench/fairness.py measures both models). Two workers per core keep both cores busy.
workers = int(os.environ.get("WEB_WORKERS", 2 * multiprocessing.cpu_count()))
worker_class = os.environ.get("WEB_WORKER_CLASS", "gthread")
threads = int(os.environ.get("WEB_THREADS", 8))
_limits = json.loads(os.environ.get("GRADER_SANDBOX_LIMITS", '{"wall_s": 5.0}'))
_wait = float(os.environ.get("GRADER_QUEUE_WAIT_MAX_S", 30))
# a request may run one sandbox job in-process (wall_s) or wait for a queued grade (?wait=): never
# kill a worker that is still inside either
timeout = int(max(float(_limits.get("wall_s", 5.0)), _wait) + 15)
graceful_timeout = 30
keepalive = 5
accesslog = "-"
access_log_format = '{"event": "access", "request_id": "%({x-request-id}o)s", "method": "%(m)s", ' \
                    '"path": "%(U)s", "status": %(s)s, "ms": %(M)s}'

# Prometheus in multiprocess mode: every worker writes its samples here, /metrics adds them up
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="grader-metrics-")


def post_worker_init(worker):
    from grader import serving
    serving.install(worker)  # gunicorn's own 400/414/431/500 answers as problem+json


def on_exit(server):
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)
