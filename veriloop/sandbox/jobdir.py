"""A job dir on the host (backends without namespaces): the job's files, read back and removed after."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from veriloop.sandbox import inside
from veriloop.sandbox.collect import safe_name


def create(files: dict[str, str | bytes]) -> Path:
    """A new private directory (mode 0700) with `files` written into it."""
    root = Path(tempfile.mkdtemp(prefix="veriloop-job-"))
    try:
        for name, content in files.items():
            target = root.joinpath(*Path(safe_name(name)).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                target.write_text(content, encoding="utf-8")
            else:
                target.write_bytes(content)
    except BaseException:
        remove(root)
        raise
    return root


def collect(root: Path, names: list[str], max_bytes: int) -> dict[str, bytes]:
    """Regular files (not symlinks, fifos or devices) the job left at the requested paths, each capped.

    Opened without following links anywhere on the way (O_NOFOLLOW per component), so neither a
    symlinked file nor a symlinked parent directory can point the read out of the job dir."""
    out: dict[str, bytes] = {}
    for name in names:
        data = inside.read_file(str(root), safe_name(name), max_bytes)
        if data is not None:
            out[name] = data
    return out


def remove_stale(prefix: str, base: Path | None = None) -> None:
    """Remove `<base>/<prefix>-<pid>-*` dirs whose veriloop process is gone (SIGKILL skips cleanup)."""
    base = base or Path(tempfile.gettempdir())
    for d in base.glob(f"{prefix}-*-*"):
        try:
            pid = int(d.name[len(prefix) + 1 :].split("-")[0])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
            inside.remove(str(d))


def remove(root: Path) -> None:
    """Delete the job dir whatever the job left in it (deep trees, odd modes, links); never raises."""
    inside.remove(str(root))
