"""Files coming back from a job: safe names, and the capped reading of what the job left for veriloop.

Whatever a job leaves is untrusted: only regular files at exactly the requested relative paths are
taken, each cut at a size cap; links, devices, fifos, directories, absolute or `..` names and
anything else in the stream are ignored, and a malformed stream gives no files rather than an error.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import PurePosixPath

from veriloop.errors import SandboxError


def safe_name(name: str) -> str:
    """`name` as a normalised relative path inside the job dir; SandboxError otherwise."""
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\0" in name:
        raise SandboxError(f"Job file name '{name}' must be a relative path inside the job directory.")
    return str(rel)


def read_tar(stream: bytes, wanted: list[str], max_bytes: int) -> dict[str, bytes]:
    """The regular files named in `wanted` from a tar stream, each at most `max_bytes` long."""
    if not stream or not wanted:
        return {}
    want = set(wanted)
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
            for member in tar:
                name = str(PurePosixPath(member.name))
                if name not in want or name in out or not member.isreg():
                    continue
                fh = tar.extractfile(member)
                if fh is not None:
                    out[name] = fh.read(max_bytes)
    except (tarfile.TarError, OSError, ValueError, EOFError):
        return out
    return out
