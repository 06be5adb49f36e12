"""Host-side reads of a problem directory's files that never follow a link out of the directory.

A problem directory comes from someone else; veriloop reads its `initial_program.*`,
`evaluator.py`, `config.yaml`, `problem.toml` and `templates/*` on the host, where a link to
`/proc/self/environ` or `~/.ssh/id_rsa` would put host secrets into prompts and the run database,
and a fifo would hang the run. Every such read goes through `read_text`, which:

- resolves the name inside the (resolved) problem directory and refuses anything whose real path
  is not below it: links, linked parent directories and `..` alike; links that stay inside are
  fine;
- opens the resolved path component by component with O_NOFOLLOW from the directory's own
  descriptor, so a link swapped in after the check makes the open fail instead of escaping;
- accepts only a regular file (no fifo, device or socket: opened O_NONBLOCK and checked with
  fstat before a byte is read) of at most MAX_BYTES.

The sandbox binds the directory read-only, so links inside it resolve only in the sandbox's own
view; these checks are for veriloop's own reads on the host.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from veriloop.errors import InputError

MAX_BYTES = 16 * 1024 * 1024
_KINDS = {
    stat.S_IFIFO: "a fifo",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def _refuse(problem: str, rel: str, why: str) -> InputError:
    return InputError(
        f"Problem '{problem}': {rel} {why}, so veriloop does not read it.",
        hint="Problem files must be regular files inside the problem directory "
        "(links are fine only when they stay inside it); nothing was started.",
    )


def exists(root: Path, rel: str) -> bool:
    """Whether `rel` names anything in `root` (a dangling or outward link counts: reading it refuses)."""
    return os.path.lexists(root / rel)


def _inside(root: Path, rel: str, problem: str) -> PurePosixPath:
    """The real path of `rel`, relative to the real `root`; refuses one that leaves it."""
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
        raise _refuse(problem, rel, "is not a plain path inside the problem directory")
    real = Path(os.path.realpath(root / rel))
    if not real.is_relative_to(root) or real == root:
        target = os.readlink(root / rel) if os.path.islink(root / rel) else str(real)
        raise _refuse(problem, rel, f"leads out of the problem directory (to {target})")
    return PurePosixPath(real.relative_to(root))


def read_bytes(root: Path, rel: str, problem: str) -> bytes:
    """The bytes of regular file `rel` of the resolved directory `root`; InputError otherwise."""
    root = Path(os.path.realpath(root))
    inner = _inside(root, rel, problem)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(root, flags | os.O_DIRECTORY)
    except OSError as exc:
        raise _refuse(problem, rel, f"cannot be opened ({exc.strerror})") from None
    try:
        for part in inner.parts[:-1]:
            nxt = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        st = os.stat(inner.parts[-1], dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(problem, rel, f"is {_KINDS.get(stat.S_IFMT(st.st_mode), 'not a regular file')}")
        file_fd = os.open(inner.parts[-1], flags | os.O_NONBLOCK, dir_fd=fd)
    except OSError as exc:
        os.close(fd)
        raise _refuse(problem, rel, f"cannot be opened ({exc.strerror})") from None
    os.close(fd)
    try:
        st = os.fstat(file_fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(problem, rel, f"is {_KINDS.get(stat.S_IFMT(st.st_mode), 'not a regular file')}")
        if st.st_size > MAX_BYTES:
            raise _refuse(problem, rel, f"is larger than {MAX_BYTES >> 20} MB")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(file_fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > MAX_BYTES:
                raise _refuse(problem, rel, f"is larger than {MAX_BYTES >> 20} MB")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise _refuse(problem, rel, f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(file_fd)


def read_text(root: Path, rel: str, problem: str) -> str:
    """`read_bytes` decoded as UTF-8; a file that is not UTF-8 text gets one clear sentence."""
    data = read_bytes(root, rel, problem)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            f"Problem '{problem}': {rel} is not UTF-8 text.",
            hint=f"Save {rel} as UTF-8 and run again; nothing was started.",
        ) from None


def names(root: Path, pattern: str) -> list[str]:
    """Sorted names of the entries of `root` matching `pattern` that are not directories (not followed)."""
    import fnmatch

    out = []
    with os.scandir(root) as it:
        for entry in it:
            if fnmatch.fnmatchcase(entry.name, pattern) and not entry.is_dir(follow_symlinks=False):
                out.append(entry.name)
    return sorted(out)
