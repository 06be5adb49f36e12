"""Results cannot be forged by the candidate (issue 12, item 7), in both isolation modes.

Each attack is a candidate that tries to report a score it did not earn (99 or 1e6):
- a candidate the evaluator runs as a subprocess reads the harness's memory, environment and
  descriptors through /proc/<ppid>/ and bwrap init's stdout /proc/1/fd/1, writes forged frames to
  all it can reach and floods the result pipe so the honest frame lands past the output cap;
- a candidate an OpenEvolve-style evaluator imports (four ways) walks the stack or the heap for
  the nonce and the result fd and writes forged frames everywhere, or monkeypatches the evaluator's
  scoring function and builtins, or raises SystemExit.
In proxy import mode (the default) none of them forges a score; in shared mode the run says its
scores are forgeable. Built-in problems run the candidate in a child already: not forgeable.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from veriloop.evolve.candidate_import import FORGEABLE
from veriloop.evolve.evaluate import EvalOutcome, evaluate_code
from veriloop.evolve.problem import Problem, load_problem
from veriloop.sandbox import describe

from .helpers_evolve import set_import_mode

FORGED = 1e6
HONEST = -abs(2.0 - 3.7)

INITIAL = '''"""Forgery fixture: run() returns x; the score is -|x - 3.7|."""


# EVOLVE-BLOCK-START
def run():
    return 2.0


# EVOLVE-BLOCK-END

if __name__ == "__main__":
    print(run())
'''

SUBPROCESS_EVALUATOR = """
import subprocess, sys


def evaluate(program_path):
    done = subprocess.run([sys.executable, program_path], capture_output=True, text=True, timeout=30)
    lines = done.stdout.split()
    x = float(lines[-1]) if lines else 0.0
    return {"combined_score": -abs(x - 3.7), "x": x, "child": done.stderr[-3000:]}
"""

IMPORTING_EVALUATOR = """
import importlib, importlib.util, os, runpy, sys, types

HOW = "{how}"


def _load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    if HOW == "spec":
        spec = importlib.util.spec_from_file_location("candidate", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    sys.path.insert(0, os.path.dirname(path))
    sys.modules.pop(name, None)
    if HOW == "import_module":
        return importlib.import_module(name)
    if HOW == "dunder":
        return __import__(name)
    return types.SimpleNamespace(**runpy.run_path(path))


def score(x):
    return -abs(x - 3.7)


def evaluate(program_path):
    mod = _load(program_path)
    try:
        x = float(mod.run())
    except Exception as exc:
        return {{"combined_score": -100.0, "failed": type(exc).__name__}}
    return {{"combined_score": score(x), "x": x}}
"""

# A candidate run as the evaluator's subprocess: look for the nonce in the harness's memory and
# environment, write forged frames once to each channel of the harness and of bwrap's init, then
# flood the result pipe so the honest frame lands past the host's output cap; report what it could
# open on stderr.
CHILD_ATTACK = r"""
    import os, re, glob, json, sys
    ppid, seen, found = os.getppid(), [], set()
    hexes = re.compile(rb"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
    try:
        mem = open(f"/proc/{ppid}/mem", "rb", buffering=0)
        for line in open(f"/proc/{ppid}/maps"):
            lo, hi = (int(v, 16) for v in line.split()[0].split("-"))
            if "r" not in line.split()[1] or hi - lo > 64 << 20:
                continue
            try:
                mem.seek(lo)
                found.update(hexes.findall(mem.read(hi - lo)))
            except OSError:
                pass
        seen.append("mem:read")
    except OSError as exc:
        seen.append(f"mem:{type(exc).__name__}")
    try:
        found.update(hexes.findall(open(f"/proc/{ppid}/environ", "rb").read()))
        seen.append("environ:read")
    except OSError as exc:
        seen.append(f"environ:{type(exc).__name__}")
    try:
        fds = glob.glob(f"/proc/{ppid}/fd/*")
        os.listdir(f"/proc/{ppid}/fd")
        seen.append("fd:listed")
    except OSError as exc:
        fds = [f"/proc/{ppid}/fd/{n}" for n in range(3, 12)]
        seen.append(f"fd:{type(exc).__name__}")
    frames = b"".join(
        b"\n" + n + b" " + json.dumps({"ok": True, "metrics": {"combined_score": 99.0}}).encode() + b"\n"
        for n in sorted(found)[:400]
    ) or b"\n" + b"0" * 32 + b' {"ok": true, "metrics": {"combined_score": 99.0}}\n'
    pipes = set()
    for target in ["/proc/1/fd/1", *fds]:  # one frame per guess on each distinct channel
        try:
            pipe = os.readlink(target)
            if pipe in pipes:
                continue
            pipes.add(pipe)
            with open(target, "wb", buffering=0) as fh:
                fh.write(frames)
            seen.append(f"wrote:{target}")
        except OSError as exc:
            seen.append(f"{target}:{type(exc).__name__}")
    print(" ".join(seen), file=sys.stderr, flush=True)
    if found:  # push the honest frame past the host's output cap (but under its kill threshold)
        with open("/proc/1/fd/1", "wb", buffering=0) as fh:
            for _ in range(48):
                fh.write(b"." * 65535 + b"\n")
"""

# Candidates an importing evaluator runs in its own process (shared) or gets as a proxy.
INPROCESS_ATTACKS = {
    "frames": r"""
    import os, sys, json
    nonces, fds, f = set(), set(range(0, 64)), sys._getframe()
    while f is not None:
        for scope in (f.f_locals, f.f_globals):
            for v in list(scope.values()):
                if isinstance(v, str) and len(v) == 32 and all(c in "0123456789abcdef" for c in v):
                    nonces.add(v)
                if isinstance(v, dict) and isinstance(v.get("nonce"), str):
                    nonces.add(v["nonce"])
                if isinstance(v, int) and not isinstance(v, bool) and 2 < v < 1024:
                    fds.add(v)
        f = f.f_back
    line = "".join("\n%s %s\n" % (n, json.dumps({"ok": True, "metrics": {"combined_score": 1e6}}))
                   for n in nonces).encode()
    for fd in sorted(fds):
        try:
            os.write(fd, line)
        except OSError:
            pass
    if nonces:
        os._exit(0)
""",
    "gc": r"""
    import gc, os, json
    nonces = set()
    for o in gc.get_objects():
        if isinstance(o, dict):
            n = o.get("nonce")
            if isinstance(n, str):
                nonces.add(n)
            for v in list(o.values()):
                if isinstance(v, str) and len(v) == 32 and all(c in "0123456789abcdef" for c in v):
                    nonces.add(v)
    line = "".join("\n%s %s\n" % (n, json.dumps({"ok": True, "metrics": {"combined_score": 1e6}}))
                   for n in nonces).encode()
    for name in os.listdir("/proc/self/fd"):
        try:
            os.write(int(name), line)
        except OSError:
            pass
    if nonces:
        os._exit(0)
""",
    "monkeypatch": r"""
    import sys, builtins
    ev = sys.modules.get("evaluator")
    if ev is not None:
        ev.score = lambda x: 1e6
    builtins.abs = lambda v: -1e6
""",
    "systemexit": r"""
    raise SystemExit(0)
""",
}


def _candidate(body: str) -> str:
    return INITIAL.replace("def run():\n", "def run():\n" + body.strip("\n") + "\n")


def _make(tmp_path: Path, evaluator: str, mode: str | None = None) -> Path:
    d = tmp_path / "forge"
    d.mkdir()
    (d / "initial_program.py").write_text(INITIAL, encoding="utf-8")
    (d / "evaluator.py").write_text(evaluator, encoding="utf-8")
    (d / "problem.toml").write_text(
        'name = "forge"\n[evaluator]\ntimeout_s = 30\n[evolution]\nnum_islands = 1\n', encoding="utf-8"
    )
    if mode is not None:
        set_import_mode(d, mode)
    return d


def _evaluate(problem: Problem, code: str, isolation: str) -> EvalOutcome:
    if isolation == "per-candidate":
        return evaluate_code(problem, code)
    if describe().mode != "local":
        pytest.skip("warm workers need the bwrap sandbox")
    from veriloop.evolve.workers import WarmPool

    pool = WarmPool(problem, 1)
    try:
        return pool.evaluate(code)
    finally:
        pool.close()


def _not_forged(out: EvalOutcome) -> None:
    assert out.combined_score is None or out.combined_score <= 0, out
    assert all(v not in (99.0, FORGED) for v in out.metrics.values()), out


ISOLATIONS = ["per-candidate", "warm"]


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_candidate_child_cannot_read_the_harness_or_forge(tmp_path: Path, isolation: str) -> None:
    """A subprocess of the evaluator: /proc/<ppid>/mem, environ and fd are closed to it, and what it
    writes to /proc/1/fd/1 carries no nonce; the honest score stands."""
    p = load_problem(_make(tmp_path, SUBPROCESS_EVALUATOR))
    out = _evaluate(p, _candidate(CHILD_ATTACK), isolation)
    assert out.ok, (out.error, out.artifacts)
    _not_forged(out)
    assert out.combined_score == pytest.approx(HONEST)
    seen = out.artifacts["child"]
    assert "mem:PermissionError" in seen and "environ:PermissionError" in seen, seen
    assert "fd:PermissionError" in seen, seen
    assert out.imported is None and not out.in_process  # it never imported the candidate


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_proxied_candidate_cannot_read_the_harness_or_forge(tmp_path: Path, isolation: str) -> None:
    """The same attack from the candidate's own process in proxy mode (a child of the harness)."""
    p = load_problem(_make(tmp_path, IMPORTING_EVALUATOR.format(how="spec")))
    out = _evaluate(p, _candidate(CHILD_ATTACK), isolation)
    assert out.ok, (out.error, out.artifacts)
    _not_forged(out)
    assert out.combined_score == pytest.approx(HONEST) and out.imported == "proxy"


PLANT = r"""
    import os
    here = os.path.dirname(os.path.abspath(__file__))
    evil = "import sys\nsys.modules['evaluator'].score = lambda x: 1e6\n"
    for where in (here, "/tmp"):
        with open(os.path.join(where, "colorsys.py"), "w") as fh:
            fh.write(evil)
"""


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_modules_planted_for_the_evaluator_do_not_run_in_it(tmp_path: Path, isolation: str) -> None:
    """The candidate writes colorsys.py next to itself and into /tmp; the evaluator, which put the
    program's directory on sys.path, imports colorsys later: the planted module runs in a
    candidate process, never in the evaluator's (compiled modules there are refused)."""
    evaluator = IMPORTING_EVALUATOR.format(how="import_module").replace(
        "        x = float(mod.run())\n",
        "        x = float(mod.run())\n        sys.path.insert(1, '/tmp')\n        import colorsys\n",
    )
    assert "import colorsys" in evaluator
    p = load_problem(_make(tmp_path, evaluator))
    out = _evaluate(p, _candidate(PLANT), isolation)
    _not_forged(out)
    assert out.ok and out.imported == "proxy" and not out.in_process, out


def test_exec_of_the_source_is_reported_forgeable(tmp_path: Path) -> None:
    """An evaluator that exec's the candidate's text (no import for the proxy to serve): the run
    would be flagged, even in proxy mode."""
    import asyncio

    from veriloop.evolve.candidate_import import decide
    from veriloop.evolve.executors.local import LocalExecutor

    evaluator = """
def evaluate(path):
    ns = {}
    exec(open(path).read(), ns)
    return {"combined_score": -abs(ns["run"]() - 3.7)}
"""
    p = load_problem(_make(tmp_path, evaluator, mode="proxy"))
    executor = LocalExecutor(1, isolation="per-candidate")
    try:
        _, verdict, outcome = asyncio.run(decide(p, executor))
    finally:
        executor.close()
    assert outcome.ok and outcome.in_process and outcome.imported == "shared"
    assert verdict.mode == "proxy" and verdict.forgeable and "without importing" in verdict.reason


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("how", ["spec", "import_module", "dunder", "run_path"])
def test_importing_evaluator_gets_a_proxy(tmp_path: Path, isolation: str, how: str) -> None:
    """Each way of importing the program gives the evaluator a proxy module (honest score intact)."""
    p = load_problem(_make(tmp_path, IMPORTING_EVALUATOR.format(how=how)))
    out = _evaluate(p, p.initial_code, isolation)
    assert out.ok, (out.error, out.artifacts)
    assert out.combined_score == pytest.approx(HONEST)
    assert out.imported == "proxy" and not out.in_process, out


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("attack", sorted(INPROCESS_ATTACKS))
def test_in_process_attacks_fail_in_proxy_mode(tmp_path: Path, isolation: str, attack: str) -> None:
    p = load_problem(_make(tmp_path, IMPORTING_EVALUATOR.format(how="spec")))
    assert p.evaluator.candidate_import == "auto"  # the default serves these with the proxy
    out = _evaluate(p, _candidate(INPROCESS_ATTACKS[attack]), isolation)
    _not_forged(out)
    assert out.imported == "proxy" and not out.in_process, out
    if attack in ("monkeypatch", "systemexit"):
        # patching its own process changes nothing here; SystemExit is an ordinary failed call
        assert out.ok, out.error
        expected = HONEST if attack == "monkeypatch" else -100.0
        assert out.combined_score == pytest.approx(expected), out
        if attack == "systemexit":
            assert out.metrics == {"combined_score": -100.0} and out.artifacts["failed"] == "CandidateExit"


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_shared_mode_is_marked_in_process(tmp_path: Path, isolation: str) -> None:
    """In shared mode the same candidate does forge (that is why the run must say so)."""
    p = load_problem(_make(tmp_path, IMPORTING_EVALUATOR.format(how="spec"), mode="shared"))
    honest = _evaluate(p, p.initial_code, isolation)
    assert honest.ok and honest.imported == "shared" and honest.in_process
    forged = _evaluate(p, _candidate(INPROCESS_ATTACKS["monkeypatch"]), isolation)
    assert forged.in_process and forged.combined_score == pytest.approx(FORGED)


def test_proxy_handles_data_and_objects(tmp_path: Path) -> None:
    """Plain data and numpy arrays come back as values; other objects stay remote as handles."""
    evaluator = """
import importlib.util
import numpy as np


def evaluate(path):
    spec = importlib.util.spec_from_file_location("candidate", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    arr = mod.double(np.arange(4, dtype=np.float32))
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32 and arr.tolist() == [0, 2, 4, 6]
    sched = mod.Scheduler(3)
    assert sched.add(4) == 7 and sched.total == 7 and len(sched) == 7
    assert [v for v in mod.count(3)] == [0, 1, 2]
    assert mod.LIMIT == 10 and mod.pair() == (1, {"a": [1.5, None]})
    mod.LIMIT = 11
    assert mod.limit() == 11
    try:
        mod.boom()
    except KeyError as exc:
        assert "nope" in str(exc)
    assert isinstance(mod.evil(), object) and not isinstance(mod.evil(), type)
    return {"combined_score": float(arr.sum()) / 12}
"""
    program = """
# EVOLVE-BLOCK-START
import numpy as np

LIMIT = 10


def double(a):
    return a * 2


class Scheduler:
    def __init__(self, start):
        self.total = start

    def add(self, v):
        self.total += v
        return self.total

    def __len__(self):
        return self.total


def count(n):
    yield from range(n)


def pair():
    return (1, {"a": [1.5, None]})


def limit():
    return LIMIT


def boom():
    raise KeyError("nope")


class _Evil:
    def __reduce__(self):
        import os
        return (os.system, ("echo pwned",))


def evil():
    return _Evil()
# EVOLVE-BLOCK-END
"""
    d = _make(tmp_path, evaluator)
    (d / "initial_program.py").write_text(program, encoding="utf-8")
    p = load_problem(d)
    out = evaluate_code(p, program)
    assert out.ok, (out.error, out.artifacts)
    assert out.combined_score == pytest.approx(1.0) and out.imported == "proxy"


def test_restricted_unpickler_refuses_code() -> None:
    """The harness decodes the candidate's bytes with an allowlist: a pickle that would call
    os.system (or any other global) is refused."""
    import pickle

    from veriloop.evolve import proxy

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (subprocess.call, (["true"],))

    data = pickle.dumps(("ok", Evil()), protocol=4)
    with pytest.raises(pickle.UnpicklingError, match="not plain data"):
        proxy._SafeUnpickler(data, None).load()  # type: ignore[arg-type]
    import numpy as np

    fine = pickle.dumps(("ok", [np.arange(3), np.float64(2.5), {1, 2}, complex(1, 2)]), protocol=4)
    value = proxy._SafeUnpickler(fine, None).load()  # type: ignore[arg-type]
    assert value[1][0].tolist() == [0, 1, 2] and value[1][1] == 2.5


# ------------------------------------------------------------------ whole runs


def _db_meta(run_dir: str) -> dict[str, Any]:
    conn = sqlite3.connect(Path(run_dir) / "programs.sqlite")
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='candidate_import'").fetchone()
    finally:
        conn.close()
    return json.loads(row[0]) if row else {}


INJECT = "Injecting.\n<<<<<<< SEARCH\ndef run():\n=======\ndef run():\n{body}\n>>>>>>> REPLACE\n"


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_run_with_forging_candidates_proxy_default(tmp_path: Path, fake_openai: Any, isolation: str) -> None:
    """A whole run whose LLM proposes every in-process attack: none forges, nothing is flagged."""
    from veriloop.config import load_settings
    from veriloop.evolve.controller import BackendChoice, EvolveOptions, run_evolution
    from veriloop.testing.fake_openai import write_config

    problem = _make(tmp_path, IMPORTING_EVALUATOR.format(how="spec"))
    write_config(tmp_path, fake_openai, retries=1)
    fake_openai.enqueue(
        *[INJECT.format(body=INPROCESS_ATTACKS[a].strip("\n")) for a in sorted(INPROCESS_ATTACKS)]
    )
    opts = EvolveOptions(
        backends=[BackendChoice(name="fake")],
        iterations=len(INPROCESS_ATTACKS),
        seed=1,
        llm_concurrency=1,
        eval_workers=1,
        window=1,
        isolation=isolation,  # type: ignore[arg-type]
    )
    summary = run_evolution(problem, load_settings(), opts)
    assert summary.status == "done"
    assert summary.best_score is not None and summary.best_score <= 0 and summary.best_score != FORGED
    assert summary.candidate_import["mode"] == "proxy" and not summary.candidate_import["forgeable"]
    assert _db_meta(summary.run_dir)["forgeable"] is False


@pytest.mark.parametrize(
    ("mode", "isolation"), [("shared", "per-candidate"), ("shared", "warm"), ("auto", "warm")]
)
def test_cli_run_says_whether_scores_are_forgeable(tmp_path: Path, mode: str, isolation: str) -> None:
    """`veriloop evolve` on a problem that must share one process: the run's output, run record,
    database and exported report all say its scores are forgeable; with the default (proxy) none do."""
    from veriloop.evolve import runs
    from veriloop.runstore import load_run

    problem = _make(tmp_path, IMPORTING_EVALUATOR.format(how="spec"), mode=mode)
    argv = ["evolve", str(problem), "-n", "2", "--isolation", isolation]
    res = subprocess.run(
        [sys.executable, "-m", "veriloop.cli", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    forgeable = mode == "shared"
    assert (FORGEABLE in res.stdout) is forgeable and (FORGEABLE in res.stderr) is forgeable, res
    run_id = res.stdout.split()[1]
    rec = load_run(tmp_path / "data", run_id)
    verdict = rec.meta["candidate_import"]
    assert verdict["forgeable"] is forgeable and verdict["mode"] == ("shared" if forgeable else "proxy")
    assert _db_meta(str(rec.dir))["forgeable"] is forgeable
    assert (runs.show(rec)["candidate_import"].get("warning") == FORGEABLE) is forgeable
    runs.export(rec, tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["candidate_import"].get("warning") == FORGEABLE) is forgeable
    assert (FORGEABLE in (tmp_path / "out" / "best_diff_history.md").read_text()) is forgeable


def test_auto_falls_back_to_shared_when_the_proxy_cannot_serve(tmp_path: Path) -> None:
    """An evaluator that hands the candidate a lambda (which cannot travel to another process):
    auto tries the proxy on the initial program, falls back to shared and says forgeable."""
    import asyncio

    from veriloop.evolve.candidate_import import decide
    from veriloop.evolve.executors.local import LocalExecutor

    evaluator = IMPORTING_EVALUATOR.format(how="spec").replace(
        "x = float(mod.run())", "x = float(mod.run(lambda v: v))"
    )
    d = _make(tmp_path, evaluator)
    (d / "initial_program.py").write_text(INITIAL.replace("def run():", "def run(f=None):"), encoding="utf-8")
    p = load_problem(d)
    executor = LocalExecutor(1, isolation="per-candidate")
    try:
        decided, verdict, outcome = asyncio.run(decide(p, executor))
    finally:
        executor.close()
    assert verdict.mode == "shared" and verdict.forgeable and "cannot send" in verdict.reason
    assert decided.evaluator.candidate_import == "shared"
    assert outcome.ok and outcome.combined_score == pytest.approx(HONEST)
    assert FORGEABLE in verdict.sentence()


def test_builtin_problem_is_not_forgeable() -> None:
    """Built-in problems run the candidate in a problemkit child: proxy never needed, not forgeable."""
    import asyncio

    from veriloop.evolve.candidate_import import decide
    from veriloop.evolve.executors.local import LocalExecutor
    from veriloop.problems import problem_path

    p = load_problem(problem_path("cache_policy"))
    executor = LocalExecutor(1, isolation="per-candidate")
    try:
        _, verdict, outcome = asyncio.run(decide(p, executor))
    finally:
        executor.close()
    assert outcome.ok, outcome.error
    assert verdict.mode == "proxy" and not verdict.forgeable and verdict.imported is None


def test_auto_falls_back_when_a_forked_copy_calls_the_candidate(tmp_path: Path) -> None:
    """An evaluator that imports the candidate, then calls it from a forked copy of itself: the
    proxy refuses there (the pipes belong to the parent), so auto settles on shared."""
    import asyncio

    from veriloop.evolve.candidate_import import decide
    from veriloop.evolve.executors.local import LocalExecutor

    evaluator = """
import importlib.util, multiprocessing


def evaluate(path):
    spec = importlib.util.spec_from_file_location("candidate", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=lambda: q.put(float(mod.run())))
    p.start()
    x = q.get(timeout=3)
    p.join()
    return {"combined_score": -abs(x - 3.7)}
"""
    p = load_problem(_make(tmp_path, evaluator))
    executor = LocalExecutor(1, isolation="per-candidate")
    try:
        decided, verdict, outcome = asyncio.run(decide(p, executor))
    finally:
        executor.close()
    assert verdict.mode == "shared" and verdict.forgeable, verdict
    assert outcome.ok and outcome.combined_score == pytest.approx(HONEST)


def test_candidate_objects_are_not_metrics(tmp_path: Path) -> None:
    """An evaluator that passes on what the candidate returned: a candidate object whose item()
    says 1e6 is reported as an artifact, never called after the evaluator returned."""
    evaluator = IMPORTING_EVALUATOR.format(how="spec").replace(
        'return {{"combined_score": score(x), "x": x}}'.replace("{{", "{").replace("}}", "}"),
        'return {"combined_score": score(x), "bonus": mod.bonus()}',
    )
    d = _make(tmp_path, evaluator)
    program = INITIAL.replace(
        "# EVOLVE-BLOCK-END",
        "class _Big:\n    def item(self):\n        return 1e6\n\n\ndef bonus():\n    return _Big()\n\n\n"
        "# EVOLVE-BLOCK-END",
    )
    (d / "initial_program.py").write_text(program, encoding="utf-8")
    p = load_problem(d)
    out = evaluate_code(p, program)
    assert out.ok, (out.error, out.artifacts)
    assert "bonus" not in out.metrics and "candidate's process" in out.artifacts["bonus"]
    _not_forged(out)


def test_compiled_module_where_the_candidate_writes_is_refused(tmp_path: Path) -> None:
    """A sourceless .pyc next to the candidate (FileFinder would load it) is refused in proxy mode."""
    import py_compile

    from veriloop.evolve import proxy

    job = tmp_path / "job"
    job.mkdir()
    (job / "initial_program.py").write_text(INITIAL, encoding="utf-8")
    (tmp_path / "src.py").write_text("VALUE = 1e6\n", encoding="utf-8")
    py_compile.compile(str(tmp_path / "src.py"), cfile=str(job / "planted_mod.pyc"))
    (tmp_path / "problem").mkdir()
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(proxy.__file__).parent)!r})\n"
        "import proxy\n"
        f"proxy.install_import_hooks({str(job / 'initial_program.py')!r}, {str(tmp_path / 'problem')!r}, "
        f"sys.argv[1])\n"
        f"sys.path.insert(0, {str(job)!r})\n"
        "try:\n    import planted_mod\n    print('loaded', planted_mod.VALUE)\n"
        "except ImportError as exc:\n    print('refused:', exc)\n"
    )
    for mode, expect in (("proxy", "refused: refused to load"), ("shared", "loaded 1000000.0")):
        done = subprocess.run(
            [sys.executable, "-I", "-c", script, mode], capture_output=True, text=True, timeout=60, cwd=job
        )
        assert expect in done.stdout, (mode, done.stdout, done.stderr)
