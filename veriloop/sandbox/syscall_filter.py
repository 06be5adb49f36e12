"""The seccomp filter every contained job runs under: the syscalls no EDA tool or evaluator needs fail.

Built once per process with libseccomp (PyPI `pyseccomp`, a ctypes binding to Debian's libseccomp2)
as a BPF program that bubblewrap installs right before it executes the job (`--seccomp FD`). Denied
calls return EPERM (ENOSYS for `clone3`, so that the C library falls back to `clone`, whose flags
the filter can read); a call from another ABI (x32, i386 on x86-64) kills the process. The filter
is inherited by every process of the job and cannot be removed from inside.

What is denied, and why nothing legitimate misses it:
- kernel and machine state: mount family, pivot_root, chroot, swap, reboot, kexec, module loading,
  clock setting, acct, quotactl, syslog, iopl/ioperm, sethostname/setdomainname;
- other processes' memory and descriptors: ptrace, process_vm_readv/writev, pidfd_getfd, kcmp,
  process_madvise;
- new namespaces: unshare, setns, and clone/clone3 with any CLONE_NEW* flag;
- shared kernel objects that would outlive a job in a warm sandbox: keyrings (keyctl, add_key,
  request_key) and POSIX message queues (mq_*);
- attack surface: bpf, perf_event_open, userfaultfd, io_uring, open_by_handle_at, fanotify,
  the new mount API, and TIOCSTI/TIOCLINUX on ioctl (typing into a terminal).
"""

from __future__ import annotations

import errno
import functools
import os
import tempfile

DENIED = (
    # kernel and machine state
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "swapon", "swapoff", "reboot", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "acct", "quotactl", "quotactl_fd", "syslog",
    "iopl", "ioperm", "sethostname", "setdomainname", "vhangup", "nfsservctl", "lookup_dcookie",
    # other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp", "process_madvise",
    # namespaces
    "unshare", "setns",
    # objects that outlive a job
    "keyctl", "add_key", "request_key", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr",
    # attack surface
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "open_by_handle_at", "name_to_handle_at", "fanotify_init",
)  # fmt: skip

CLONE_NEW_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
    0x00000080,  # CLONE_NEWTIME
)
TIOCSTI = 0x5412
TIOCLINUX = 0x541C


@functools.lru_cache(maxsize=1)
def bpf_program() -> bytes | None:
    """The compiled filter (classic BPF bytes), or None when libseccomp is not available here."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError):
        return None
    filt = sc.SyscallFilter(sc.ALLOW)
    eperm = sc.ERRNO(errno.EPERM)
    for name in DENIED:
        try:
            filt.add_rule(eperm, name)
        except (ValueError, OSError):
            continue  # a call this architecture does not have
    for flag in CLONE_NEW_FLAGS:
        filt.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for request in (TIOCSTI, TIOCLINUX):
        filt.add_rule(eperm, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    with tempfile.TemporaryFile() as fh:
        filt.export_bpf(fh)
        fh.seek(0)
        return fh.read()


def program_fd() -> int | None:
    """A fresh descriptor holding the filter, for one `bwrap --seccomp FD` (the caller closes it)."""
    program = bpf_program()
    if program is None:
        return None
    fd = os.memfd_create("veriloop-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
