"""Prometheus metrics: requests, grading latency, sandbox outcomes, queue depth, passback backlog.

The metric objects are process-wide, as prometheus_client intends; under gunicorn set
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py does) and /metrics aggregates every worker.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest,
                               multiprocess)

REQUESTS = Counter("grader_http_requests_total", "HTTP requests", ["route", "method", "status"])
GRADING = Histogram("grader_grading_seconds", "Time to grade one submission", ["exercise", "kind"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
SANDBOX = Counter("grader_sandbox_jobs_total", "Sandbox jobs by outcome (ok, timeout, cpu-limit, ...)", ["status"])
QUEUE_DEPTH = Gauge("grader_queue_depth", "Code submissions waiting in the grading queue", multiprocess_mode="max")
PASSBACK_BACKLOG = Gauge("grader_passback_backlog", "Score passbacks not yet delivered", multiprocess_mode="max")


@contextmanager
def timed_grading(exercise_id: str, kind: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        _child(GRADING, exercise_id, kind).observe(time.perf_counter() - started)


def sandbox_outcome(status: str) -> None:
    SANDBOX.labels(status=status).inc()


def init_app(app) -> None:
    from flask import Response

    @app.route("/metrics")
    def prometheus_metrics():
        body, content_type = exposition(app.extensions.get("grader.queue"))
        return Response(body, content_type=content_type)

    @app.after_request
    def count_request(response):
        from flask import request
        count(request.url_rule.rule if request.url_rule else "<unmatched>", request.method, response.status_code)
        return response


def count(route: str, method: str, status: int) -> None:
    _child(REQUESTS, route, method, status).inc()


_CHILDREN: dict = {}  # (metric, label values) -> its child: labels() checks and locks on every call


def _child(metric, *values):
    child = _CHILDREN.get((metric, values))
    if child is None:
        child = _CHILDREN[metric, values] = metric.labels(*map(str, values))
    return child


def exposition(queue=None) -> tuple[bytes, str]:
    """The text format of every metric, refreshing the gauges that are read, not counted."""
    if queue is not None:
        try:
            QUEUE_DEPTH.set(queue.depth())
        except Exception:  # a scrape must not fail because the broker is down; the gauge keeps its value
            QUEUE_DEPTH.set(-1)
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
