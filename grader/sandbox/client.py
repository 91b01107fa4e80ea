"""The app's side of the sandbox: talk to the zygote over its unix socket, decode what comes back.

Nothing the job produced is unpickled, imported or called: results arrive as JSON text and are
decoded here into plain numbers, lists and strings. The decoded document is still the job's word:
grader/grading/results.py validates it against the exercise before anything is graded.
"""
from __future__ import annotations

import base64
import json
import socket
import struct
from dataclasses import dataclass, field

import numpy as np

RESPONSE_CAP = 8 << 20  # the result cap (4 MiB) in base64, with room to spare


class SandboxUnavailable(RuntimeError):
    """The zygote is not running, not reachable, or refuses jobs (a required layer is missing)."""


@dataclass(frozen=True)
class JobOutcome:
    """status: ok, timeout, cpu-limit, output-limit, result-limit, malformed-result, crashed or
    setup-failed. results is the decoded result document when status is ok (unvalidated)."""

    status: str
    elapsed_ms: float
    exit_code: int | None = None
    results: object = field(default_factory=list)  # per instance: {"ok", "value"} or {"ok": False, "error", "lines"}


class SandboxClient:
    def __init__(self, socket_path: str, timeout_s: float = 30.0):
        self.socket_path, self.timeout_s = socket_path, timeout_s

    def status(self) -> dict:
        return self._call({"type": "status"}, timeout=2.0)

    def run(self, source: str, entry_point: str, instances: list[dict], limits: dict | None = None,
            request_id: str | None = None, autograd: bool = False, torch: bool = False) -> JobOutcome:
        """Run entry_point on each instance's params (name -> array, number or string). torch: run it
        where PyTorch is preloaded; autograd: whether the job may use torch's autograd (exercises about
        its semantics), refused by default."""
        request = {"source": source, "entry_point": entry_point, "request_id": request_id,
                   "instances": [{k: encode(v) for k, v in params.items()} for params in instances],
                   "limits": limits or {}, "rules": {"autograd": bool(autograd)}, "torch": bool(torch)}
        reply = self._call(request, timeout=self.timeout_s)
        if reply.get("status") == "unavailable":
            raise SandboxUnavailable("the sandbox refuses jobs: " + "; ".join(reply.get("missing", [])))
        status, results = reply["status"], []
        if status == "ok":
            try:  # NaN and Infinity decode to floats; the ladder rejects them
                results = json.loads(base64.b64decode(reply["result_b64"]))
            except (ValueError, RecursionError):  # not JSON, too deep, an integer of thousands of digits
                status = "malformed-result"
        return JobOutcome(status=status, elapsed_ms=reply["elapsed_ms"], exit_code=reply.get("exit_code"),
                          results=results)

    def _call(self, payload: dict, timeout: float) -> dict:
        data = json.dumps(payload).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(timeout)
                conn.connect(self.socket_path)
                conn.sendall(struct.pack("!I", len(data)) + data)
                (length,) = struct.unpack("!I", _read(conn, 4))
                if length > RESPONSE_CAP:
                    raise SandboxUnavailable(f"sandbox reply of {length} bytes is over the cap")
                return json.loads(_read(conn, length))
        except (OSError, ConnectionError, ValueError) as exc:
            raise SandboxUnavailable(f"the sandbox at {self.socket_path} did not answer: {exc}") from exc


def encode(value):
    """Arrays travel with their dtype so the job rebuilds exactly what the grader generated."""
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _read(conn, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = conn.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed mid-reply")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
