"""The sandbox zygote: started apart from the app with a clean environment, it preloads numpy,
builds the seccomp filter, freezes the heap and forks one supervisor per request; when PyTorch is
installed it also forks a torch zygote that preloads it and serves the jobs that name torch
(spawn_torch_zygote, torchjob.py).

Run by path (python -I grader/sandbox/zygote.py --socket PATH); it never imports the grader and
holds no secret, reference or hidden instance. Per request the supervisor reads the job, enters a
new PID namespace and forks the job (pid 1 there): fds, a private mount namespace whose root is an
empty tmpfs and a private IPC namespace, rlimits, a per-slot uid, no_new_privs, Landlock, seccomp,
then the student code. The supervisor enforces the wall clock and the output caps and sends back
the raw result bytes (base64, so their size on the wire is fixed); the app validates and grades
them. What the job prints is counted and dropped: no report shows it.
"""
import argparse
import base64
import gc
import json
import os
import select
import signal
import socket
import struct
import sys
import tempfile
import time

os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Preloaded: after Landlock a job can read no file, so what students may import is what is here
# (numpy loads some submodules lazily: they are touched here so that jobs find them in memory).
import numpy as np  # noqa: E402
import numpy.fft, numpy.linalg, numpy.random  # noqa: E401,E402,F401
import bisect, cmath, collections, copy, dataclasses, decimal, fractions, functools, heapq, itertools  # noqa: E401,E402,F401
import math, numbers, operator, random, re, statistics, string, threading, typing, warnings  # noqa: E401,E402,F401
import linecache, traceback  # noqa: E401,E402,F401

import jail  # noqa: E402
import runner  # noqa: E402
from layers import Layers  # noqa: E402
import torchjob  # noqa: E402

REQUEST_CAP = 16 << 20
FIRST_SLOT_UID = 20000


def read_message(conn, cap=REQUEST_CAP):
    header = _read_exactly(conn, 4)
    (length,) = struct.unpack("!I", header)
    if length > cap:
        raise ValueError(f"request of {length} bytes is over the {cap}-byte cap")
    return json.loads(_read_exactly(conn, length))


def send_message(conn, payload):
    data = json.dumps(payload).encode()
    conn.sendall(struct.pack("!I", len(data)) + data)


def _read_exactly(conn, n):
    chunks, got = [], 0
    while got < n:
        chunk = conn.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed mid-message")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def supervise(conn, slot, layers, program, defaults, root):
    """Per request: read it, run the job in a fresh PID namespace, send back what it produced."""
    conn.settimeout(10)
    request = read_message(conn)
    if request.get("type") == "status":
        send_message(conn, layers.report())
        return
    report = layers.report()
    if not report["ready"]:
        send_message(conn, {"status": "unavailable", "missing": report["missing"]})
        return
    if request.get("torch") and layers.torch_socket:  # forked from the torch zygote, not from this one
        send_message(conn, _relay(layers.torch_socket, request, float(defaults["wall_s"])))
        return
    request["torch_offered"] = layers.torch is not None  # what a job that imports torch unloaded is told
    limits = {**defaults, **request.get("limits", {})}
    if torchjob.TORCH is not None:  # the learner's budget is the configured one; torch's own mappings come on top
        limits["memory_bytes"] = int(limits["memory_bytes"]) + layers.torch["address_space_extra_bytes"]
    out_r, out_w = os.pipe()
    res_r, res_w = os.pipe()
    if layers.status["pid_namespace"]:
        jail.unshare(jail.CLONE_NEWPID)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(res_r)
        runner.run_job(request, limits, FIRST_SLOT_UID + layers.uid_offset + slot, out_w, res_w, program,
                       layers.status, layers.mode, root)
    os.close(out_w)
    os.close(res_w)
    outcome = _collect(pid, out_r, res_r, limits, started)
    send_message(conn, outcome)
    print(json.dumps({"event": "job", "request_id": request.get("request_id"), "slot": slot,
                      "status": outcome["status"], "elapsed_ms": outcome["elapsed_ms"]}), file=sys.stderr, flush=True)


def _relay(path, request, wall_s):
    """One request to the torch zygote, its reply as it is (the app validates the result anyway)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as inner:
        inner.settimeout(float(request.get("limits", {}).get("wall_s", wall_s)) + 30)
        inner.connect(path)
        send_message(inner, request)
        return read_message(inner, cap=REQUEST_CAP)


def _collect(pid, out_r, res_r, limits, started):
    """Read both pipes until the job ends, the wall clock runs out or a cap is hit; kill the job."""
    caps = {out_r: limits["output_bytes"], res_r: limits["result_bytes"]}
    buffers = {out_r: bytearray(), res_r: bytearray()}
    deadline = started + limits["wall_s"]
    status, open_fds = None, [out_r, res_r]
    while open_fds:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            status = "timeout"
            break
        ready, _, _ = select.select(open_fds, [], [], remaining)
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.remove(fd)
                continue
            buffers[fd] += chunk
            if len(buffers[fd]) > caps[fd]:
                status = "output-limit" if fd == out_r else "result-limit"
                open_fds = []
                break
    _kill(pid)
    _, wait_status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - started
    exit_code = os.waitstatus_to_exitcode(wait_status)
    result = bytes(buffers[res_r])
    jailed = result.startswith(runner.READY)  # written by the runner after the last layer, before any student code
    if not jailed:
        status = "setup-failed"
    elif status is None:
        status = "ok" if exit_code == 0 else "cpu-limit" if exit_code == runner.CPU_EXIT else "crashed"
    return {"status": status, "exit_code": exit_code, "elapsed_ms": round(elapsed * 1000, 3),
            "output_bytes": len(buffers[out_r]),
            "result_b64": base64.b64encode(result[1:]).decode() if status == "ok" else None}


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)  # pid 1 of its namespace: everything it started dies with it
    except ProcessLookupError:
        pass


def listen(path, mode, group=None):
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, mode)
    if group is not None:
        os.chown(path, 0, group)
    server.listen(64)
    return server


def spawn_torch_zygote(path, slots, layers, program, defaults, root):
    """A second zygote, forked from this one once its layers are probed, that preloads torch and
    serves the jobs that name torch (relayed by this zygote's supervisors; its socket is root's
    only). Numpy jobs keep forking from this small zygote: a process holding torch's 140 MB of
    anonymous memory takes about 10 ms to fork and reap, against 1 to 2.5 ms (bench/torch_cost.py).
    Returns its pid, or None when torch is not installed."""
    server = listen(path, 0o600)
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:  # whatever ends it (SIGTERM's SystemExit included), it never returns into main()
            os.close(ready_r)
            jail.LIBC.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG: it ends with this zygote
            layers.torch = torchjob.preload()
            layers.uid_offset = slots  # concurrent jobs of both zygotes never share a uid (nor RLIMIT_NPROC)
            os.write(ready_w, json.dumps(layers.torch).encode())
            os.close(ready_w)
            if layers.torch is not None:
                serve(server, slots, layers, program, defaults, root)
        finally:
            os._exit(0)
    os.close(ready_w)
    server.close()
    with os.fdopen(ready_r) as ready:
        layers.torch = json.loads(ready.read() or "null")
    layers.torch_socket = path if layers.torch is not None else None
    return pid if layers.torch is not None else None


def serve(server, slots, layers, program, defaults, root):
    busy = {}  # supervisor pid -> slot
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    gc.freeze()  # forked children must not finalise the zygote's objects (stale fds)
    while True:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            busy.pop(pid, None)
        if len(busy) >= slots:
            pid, _ = os.waitpid(-1, 0)
            busy.pop(pid, None)
            continue
        conn, _ = server.accept()
        slot = min(set(range(slots)) - set(busy.values()))
        pid = os.fork()
        if pid == 0:
            server.close()
            code = 0
            try:
                supervise(conn, slot, layers, program, defaults, root)
            except Exception as exc:  # a supervisor failure ends this request only; say why on stderr
                print(json.dumps({"event": "supervisor-error", "error": repr(exc)}), file=sys.stderr, flush=True)
                code = 1
            os._exit(code)
        busy[pid] = slot
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--mode", choices=["strict", "weak"], default="strict")
    parser.add_argument("--group", type=int, help="gid that may connect to the socket")
    parser.add_argument("--disable", action="append", default=[],
                        choices=["root", "landlock_abi", "seccomp", "net_namespace", "pid_namespace",
                                 "mount_namespace", "ipc_namespace"],
                        help="treat a layer as missing (strict mode then refuses jobs)")
    parser.add_argument("--without-torch", action="store_true",
                        help="do not preload PyTorch even when it is installed (jobs then cannot import it)")
    parser.add_argument("--wall-s", type=float, default=5.0)
    parser.add_argument("--cpu-s", type=int, default=3)
    parser.add_argument("--memory-mb", type=int, default=1024)
    args = parser.parse_args()
    np.linalg.solve(np.eye(3), np.ones(3))  # touch the BLAS once so no job pays for its set-up
    np.random.default_rng(0).random(3)  # and the random module's lazy parts
    np.random.default_rng().random(3)
    defaults = {"wall_s": args.wall_s, "cpu_s": args.cpu_s, "memory_bytes": args.memory_mb << 20,
                "processes": 32, "file_bytes": 1 << 20, "open_files": 64, "output_bytes": 64 << 10,
                "result_bytes": 4 << 20}
    socket_path = os.path.abspath(args.socket)
    os.chdir("/")  # no job starts in the grader's folder
    root = tempfile.mkdtemp(prefix="bptt-jail-root-")  # stays empty: each job mounts its own tmpfs on it
    layers = Layers(args.mode, root, args.disable)
    program, torch_zygote = jail.seccomp_program(), None
    try:
        if not args.without_torch:
            torch_zygote = spawn_torch_zygote(socket_path + ".torch", args.slots, layers, program, defaults, root)
        server = listen(socket_path, 0o660, args.group)
        print(json.dumps({"event": "zygote-ready", "socket": socket_path, **layers.report()}), flush=True)
        serve(server, args.slots, layers, program, defaults, root)
    finally:
        if torch_zygote is not None:
            os.kill(torch_zygote, signal.SIGTERM)
        os.rmdir(root)


if __name__ == "__main__":
    main()
