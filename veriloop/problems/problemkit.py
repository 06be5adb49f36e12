"""Evaluator kit shared by the built-in problems: run a candidate in a child process, build results.

A byte-identical copy of this file sits in every problem directory (as problemkit.py) so that an
evaluator works where only its own directory is visible (the evolve sandbox binds just that
directory); `veriloop.problems.sync_kits()` rewrites the copies and a test checks they match.

Evaluators never import the candidate: a child interpreter (`python -I`) imports it, answers
JSON-line requests (call a function, or a method of an object it returned earlier) and reports
the call's wall time, measured with a clock bound before the candidate was imported. Whatever
the candidate does to numpy, builtins or its own process cannot change the evaluator's data or
its scoring, which happen in the evaluator's process. The child runs in a fresh temporary
directory with an empty environment and its own session, and is killed as a group at the end.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_CHILD = r"""
import sys, os, json, time, traceback, importlib.util
_pc = time.perf_counter
_write, _dumps, _loads = os.write, json.dumps, json.loads
_out = os.dup(1)
os.dup2(2, 1)
_readline = sys.stdin.buffer.readline
try:
    import numpy as _np
except Exception:
    _np = None

def _default(o):
    if _np is not None:
        if isinstance(o, _np.ndarray):
            return o.tolist()
        if isinstance(o, _np.generic):
            return o.item()
    if isinstance(o, (set, frozenset, tuple, range)):
        return list(o)
    raise TypeError("value of type %s is not JSON serialisable" % type(o).__name__)

def _decode(o):
    if isinstance(o, dict):
        if "__nd__" in o and _np is not None:
            return _np.asarray(o["__nd__"], dtype=o.get("dtype", "float64")).reshape(o["shape"])
        return {k: _decode(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_decode(v) for v in o]
    return o

def _send(obj):
    try:
        data = _dumps(obj, default=_default, allow_nan=True)
    except Exception as exc:
        data = _dumps({"ok": False, "error": "result cannot be serialised: %s" % exc})
    _write(_out, (data + "\n").encode())

path = sys.argv[1]
sys.argv = [path]
try:
    _spec = importlib.util.spec_from_file_location("candidate", path)
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["candidate"] = _mod
    _spec.loader.exec_module(_mod)
except BaseException:
    _send({"ready": False, "error": traceback.format_exc(limit=6)[-3000:]})
    os._exit(0)
_send({"ready": True})
_handles = {}

def _one(req):
    if "handle" in req:
        target = getattr(_handles[req["handle"]], req["name"])
    else:
        target = getattr(_mod, req["name"])
    args = _decode(req.get("args", []))
    t0 = _pc()
    value = target(*args)
    dt = _pc() - t0
    if req.get("store"):
        _handles[req["store"]] = value
        value = None
    return value, dt

while True:
    line = _readline()
    if not line:
        os._exit(0)
    req = _loads(line)
    try:
        if "batch" in req:
            values, total = [], 0.0
            for sub in req["batch"]:
                v, dt = _one(sub)
                values.append(v)
                total += dt
            _send({"ok": True, "value": values, "time_s": total})
        else:
            v, dt = _one(req)
            _send({"ok": True, "value": v, "time_s": dt})
    except BaseException as exc:
        _send({"ok": False, "error": "%s: %s" % (type(exc).__name__, exc),
               "traceback": traceback.format_exc(limit=8)[-3000:]})
"""


class CandidateError(Exception):
    """The candidate could not be imported, raised, timed out, died or broke the protocol."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail


def nd(array: Any) -> dict[str, Any]:
    """Encode a numpy array so the child receives a numpy array (of the same dtype and shape)."""
    return {"__nd__": array.ravel().tolist(), "dtype": str(array.dtype), "shape": list(array.shape)}


def _limit_child(memory_mb: int) -> None:
    import resource

    limit = memory_mb * 1024 * 1024
    for res in (resource.RLIMIT_DATA,):
        try:
            soft, hard = resource.getrlimit(res)
            cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
            if soft == resource.RLIM_INFINITY or soft > cap:
                resource.setrlimit(res, (cap, hard))
        except (ValueError, OSError):
            pass


class CandidateProcess:
    """One child interpreter holding the imported candidate; use as a context manager."""

    def __init__(
        self, program_path: str | os.PathLike[str], budget_s: float = 10.0, memory_mb: int = 1024
    ) -> None:
        self.program_path = str(Path(program_path).resolve())
        self.deadline = time.monotonic() + budget_s
        self.budget_s = budget_s
        self.calls = 0
        self.call_time_s = 0.0
        self._buf = b""
        self._workdir = tempfile.mkdtemp(prefix="vl-cand-")
        self._stderr = tempfile.TemporaryFile(dir=self._workdir)  # noqa: SIM115 - closed in close()
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": self._workdir,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _CHILD, self.program_path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=self._workdir,
            env=env,
            start_new_session=True,
            preexec_fn=lambda: _limit_child(memory_mb),  # noqa: PLW1509
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        self._sel = selectors.DefaultSelector()
        self._sel.register(self.proc.stdout, selectors.EVENT_READ)
        hello = self._read()
        if not hello.get("ready"):
            raise CandidateError("import", "the program failed to import", str(hello.get("error", "")))

    def __enter__(self) -> CandidateProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise CandidateError(
                    "timeout", f"the program exceeded its time budget of {self.budget_s:g} s"
                )
            if not self._sel.select(timeout=left):
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                code = self.proc.poll()
                if code is None:
                    try:
                        code = self.proc.wait(timeout=1.0)
                    except subprocess.TimeoutExpired:
                        code = None
                raise CandidateError(
                    "crash", f"the program's process died (exit status {code})", self.stderr_tail()
                )
            self._buf += chunk
            if len(self._buf) > 64 << 20:
                raise CandidateError("protocol", "the program returned more than 64 MB")
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            msg = json.loads(line)
        except ValueError:
            raise CandidateError(
                "protocol",
                "the program wrote something that is not a reply on the result channel",
                line[:300].decode("utf-8", "replace"),
            ) from None
        if not isinstance(msg, dict):
            raise CandidateError("protocol", "the program broke the reply protocol")
        return msg

    def _request(self, req: dict[str, Any]) -> tuple[Any, float]:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(req) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise CandidateError("crash", "the program's process is gone", self.stderr_tail()) from None
        msg = self._read()
        if not msg.get("ok"):
            raise CandidateError(
                "call",
                str(msg.get("error", "the call failed")),
                str(msg.get("traceback", "")) or self.stderr_tail(),
            )
        t = msg.get("time_s", 0.0)
        t = float(t) if isinstance(t, int | float) else 0.0
        self.calls += 1
        self.call_time_s += t
        return msg.get("value"), t

    def call(self, name: str, *args: Any, store: str | None = None) -> tuple[Any, float]:
        """Call module-level `name(*args)`; with `store`, keep the result in the child as a handle."""
        req: dict[str, Any] = {"name": name, "args": list(args)}
        if store:
            req["store"] = store
        return self._request(req)

    def method(self, handle: str, name: str, *args: Any) -> tuple[Any, float]:
        """Call `name(*args)` on an object stored under `handle`."""
        return self._request({"handle": handle, "name": name, "args": list(args)})

    def batch(self, calls: list[tuple[str | None, str, list[Any]]]) -> tuple[list[Any], float]:
        """Several calls in one round trip: (handle or None, name, args) each."""
        reqs = [({"handle": h, "name": n, "args": a} if h else {"name": n, "args": a}) for h, n, a in calls]
        value, t = self._request({"batch": reqs})
        if not isinstance(value, list) or len(value) != len(calls):
            raise CandidateError("protocol", "the program broke the batch reply protocol")
        return value, t

    def stderr_tail(self, limit: int = 3000) -> str:
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - limit))
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def close(self) -> None:
        """Kill the child and everything it started, and remove its directory."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._sel.close()
        self._stderr.close()
        import shutil

        shutil.rmtree(self._workdir, ignore_errors=True)


def result(metrics: dict[str, float], artifacts: dict[str, Any] | None = None) -> Any:
    """An EvaluationResult(metrics, artifacts) if OpenEvolve (or veriloop's shim) imports, else a dict."""
    clean: dict[str, float] = {}
    for key, val in metrics.items():
        f = float(val)
        clean[key] = f if math.isfinite(f) else 0.0
    arts = {k: (v if isinstance(v, str) else str(v)) for k, v in (artifacts or {}).items()}
    try:
        from openevolve.evaluation_result import EvaluationResult
    except Exception:  # noqa: BLE001 - any import problem means: plain dict
        out: dict[str, Any] = dict(clean)
        out.update(arts)
        return out
    return EvaluationResult(metrics=clean, artifacts=arts)


def reject(reason: str, detail: str = "", **extra: float) -> Any:
    """A rejected candidate: combined_score 0, valid 0 and the reason as an artifact."""
    arts = {"rejected": reason}
    if detail:
        arts["detail"] = detail[-4000:]
    metrics = {"combined_score": 0.0, "valid": 0.0}
    metrics.update(extra)
    return result(metrics, arts)


def reject_candidate(err: CandidateError) -> Any:
    """Turn a CandidateError into a rejection with a clear sentence."""
    return reject(f"{err.kind}: {err.message}", err.detail)


def hidden_seed() -> int:
    """A seed drawn at evaluation time; the candidate cannot know it in advance."""
    return secrets.randbits(32)


def as_dict(res: Any) -> dict[str, Any]:
    """Metrics and artifacts of a result in one flat dict (for tests and scripts)."""
    if isinstance(res, dict):
        return dict(res)
    out: dict[str, Any] = dict(getattr(res, "metrics", {}))
    out.update(getattr(res, "artifacts", {}))
    return out
