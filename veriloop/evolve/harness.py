"""Trusted evaluation harness, run INSIDE the sandbox: import evaluator.py, call one stage, report.

Usage (stdlib only; shipped into the job directory as a file):
    python -I -S _veriloop_harness.py STAGE PROBLEM_DIR PROGRAM_FILE SITE_DIRS [IMPORT_MODE]  (nonce on stdin)
The warm workers (`zygote.py`) import it instead and call `run_stage` + `emit` in a forked child.
Tracebacks leave out the harness's own frames, so both ways give the same artifacts.

Result channel: the harness first makes itself non-dumpable (a process without capabilities can
then neither ptrace it nor open its /proc/<pid>/mem, environ or fd/*), then reads a per-run nonce
from stdin (never from argv, which /proc/<pid>/cmdline shows to anyone), points fd 0 at /dev/null,
keeps a private non-inheritable duplicate of the original stdout and points fd 1 at stderr, so
anything the evaluator or candidate prints lands in stderr. The one result line `<nonce> <json>`
is written to the private fd after the stage returns; the controller accepts exactly one line
framed by the nonce. Subprocesses of the evaluator never inherit the private fd (close-on-exec),
and a process it exec's has none of the harness's memory.

Candidate import (IMPORT_MODE, `[evaluator] candidate_import` in problem.toml; `proxy.py`, shipped
next to this file as `_veriloop_proxy.py`):
- `proxy` (the default): an evaluator that imports the program gets a proxy module; the program
  runs in a separate `python -I -S` process holding only its two pipes, so nothing it does can
  reach the evaluator's memory, the nonce or the fd.
- `shared`: the evaluator imports the candidate into its own process (for evaluators the proxy
  cannot serve). The candidate could then find the nonce and the private fd by introspection, so
  its scores are forgeable; the payload says so (`in_process`) and the run reports it.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import time
import types
from typing import TYPE_CHECKING

ARTIFACT_CAP = 8000
PROXY_NAME = "_veriloop_proxy"


def _load_proxy() -> types.ModuleType:
    """The proxy module shipped next to this file (`_veriloop_proxy.py`, or `proxy.py` in the
    package), loaded by path before any candidate code runs: -I keeps this directory (a job dir the
    candidate can write) off sys.path, and it stays off."""
    if PROXY_NAME in sys.modules:
        return sys.modules[PROXY_NAME]
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (PROXY_NAME + ".py", "proxy.py"):
        path = os.path.join(here, name)
        if os.path.isfile(path):
            spec = importlib.util.spec_from_file_location(PROXY_NAME, path)
            if spec is not None and spec.loader is not None:
                module = importlib.util.module_from_spec(spec)
                sys.modules[PROXY_NAME] = module
                spec.loader.exec_module(module)
                return module
    raise ImportError(f"{PROXY_NAME}.py is missing next to the harness")


if TYPE_CHECKING:
    from veriloop.evolve import proxy
else:
    proxy = _load_proxy()


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
    if type(result) is proxy.RemoteObject:
        raise TypeError("evaluator returned an object of the candidate's process, not its own result")
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
        if type(val) is proxy.RemoteObject:  # an object of the candidate's, not a number the evaluator made
            artifacts[str(key)] = f"<{object.__getattribute__(val, '_vl_type')} from the candidate's process>"
        elif isinstance(val, bool):
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


def _without_frames_of(tb: types.TracebackType | None, files: set[str]) -> types.TracebackType | None:
    """The traceback chain `tb` with every frame of `files` left out (relinked in place)."""
    kept = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename not in files:
            kept.append(tb)
        tb = tb.tb_next
    for a, b in zip(kept, kept[1:] + [None], strict=True):
        a.tb_next = b
    return kept[0] if kept else None


def _trimmed_traceback(exc: BaseException) -> str:
    """The traceback without the harness's (and proxy's) frames: the same text whichever way it runs
    and whichever import mode the evaluator got the candidate in."""
    import traceback

    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        e.__traceback__ = _without_frames_of(e.__traceback__, {__file__, str(proxy.__file__)})
        todo += [e.__cause__, e.__context__]
    return "".join(traceback.format_exception(exc))


def run_stage(stage: str, problem_dir: str, program_path: str, import_mode: str = "proxy") -> dict:
    """Import evaluator.py from problem_dir and call `stage(program_path)`; never raises.

    `import_mode` is how the evaluator gets the candidate if it imports it: "proxy" (a proxy
    module, the program in its own process) or "shared" (in this process); see the module doc.
    """
    started = time.monotonic()
    payload: dict
    mode = "shared" if import_mode == "shared" else "proxy"
    try:
        if problem_dir not in sys.path:
            sys.path.insert(0, problem_dir)
        _shim_openevolve()
        proxy.install_import_hooks(program_path, problem_dir, mode)
        spec = importlib.util.spec_from_file_location("evaluator", os.path.join(problem_dir, "evaluator.py"))
        if spec is None or spec.loader is None:
            raise ImportError("cannot load evaluator.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["evaluator"] = module
        spec.loader.exec_module(module)
        fn = getattr(module, stage)
        result = fn(program_path)
        proxy.stop_candidates()  # nothing of the candidate runs while its result is read
        payload = _normalise(result)
        payload["ok"] = True
    except BaseException as exc:  # noqa: BLE001 - report everything, including SystemExit
        payload = {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}"[:2000],
            "traceback": _trimmed_traceback(exc)[-6000:],
            "memory": isinstance(exc, MemoryError),
        }
        if isinstance(exc, proxy.CandidateProcessError) and exc.status is not None:
            payload["candidate_status"] = exc.status  # the candidate's process exited or crashed
    proxy.stop_candidates()
    payload["wall_s"] = time.monotonic() - started
    payload["import"] = {
        "mode": mode,
        "imported": proxy.REPORT["imported"],
        "in_process": bool(proxy.REPORT["in_process"]),
        "proxy_trouble": [str(t) for t in proxy.REPORT["proxy_trouble"]][:5],
    }
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


def nondumpable() -> bool:
    """prctl(PR_SET_DUMPABLE, 0): a process without capabilities can no longer ptrace this one or
    open its /proc/<pid>/mem, environ or fd/*; inherited by forked children, reset by exec."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(4, 0, 0, 0, 0)) == 0  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        return False


def main() -> None:
    if not nondumpable():
        sys.stderr.write("veriloop harness: cannot make itself non-dumpable; refusing to run\n")
        os._exit(71)
    _site_packages(sys.argv[4] if len(sys.argv) > 4 else "")
    nonce = sys.stdin.readline().strip()
    sys.stdin.close()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # nothing more comes on stdin; the candidate gets no handle on that pipe
    os.close(devnull)
    stage, problem_dir, program_file = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    import_mode = sys.argv[5] if len(sys.argv) > 5 else "proxy"
    sys.stdout.flush()
    result_fd = os.dup(1)  # not inheritable: subprocesses never see it
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    payload = run_stage(stage, problem_dir, os.path.abspath(program_file), import_mode)
    emit(result_fd, nonce, payload)
    os._exit(0)


if __name__ == "__main__":
    main()
