"""The job directory on the host: a fresh temp dir holding the job's files, read back and removed after."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath

from veriloop.errors import SandboxError


def _safe_rel(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise SandboxError(f"Job file name '{name}' must be a relative path inside the job directory.")
    return rel


def create(files: dict[str, str | bytes]) -> Path:
    """A new private directory (mode 0700) with `files` written into it."""
    root = Path(tempfile.mkdtemp(prefix="veriloop-job-"))
    try:
        for name, content in files.items():
            target = root.joinpath(*_safe_rel(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                target.write_text(content, encoding="utf-8")
            else:
                target.write_bytes(content)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def collect(root: Path, names: list[str], max_bytes: int) -> dict[str, bytes]:
    """Regular files (not symlinks) the job left at the requested paths, each capped at max_bytes."""
    out: dict[str, bytes] = {}
    for name in names:
        target = root.joinpath(*_safe_rel(name).parts)
        if target.is_symlink() or not target.is_file():
            continue
        if not target.resolve().is_relative_to(root.resolve()):
            continue  # a symlinked parent directory pointing out of the job dir
        with target.open("rb") as fh:
            out[name] = fh.read(max_bytes)
    return out


def remove(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
