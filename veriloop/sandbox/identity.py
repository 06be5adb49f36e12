"""The host identity untrusted jobs run as: never root.

Started by root, a job (and bubblewrap, which would map it to host uid 0 whatever `--uid` says)
would hold host root's file access, signals and /proc writes. So when veriloop runs as root, every
job is started through `setpriv` as `SANDBOX_UID` (`nobody`) with no supplementary groups; a
non-root user's jobs run as that user.
"""

from __future__ import annotations

import os

SANDBOX_UID = 65534
"""The host user (and group) contained jobs run as when veriloop itself runs as root."""


def sandbox_user() -> tuple[int, int] | None:
    """(uid, gid) jobs are started as, or None to keep ours (we are not root)."""
    if os.geteuid() != 0:
        return None
    return SANDBOX_UID, SANDBOX_UID


def drop_argv() -> list[str]:
    """The command prefix that switches to the sandbox user (empty when we are not root)."""
    user = sandbox_user()
    if user is None:
        return []
    return ["setpriv", f"--reuid={user[0]}", f"--regid={user[1]}", "--clear-groups", "--"]


def hand_over(path: str) -> None:
    """Give the sandbox user a host directory tree the job must write (rlimits backend only)."""
    user = sandbox_user()
    if user is None:
        return
    todo = [path]
    while todo:
        current = todo.pop()
        os.chown(current, *user, follow_symlinks=False)
        if os.path.isdir(current) and not os.path.islink(current):
            with os.scandir(current) as entries:
                todo.extend(e.path for e in entries)
