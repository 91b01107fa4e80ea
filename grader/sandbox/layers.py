"""Which isolation layers this machine gives the sandbox's jobs, probed once by the zygote at start-up.

Standard library and jail.py only: this file runs in the zygote, which never imports the grader.
"""
import os

import jail


class Layers:
    """Which layers this machine gives the jobs, probed once at start-up."""

    def __init__(self, mode, root, disabled=()):
        self.mode = mode
        self.torch = None  # what torchjob.preload reported in the torch zygote, None without torch
        self.torch_socket = None  # where this zygote sends the jobs that name torch (see spawn_torch_zygote)
        self.uid_offset = 0  # the torch zygote's slots take uids after the numpy zygote's: no uid is shared
        self.status = {
            "root": os.geteuid() == 0,
            "landlock_abi": jail.landlock_abi(),
            "seccomp": os.uname().machine == "x86_64",
            "net_namespace": False,
            "pid_namespace": False,
            "mount_namespace": False,  # an empty tmpfs as the job's root: no host path resolves
            "ipc_namespace": False,  # SysV IPC private to the job, gone with it
        }
        if self.status["root"]:
            try:
                jail.unshare(jail.CLONE_NEWNET)  # once for the zygote: no job ever has a network
                self.status["net_namespace"] = True
            except jail.JailError as exc:
                self.status["net_namespace_error"] = str(exc)
            self.status["pid_namespace"] = _probe(lambda: jail.unshare(jail.CLONE_NEWPID))
            self.status["mount_namespace"] = self.status["ipc_namespace"] = _probe(lambda: jail.enter_empty_root(root))
        for layer in disabled:  # an operator's (or a test's) explicit choice, reported as missing
            self.status[layer] = 0 if layer == "landlock_abi" else False

    def missing(self):
        required = {"root": "per-slot uids need root", "net_namespace": "no network namespace",
                    "pid_namespace": "no PID namespace", "mount_namespace": "no mount namespace (empty root)",
                    "ipc_namespace": "no IPC namespace", "seccomp": "seccomp filter is x86_64 only"}
        missing = [text for key, text in required.items() if not self.status[key]]
        if self.status["landlock_abi"] < 4:
            missing.append(f"Landlock ABI {self.status['landlock_abi']} < 4")
        return missing

    def report(self):
        missing = self.missing()
        ready = not missing or self.mode == "weak"
        return {"ready": ready, "mode": self.mode, "layers": self.status, "missing": missing, "torch": self.torch}


def _probe(install):
    """Whether a layer installs, tried in a throw-away child."""
    pid = os.fork()
    if pid == 0:
        try:
            install()
            os._exit(0)
        except (jail.JailError, OSError):
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0
