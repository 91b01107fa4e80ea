"""gunicorn's own error answers (a malformed request line, a URI or headers over its limits, a
crash before the app answers) as RFC 9457 problem documents like every other error of the service.

gunicorn writes these with gunicorn.util.write_error before any request reaches Flask; the
post_worker_init hook in gunicorn.conf.py puts write_problem in its place in each worker.
"""
from __future__ import annotations

import json

from gunicorn import util


def write_problem(sock, status_int, reason, mesg):
    body = json.dumps({"type": "about:blank", "title": reason, "status": int(status_int),
                       "detail": mesg or reason}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode("latin1")
    util.write_nonblock(sock, head + body)


def install(worker) -> None:
    util.write_error = write_problem
