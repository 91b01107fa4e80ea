"""The job-side layers of the sandbox: an empty root and a private IPC namespace, rlimits, privilege
drop, Landlock and seccomp (x86_64).

Standard library and ctypes only: this file runs in the zygote, which never imports the grader.
Every layer raises JailError when it cannot be installed, so a job never runs half-jailed.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import struct

LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE, PR_GET_SECCOMP = 38, 4, 21
SYS_SECCOMP, SECCOMP_SET_MODE_FILTER = 317, 1
SYS_LANDLOCK_CREATE, SYS_LANDLOCK_ADD, SYS_LANDLOCK_RESTRICT = 444, 445, 446
CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC = 0x20000000, 0x40000000, 0x00020000, 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x1, 0x2, 0x4, 0x8, 0x4000, 0x40000
MNT_DETACH, SYS_PIVOT_ROOT = 0x2, 155


class JailError(RuntimeError):
    """A layer could not be installed: the job must not run."""


def _check(result, what):
    if result < 0:
        raise JailError(f"{what}: {os.strerror(ctypes.get_errno())}")
    return result


# ---- mount and IPC namespaces ----------------------------------------------------------------

def enter_empty_root(mountpoint: str) -> None:
    """A private mount namespace whose root is an empty, read-only tmpfs, and a private IPC
    namespace (no SysV segment or queue outlives the job or is shared with another).

    Called as root before the privilege drop. After it no path of the host resolves: no file, no
    pathname unix socket, no /proc. mountpoint is an empty directory the zygote made at start-up.
    """
    unshare(CLONE_NEWNS | CLONE_NEWIPC)
    _check(LIBC.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
    _check(LIBC.mount(b"bptt-jail", mountpoint.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      b"size=4k,mode=0555"), "mount the empty root")
    os.chdir(mountpoint)
    _check(LIBC.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    _check(LIBC.umount2(b".", MNT_DETACH), "detach the host's root")
    os.chdir("/")
    if os.listdir("/"):
        raise JailError("the job's root is not empty")


# ---- rlimits and privileges -------------------------------------------------------------------

def set_limits(cpu_s: int, memory_bytes: int, processes: int, file_bytes: int, open_files: int) -> None:
    """CPU (hard = soft + 1, SIGXCPU first), address space, processes, file size, fds, no core."""
    limits = {resource.RLIMIT_CPU: (cpu_s, cpu_s + 1), resource.RLIMIT_AS: (memory_bytes, memory_bytes),
              resource.RLIMIT_NPROC: (processes, processes), resource.RLIMIT_FSIZE: (file_bytes, file_bytes),
              resource.RLIMIT_NOFILE: (open_files, open_files), resource.RLIMIT_CORE: (0, 0)}
    for which, value in limits.items():
        resource.setrlimit(which, value)


def drop_privileges(uid: int) -> None:
    """Become uid:uid with no groups, not dumpable, no new privileges; verify root is gone."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _check(LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "PR_SET_DUMPABLE")
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise JailError("setuid(0) still works after the drop")


# ---- Landlock ---------------------------------------------------------------------------------

def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is not available."""
    return max(LIBC.syscall(SYS_LANDLOCK_CREATE, None, 0, 1), 0)


def restrict_filesystem_and_network() -> None:
    """A Landlock domain with no rules: no file may be opened, no TCP bind or connect, and (ABI >= 6)
    no signals or abstract unix sockets outside the domain. Needs no_new_privs (set before)."""
    abi = landlock_abi()
    if abi < 4:
        raise JailError(f"Landlock ABI {abi} (>= 4 needed for TCP rules)")
    fs_rights = (1 << (16 if abi >= 5 else 15)) - 1
    scoped = 0x3 if abi >= 6 else 0
    attr = struct.pack("QQQ", fs_rights, 0x3, scoped) if abi >= 6 else struct.pack("QQ", fs_rights, 0x3)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    fd = _check(LIBC.syscall(SYS_LANDLOCK_CREATE, buffer, len(attr), 0), "landlock_create_ruleset")
    try:
        _check(LIBC.syscall(SYS_LANDLOCK_RESTRICT, fd, 0), "landlock_restrict_self")
    finally:
        os.close(fd)


# ---- seccomp ----------------------------------------------------------------------------------

AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW, RET_KILL = 0x7FFF0000, 0x80000000
LD_ABS, JEQ, JSET, JGE, RET = 0x20, 0x15, 0x45, 0x35, 0x06
CLONE_THREAD = 0x10000
# x86_64 numbers: exec, fork, sockets of every family, SysV and POSIX IPC, file watches, namespaces
# and mounts, tracing, signals to others, kernel surfaces, identity changes. Default allow; these
# fail with EPERM. The job needs no socket at all: its result pipe (fd 3) exists before the filter.
DENIED = {
    "execve": 59, "execveat": 322, "fork": 57, "vfork": 58, "ptrace": 101,
    "socket": 41, "socketpair": 53, "connect": 42, "accept": 43, "accept4": 288, "bind": 49, "listen": 50,
    "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65, "semctl": 66,
    "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "mq_open": 240,
    "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245,
    "inotify_init": 253, "inotify_init1": 294, "inotify_add_watch": 254, "fanotify_init": 300,
    "fanotify_mark": 301, "flock": 73, "sync": 162, "syncfs": 306, "sync_file_range": 277, "utime": 132,
    "utimes": 235, "futimesat": 261, "utimensat": 280,
    "process_vm_readv": 310, "process_vm_writev": 311, "pidfd_open": 434, "pidfd_getfd": 438,
    "pidfd_send_signal": 424, "kill": 62, "tkill": 200, "unshare": 272, "setns": 308, "mount": 165,
    "umount2": 166, "pivot_root": 155, "chroot": 161, "open_tree": 428, "move_mount": 429, "fsopen": 430,
    "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "keyctl": 250, "add_key": 248, "request_key": 249, "personality": 135, "init_module": 175,
    "finit_module": 313, "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "reboot": 169,
    "swapon": 167, "swapoff": 168, "mknod": 133, "mknodat": 259, "setpriority": 141, "ioprio_set": 251,
    "landlock_create_ruleset": 444, "open_by_handle_at": 304, "name_to_handle_at": 303, "setuid": 105,
    "setgid": 106, "setreuid": 113, "setregid": 114, "setresuid": 117, "setresgid": 119, "setgroups": 116,
    "setfsuid": 122, "setfsgid": 123, "acct": 163, "quotactl": 179, "syslog": 103,
}
SYS_CLONE, SYS_CLONE3, SYS_FCNTL = 56, 435, 72
# fcntl's lock, lease and directory-notify commands: eventfd, epoll, timerfd and signalfd share one
# kernel inode, so a lock on one is seen by every process (a channel between jobs and to the host)
FCNTL_DENIED = (5, 6, 7, 36, 37, 38, 1024, 1025, 1026)  # F_GETLK F_SETLK F_SETLKW F_OFD_* F_SETLEASE F_GETLEASE F_NOTIFY


def _insn(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


def seccomp_program() -> bytes:
    """The BPF filter, built once in the zygote: threads may be cloned, processes not; no socket;
    clone3 answers ENOSYS so glibc falls back to clone for threads."""
    eperm, enosys = 0x00050000 | errno.EPERM, 0x00050000 | errno.ENOSYS
    program = [_insn(LD_ABS, 4), _insn(JEQ, AUDIT_ARCH_X86_64, 1, 0), _insn(RET, RET_KILL),
               _insn(LD_ABS, 0), _insn(JGE, 0x40000000, 0, 1), _insn(RET, eperm),  # no x32 ABI
               _insn(JEQ, SYS_CLONE, 0, 4), _insn(LD_ABS, 16), _insn(JSET, CLONE_THREAD, 0, 1),
               _insn(RET, RET_ALLOW), _insn(RET, eperm)]
    n = len(FCNTL_DENIED)  # fcntl: args[1] (the command) against the denied ones, else allowed
    program += [_insn(JEQ, SYS_FCNTL, 0, n + 3), _insn(LD_ABS, 24)]
    program += [_insn(JEQ, cmd, n - i, 0) for i, cmd in enumerate(FCNTL_DENIED)]
    program += [_insn(RET, RET_ALLOW), _insn(RET, eperm),
               _insn(JEQ, SYS_CLONE3, 0, 1), _insn(RET, enosys)]
    for number in sorted(set(DENIED.values())):
        program += [_insn(JEQ, number, 0, 1), _insn(RET, eperm)]
    program.append(_insn(RET, RET_ALLOW))
    return b"".join(program)


def load_seccomp(program: bytes) -> None:
    """Install the precompiled filter (one syscall); no_new_privs must be set."""
    if platform.machine() != "x86_64":
        raise JailError(f"the seccomp filter is written for x86_64, not {platform.machine()}")
    filters = ctypes.create_string_buffer(program, len(program))
    fprog = struct.pack("HxxxxxxQ", len(program) // 8, ctypes.addressof(filters))
    fprog_buffer = ctypes.create_string_buffer(fprog, len(fprog))
    _check(LIBC.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, fprog_buffer), "seccomp")


def seccomp_mode() -> int:
    """2 when a filter is installed on this thread."""
    return LIBC.prctl(PR_GET_SECCOMP, 0, 0, 0, 0)


def unshare(flags: int) -> None:
    _check(LIBC.unshare(flags), f"unshare({flags:#x})")


def no_new_privs() -> None:
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
