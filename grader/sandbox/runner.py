"""The job: jail itself, then run the student's entry point on each instance and write raw values.

Runs in a child forked from the zygote; the last thing it does before untrusted code is load the
seccomp filter. It reports values, never verdicts and never text: for an exception only the class
name (the app keeps it only when it is one of the classes it knows) and the line numbers of the
submission's frames (the app takes function names and line text from the source it holds). The
app validates everything on fd 3 anyway, since the student's code can write there too.
"""
import json
import os
import signal
import sys

import numpy as np

import jail
import torchjob

CPU_EXIT, SETUP_EXIT = 152, 121
FILENAME = "<submission>"
READY = b"\x01"  # first byte on fd 3, written once every layer is in place (the supervisor checks it)
MAX_FIELDS = 64  # a result with more fields is reported as such, not encoded
# markers the app turns into its own messages (see grader/grading/results.py)
TOO_LARGE, TOO_MANY_FIELDS, NOT_A_DICT = "result-too-large", "too-many-fields", "not-a-dict"
AUTOGRAD_REFUSED, TORCH_UNAVAILABLE, TORCH_UNNAMED = "autograd-refused", "torch-unavailable", "torch-unnamed"
TORCH_PART = "torch-part-unavailable"


def run_job(request, limits, uid, out_fd, result_fd, program, layers, mode, root):
    """Never returns: ends with os._exit."""
    try:
        _enter_jail(limits, uid, out_fd, result_fd, program, layers, mode, root)
        guard = torchjob.guard(bool(request.get("rules", {}).get("autograd", False)))  # before any student code
    except BaseException as exc:  # fail closed: no layer, no student code
        os.write(2, f"sandbox setup failed: {exc!r}\n".encode())
        os._exit(SETUP_EXIT)
    _write_all(3, READY)
    try:
        code = compile(request["source"], FILENAME, "exec")  # once; each instance runs it in a fresh namespace
    except BaseException as exc:  # the app checked the syntax; anything else still becomes a report
        code = exc
    budget = [int(limits["result_bytes"]) // 8]  # numbers the whole result may hold (8 bytes each, at least)
    unloaded = TORCH_UNNAMED if request.get("torch_offered") else TORCH_UNAVAILABLE  # if it imports torch
    results = [_run_instance(code, request["entry_point"], inputs, budget, guard, unloaded)
               for inputs in request["instances"]]
    try:
        payload = json.dumps(results, allow_nan=True).encode()
    except (TypeError, ValueError, RecursionError):
        payload = json.dumps([{"ok": False, "error": None, "lines": []}] * len(results)).encode()
    _write_all(3, payload)
    os._exit(0)


def _enter_jail(limits, uid, out_fd, result_fd, program, layers, mode, root):
    os.setsid()
    empty, closed = os.pipe()  # stdin: an empty pipe of its own, not the host's /dev/null
    os.close(closed)
    os.dup2(empty, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.dup2(result_fd, 3)
    os.closerange(4, 1 << 16)
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    signal.signal(signal.SIGXCPU, lambda *_: os._exit(CPU_EXIT))  # pid 1 ignores SIGXCPU by default
    strict = mode == "strict"
    if layers["mount_namespace"] or strict:
        jail.enter_empty_root(root)
    jail.set_limits(int(limits["cpu_s"]), int(limits["memory_bytes"]), int(limits["processes"]),
                    int(limits["file_bytes"]), int(limits["open_files"]))
    if layers["root"] or strict:
        jail.drop_privileges(uid)
    else:
        jail.no_new_privs()
    if layers["landlock_abi"] >= 4 or strict:
        jail.restrict_filesystem_and_network()
    if layers["seccomp"] or strict:
        jail.load_seccomp(program)


def _run_instance(code, entry_point, inputs, budget, guard, unloaded):
    """Call the entry point on one instance; return its values, or the error's class and lines."""
    try:
        if isinstance(code, BaseException):
            raise code
        namespace = {"__name__": "submission"}
        exec(code, namespace)
        value = namespace[entry_point](**{k: _decode(v) for k, v in inputs.items()})
        if guard is not None and guard.tripped():  # reached, even if caught, or a guard put back
            return {"ok": False, "error": AUTOGRAD_REFUSED, "lines": []}
        if not isinstance(value, dict):
            return {"ok": False, "error": NOT_A_DICT, "lines": []}
        if len(value) > MAX_FIELDS:
            return {"ok": False, "error": TOO_MANY_FIELDS, "lines": []}
        plain = {str(k)[:64]: _plain(v, budget) for k, v in value.items()}
        if budget[0] < 0:
            return {"ok": False, "error": TOO_LARGE, "lines": []}
        return {"ok": True, "value": plain}
    except BaseException as exc:  # the student's exception becomes an error report
        lines = _submission_lines(exc.__traceback__)
        if guard is not None and guard.tripped():
            return {"ok": False, "error": AUTOGRAD_REFUSED, "lines": lines}
        if torchjob.is_torch_import_error(exc):
            return {"ok": False, "error": unloaded, "lines": lines}
        if torchjob.is_unpreloaded_part(exc):
            return {"ok": False, "error": TORCH_PART, "lines": lines}
        return {"ok": False, "error": type(exc).__name__[:64], "lines": lines}


def _submission_lines(tb):
    """Line numbers of the submission's frames, innermost last (no linecache, no names)."""
    lines = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            lines.append(int(tb.tb_lineno or 0))
        tb = tb.tb_next
    return lines[-5:]


def _decode(encoded):
    if isinstance(encoded, dict) and "array" in encoded:
        return np.asarray(encoded["array"], dtype=encoded["dtype"])
    return encoded


def _plain(value, budget):
    """Raw values only: numbers and nested lists of numbers, strings, lists of strings. The size is
    charged to the budget before anything is converted, so a giant array costs no time here."""
    if isinstance(value, (str, bool, int, float)):
        budget[0] -= 1 if not isinstance(value, str) else len(value) // 8 + 1
        return value if not isinstance(value, str) else value[:256]
    value = torchjob.untensor(value, budget)  # tensors, and lists of them, as arrays (torch loaded only)
    if budget[0] < 0:
        return None
    if isinstance(value, (set, frozenset, list, tuple)) and len(value) <= 64 and value \
            and all(isinstance(v, str) for v in value):
        budget[0] -= len(value)
        return sorted(v[:256] for v in value) if isinstance(value, (set, frozenset)) else [v[:256] for v in value]
    size = getattr(value, "size", None)
    if isinstance(size, int) and size > budget[0]:
        budget[0] = -1
        return None
    array = np.asarray(value)
    budget[0] -= array.size
    if budget[0] < 0:
        return None
    if array.dtype.kind in "iu" and array.ndim == 0:
        return int(array)
    if array.dtype.kind not in "fiub":
        return None
    return array.astype(np.float64).tolist()


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
