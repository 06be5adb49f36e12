"""Suite loaders: each turns a path (or the built-in data) into a validated `Suite`."""

from __future__ import annotations

from pathlib import Path

from veriloop.bench.problem import Suite
from veriloop.errors import InputError

SUITES = ("verilog-eval", "verilog-eval-cc", "rtllm", "builtin", "evolve")


def load_suite(name: str, path: str | Path | None = None) -> Suite:
    """Load a suite by name; path-based suites validate the path and name the first bad problem."""
    if name == "verilog-eval":
        from veriloop.bench.suites.verilog_eval import load_verilog_eval

        return load_verilog_eval(_need(name, path), "spec-to-rtl")
    if name == "verilog-eval-cc":
        from veriloop.bench.suites.verilog_eval import load_verilog_eval

        return load_verilog_eval(_need(name, path), "code-complete")
    if name == "rtllm":
        from veriloop.bench.suites.rtllm import load_rtllm

        return load_rtllm(_need(name, path))
    if name == "builtin":
        from veriloop.bench.suites.builtin import load_builtin

        return load_builtin()
    if name == "evolve":
        from veriloop.bench.suites.evolve import load_evolve_suite

        return load_evolve_suite(Path(path) if path else None)
    raise InputError(f"Unknown suite '{name}'.", hint=f"Choose one of: {', '.join(SUITES)}.")


def _need(name: str, path: str | Path | None) -> Path:
    if path is None:
        raise InputError(f"Suite '{name}' needs --path pointing at its data.",
                         hint="e.g. --path /data/verilog-eval (a checkout of the benchmark's repository).")
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"Suite path {p} does not exist.")
    if not p.is_dir():
        raise InputError(f"Suite path {p} is not a directory.")
    return p
