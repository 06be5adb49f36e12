"""Trusted evaluation harness, run INSIDE the sandbox: import evaluator.py, call one stage, report.

Usage (stdlib only; shipped into the job directory as a file):
    python -I -S _veriloop_harness.py STAGE_FUNCTION PROBLEM_DIR PROGRAM_FILE SITE_DIRS  (nonce on stdin)
The warm workers (`zygote.py`) import it instead and call `run_stage` + `emit` in a forked child.
Tracebacks leave out the harness's own frames, so both ways give the same artifacts.

Result channel: before the evaluator is imported, the harness reads a per-run nonce from stdin,
keeps a private duplicate of the original stdout and points fd 1 at stderr, so anything the
evaluator or candidate prints lands in stderr. The one result line `<nonce> <json>` is written to
the private fd after the stage returns. The controller accepts exactly one line framed by the
nonce. Residual risk: a candidate the evaluator imports in-process shares this interpreter and
could, with deliberate introspection, find the nonce and the private fd; evaluators that run the
candidate in a subprocess (which inherits neither) close that hole.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import time
import types

ARTIFACT_CAP = 8000


def _shim_openevolve() -> None:
    """Make `from openevolve.evaluation_result import EvaluationResult` work without OpenEvolve."""
    try:
        import openevolve.evaluation_result  # noqa: F401

        return
    except Exception:
        pass

    class EvaluationResult:
        def __init__(self, metrics=None, artifacts=None):  # type: ignore[no-untyped-def]
            self.metrics = dict(metrics or {})
            self.artifacts = dict(artifacts or {})

        @classmethod
        def from_dict(cls, metrics):  # type: ignore[no-untyped-def]
            return cls(metrics=metrics)

        def to_dict(self):  # type: ignore[no-untyped-def]
            return dict(self.metrics)

    pkg = types.ModuleType("openevolve")
    pkg.__path__ = []
    mod = types.ModuleType("openevolve.evaluation_result")
    mod.EvaluationResult = EvaluationResult  # type: ignore[attr-defined]
    pkg.evaluation_result = mod  # type: ignore[attr-defined]
    sys.modules.setdefault("openevolve", pkg)
    sys.modules.setdefault("openevolve.evaluation_result", mod)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= ARTIFACT_CAP else s[:ARTIFACT_CAP] + "\n...[truncated]"


def _normalise(result: object) -> dict:
    metrics_in = getattr(result, "metrics", None)
    if isinstance(metrics_in, dict):
        raw_metrics, raw_artifacts = metrics_in, getattr(result, "artifacts", None) or {}
    elif isinstance(result, dict):
        raw_metrics, raw_artifacts = result, {}
    else:
        raise TypeError(f"evaluator returned {type(result).__name__}, expected a dict or EvaluationResult")
    metrics: dict[str, float] = {}
    artifacts: dict[str, str] = {}
    for key, val in raw_metrics.items():
        if isinstance(val, bool):
            metrics[str(key)] = float(val)
        elif isinstance(val, int | float) and not isinstance(val, bool):
            f = float(val)
            metrics[str(key)] = f if math.isfinite(f) else (0.0 if math.isnan(f) else math.copysign(1e300, f))
        elif hasattr(val, "item") and callable(val.item):
            try:
                metrics[str(key)] = float(val.item())
            except Exception:
                artifacts[str(key)] = _text(val)
        else:
            artifacts[str(key)] = _text(val)
    if isinstance(raw_artifacts, dict):
        for key, val in raw_artifacts.items():
            artifacts[str(key)] = _text(val)
    return {"metrics": metrics, "artifacts": artifacts}


def _site_packages(paths: str) -> None:
    """Started with -S (no .pth processing: faster); put the given site-packages dirs on the path."""
    for path in paths.split(os.pathsep):
        if path and path not in sys.path and os.path.isdir(path):
            sys.path.append(path)


def _trimmed_traceback(exc: BaseException) -> str:
    """The traceback without the harness's own frames: the same text whichever way the harness runs."""
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def run_stage(stage: str, problem_dir: str, program_path: str) -> dict:
    """Import evaluator.py from problem_dir and call `stage(program_path)`; never raises."""
    started = time.monotonic()
    payload: dict
    try:
        if problem_dir not in sys.path:
            sys.path.insert(0, problem_dir)
        _shim_openevolve()
        spec = importlib.util.spec_from_file_location("evaluator", os.path.join(problem_dir, "evaluator.py"))
        if spec is None or spec.loader is None:
            raise ImportError("cannot load evaluator.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["evaluator"] = module
        spec.loader.exec_module(module)
        fn = getattr(module, stage)
        payload = _normalise(fn(program_path))
        payload["ok"] = True
    except BaseException as exc:  # noqa: BLE001 - report everything, including SystemExit
        payload = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}"[:2000],
            "traceback": _trimmed_traceback(exc)[-6000:],
            "memory": isinstance(exc, MemoryError),
        }
    payload["wall_s"] = time.monotonic() - started
    return payload


def emit(result_fd: int, nonce: str, payload: dict) -> None:
    """Write the one nonce-framed result line to the private result fd."""
    line = f"\n{nonce} {json.dumps(payload, default=str)}\n".encode()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    view = memoryview(line)
    while view:
        view = view[os.write(result_fd, view) :]


def main() -> None:
    _site_packages(sys.argv[4] if len(sys.argv) > 4 else "")
    nonce = sys.stdin.readline().strip()
    sys.stdin.close()
    stage, problem_dir, program_file = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    sys.stdout.flush()
    result_fd = os.dup(1)  # not inheritable: subprocesses never see it
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    payload = run_stage(stage, problem_dir, os.path.abspath(program_file))
    emit(result_fd, nonce, payload)
    os._exit(0)


if __name__ == "__main__":
    main()
