"""The job: jail itself, then run the student's entry point on each instance and write raw values.

Runs in a child forked from the zygote; the last thing it does before untrusted code is load the
seccomp filter. It reports values, never verdicts: the app decodes and grades.
"""
import json
import linecache
import os
import signal
import sys
import traceback

import numpy as np

import jail

CPU_EXIT, SETUP_EXIT = 152, 121
FILENAME = "<submission>"


def run_job(request, limits, uid, out_fd, result_fd, program, layers, mode):
    """Never returns: ends with os._exit."""
    try:
        _enter_jail(limits, uid, out_fd, result_fd, program, layers, mode)
    except BaseException as exc:  # fail closed: no layer, no student code
        os.write(2, f"sandbox setup failed: {exc!r}\n".encode())
        os._exit(SETUP_EXIT)
    try:
        code = compile(request["source"], FILENAME, "exec")  # once; each instance runs it in a fresh namespace
    except BaseException as exc:  # the app checked the syntax; anything else still becomes a report
        code = exc
    linecache.cache[FILENAME] = (len(request["source"]), None, request["source"].splitlines(True), FILENAME)
    results = [_run_instance(code, request["entry_point"], inputs) for inputs in request["instances"]]
    try:
        payload = json.dumps(results, allow_nan=True).encode()
    except (TypeError, ValueError) as exc:
        payload = json.dumps([{"ok": False, "error": "TypeError", "where": [], "detail": str(exc)[:200]}]).encode()
    _write_all(3, payload)
    os._exit(0)


def _enter_jail(limits, uid, out_fd, result_fd, program, layers, mode):
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.dup2(result_fd, 3)
    os.closerange(4, 1 << 16)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    signal.signal(signal.SIGXCPU, lambda *_: os._exit(CPU_EXIT))  # pid 1 ignores SIGXCPU by default
    jail.set_limits(int(limits["cpu_s"]), int(limits["memory_bytes"]), int(limits["processes"]),
                    int(limits["file_bytes"]), int(limits["open_files"]))
    strict = mode == "strict"
    if layers["root"] or strict:
        jail.drop_privileges(uid)
    else:
        jail.no_new_privs()
    if layers["landlock_abi"] >= 4 or strict:
        jail.restrict_filesystem_and_network()
    if layers["seccomp"] or strict:
        jail.load_seccomp(program)


def _run_instance(code, entry_point, inputs):
    """Call the entry point on one instance; return its values or the error in the student's frames."""
    try:
        if isinstance(code, BaseException):
            raise code
        namespace = {"__name__": "submission"}
        exec(code, namespace)
        value = namespace[entry_point](**{k: _decode(v) for k, v in inputs.items()})
        if not isinstance(value, dict):
            return {"ok": False, "error": "ReturnType", "where": [],
                    "detail": f"{entry_point} must return a dict, not {type(value).__name__}"}
        return {"ok": True, "value": {str(k): _plain(v) for k, v in value.items()}}
    except BaseException as exc:  # the student's exception becomes an error report
        frames = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}"
                  for f in traceback.extract_tb(exc.__traceback__) if f.filename == FILENAME]
        return {"ok": False, "error": type(exc).__name__, "where": frames[-5:], "detail": None}


def _decode(encoded):
    if isinstance(encoded, dict) and "array" in encoded:
        return np.asarray(encoded["array"], dtype=encoded["dtype"])
    return encoded


def _plain(value):
    """Raw values only: numbers and nested lists of numbers, strings, lists of strings."""
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (set, frozenset)):
        return sorted(str(v) for v in value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return list(value)
    array = np.asarray(value)
    if array.dtype.kind in "iu" and array.ndim == 0:
        return int(array)
    if array.dtype.kind not in "fiub":
        return f"<{type(value).__name__}>"
    return array.astype(np.float64).tolist()


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
