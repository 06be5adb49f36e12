"""End to end against a real small model (issue 14): bounded time and honest verdicts, not pass rates.

The module installs the local model the way a user does (`veriloop llm install`: idempotent, a
second call returns in about a second), starts `veriloop llm serve` on a free loopback port with an
8k context, writes the `[backends.local]` entry the server printed into a veriloop.toml, and then:

- `veriloop design` of an 8-bit 2-to-1 mux, `--max-iters 1`, must end within DESIGN_BOUND_S with
  no traceback, an out dir and a report.json whose status is "verified" or "not verified"
  (the exit code agreeing). VERIFIED is re-graded here, by `veriloop tools sim` (the project's
  grader), against an exhaustive testbench and a reference this file owns: it must really pass, on
  the spec's port names. NOT VERIFIED must carry a reason.
- `veriloop bench run --config single-shot` on two VerilogEval-format problems (the repository's
  own fixture, so CI needs no outside data) must end within BENCH_BOUND_S, and every stored
  sample's verdict must equal a re-grade of its stored code by `veriloop tools sim`.

Whether the model solves anything is not asserted. Measured here (2 cores, another model server
busy beside it): the module takes about 3-6 minutes. The model must be installable: `make test`
installs it before pytest, and a failed install fails this module (it is not skipped). Developers
without the model set VERILOOP_REAL_MODEL=0 to skip it. VERILOOP_REAL_MODEL_DATA names the data
dir that holds the model (default: the repository's .veriloop, where `make test` installs it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from veriloop.testing.processes import free_port, stop_group

REPO = Path(__file__).resolve().parents[2]
MODEL_DATA = Path(os.environ.get("VERILOOP_REAL_MODEL_DATA") or REPO / ".veriloop")
VEV2 = REPO / "tests" / "bench" / "fixtures" / "vev2"
BENCH_PROBLEMS = ("Prob001_and2", "Prob004_mux2")

INSTALL_BOUND_S = 900.0
"""A fresh install downloads 1.1 GB from PyPI (about 15 s here); an installed model takes ~1 s."""
SERVER_START_S = 180.0
DESIGN_BOUND_S = 600.0
"""Hard wall-clock bound of the design run: planner, architect, generator and one verifier pass at
~20 generated tokens/s, with every reply capped (testbench 2,048 tokens = ~100 s)."""
BENCH_BOUND_S = 240.0
CTX = 8192

MUX_SPEC = (
    "A 2-to-1 multiplexer: 8-bit inputs a and b, 1-bit select sel, 8-bit output y; "
    "y = b when sel is 1, else a. Purely combinational."
)
HONEST_STATUSES = ("verified", "not verified")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("VERILOOP_REAL_MODEL", "").strip() == "0",
        reason="VERILOOP_REAL_MODEL=0: the real-model test is switched off",
    ),
]


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    wall_s: float


def _env(work: Path, data_dir: Path) -> dict[str, str]:
    """A clean environment for the CLI: no user config, this data dir, offline embeddings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERILOOP_")}
    env.update(
        VERILOOP_DATA_DIR=str(data_dir),
        XDG_CONFIG_HOME=str(work / "xdg"),
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env


def veriloop(args: Sequence[str], *, cwd: Path, env: dict[str, str], bound_s: float) -> Finished:
    """Run `python -m veriloop ARGS` in its own process group; kill the group at `bound_s`."""
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "veriloop", *args], cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=bound_s)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        out, err = proc.communicate()
        pytest.fail(
            f"`veriloop {' '.join(args[:2])}` did not finish within {bound_s:.0f} s (killed).\n"
            f"stderr tail:\n{err[-3000:]}"
        )
    finally:
        if proc.poll() is None:
            stop_group(proc)
    return Finished(proc.returncode, out, err, time.monotonic() - t0)


def _printed_entry(log: str) -> str:
    """The `[backends.local]` table `veriloop llm serve` printed (its header and `key = value` lines)."""
    lines = log.splitlines()
    start = lines.index("[backends.local]")
    table = [lines[start]]
    for line in lines[start + 1:]:
        if not re.fullmatch(r"\w+ = \S.*", line):
            break
        table.append(line)
    return "\n".join(table) + "\n"


@dataclass
class RealServer:
    base_url: str
    entry: str
    work: Path

    def project(self, name: str) -> tuple[Path, dict[str, str]]:
        """A fresh project dir with the printed entry as its veriloop.toml, and the CLI's environment."""
        proj = self.work / name
        proj.mkdir()
        (proj / "veriloop.toml").write_text(self.entry, encoding="utf-8")
        return proj, _env(proj, proj / "data")


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    work = tmp_path_factory.mktemp("real_model")
    env = _env(work, MODEL_DATA)
    inst = veriloop(["llm", "install"], cwd=work, env=env, bound_s=INSTALL_BOUND_S)
    if inst.returncode != 0:
        pytest.fail(
            "`veriloop llm install` failed, so the real-model test cannot run "
            "(set VERILOOP_REAL_MODEL=0 to skip it deliberately):\n" + (inst.stdout + inst.stderr)[-3000:]
        )
    port = free_port()
    log_path = work / "serve.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "veriloop", "llm", "serve", "--port", str(port), "--ctx-size", str(CTX),
             "--threads", "2", "--parallel", "1"],
            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                log = log_path.read_text(encoding="utf-8")
                pytest.fail(f"`veriloop llm serve` exited ({proc.returncode}):\n{log[-3000:]}")
            if _answers(base_url):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /v1/models in {SERVER_START_S:.0f} s:\n"
                            + log_path.read_text()[-3000:])
            time.sleep(1.0)
        entry = _printed_entry(log_path.read_text(encoding="utf-8"))
        assert f'base_url = "{base_url}"' in entry and f"context_tokens = {CTX}" in entry, entry
        # `llm serve` became the server (exec): a signal to it reaches the server, no orphan keeps the port.
        assert b"veriloop.llm.local_server" in Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        yield RealServer(base_url=base_url, entry=entry, work=work)
        proc.send_signal(signal.SIGTERM)  # the process alone, not its group
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        assert proc.poll() is not None and not _answers(base_url), "SIGTERM left the server running"
    finally:
        stop_group(proc)


def _answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/models", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _no_traceback(run: Finished) -> None:
    for stream in (run.stdout, run.stderr):
        assert "Traceback (most recent call last)" not in stream, stream[-4000:]


def _print_timeline(transcript: Path, report: dict[str, Any]) -> None:
    """Where the run's time went (shown with `pytest -s`): seconds since the first entry, per entry."""
    if not transcript.is_file():
        return
    entries = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines() if line]
    t0 = next((e["ts"] for e in entries if e.get("ts")), 0.0)
    for e in entries:
        first = str(e.get("text", "")).strip().splitlines()[:1]
        print(f"  {e.get('ts', 0.0) - t0:6.0f}s [{e.get('iteration')}] {e.get('agent')} {e.get('kind')} "
              f"{e.get('tokens') or ''} {first[0][:90] if first else ''}")
    print(f"design verdict: {report['status']} ({report['reason']}); {report['calls']} calls, "
          f"{report['prompt_tokens']}+{report['completion_tokens']} tokens")


def _sim(design: list[Path], tb: Path, ref: Path, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """The project's grader (`veriloop tools sim --json`) on files."""
    run = veriloop(["tools", "sim", *map(str, design), "--tb", str(tb), "--ref", str(ref), "--json"],
                   cwd=cwd, env=env, bound_s=180)
    _no_traceback(run)
    out = run.stdout
    report: dict[str, Any] = json.loads(out[out.index("{"):])
    assert (run.returncode == 0) == bool(report["passed"]), (run.returncode, report)
    return report


MUX_REF = """module MuxSpecRef (
    input  [7:0] a,
    input  [7:0] b,
    input        sel,
    output [7:0] y
);
    assign y = sel ? b : a;
endmodule
"""


def mux_testbench(top: str) -> str:
    """Every input combination (2^17), the design's y against the spec's."""
    return f"""`timescale 1ns/1ps
module tb;
    reg  [7:0] a, b;
    reg        sel;
    wire [7:0] y_ref, y_dut;
    integer errors = 0, samples = 0, i;
    MuxSpecRef good (.a(a), .b(b), .sel(sel), .y(y_ref));
    {top} dut (.a(a), .b(b), .sel(sel), .y(y_dut));
    initial begin
        for (i = 0; i < (1 << 17); i = i + 1) begin
            {{sel, a, b}} = i;
            #1;
            samples = samples + 1;
            if (y_dut !== y_ref) begin
                errors = errors + 1;
                if (errors <= 5)
                    $display("MISMATCH sel=%b a=%h b=%h y=%h expected %h", sel, a, b, y_dut, y_ref);
            end
        end
        $display("Mismatches: %0d in %0d samples", errors, samples);
        $finish;
    end
endmodule
"""


@pytest.mark.timeout(INSTALL_BOUND_S + SERVER_START_S + DESIGN_BOUND_S + 300)
def test_design_of_a_mux_ends_in_bounded_time_with_an_honest_verdict(real_server: RealServer) -> None:
    proj, env = real_server.project("design")
    out = proj / "out"
    run = veriloop(
        ["design", MUX_SPEC, "--backend", "local", "--max-iters", "1", "--out", str(out), "--json"],
        cwd=proj, env=env, bound_s=DESIGN_BOUND_S,
    )
    print(f"design: {run.wall_s:.0f} s, exit {run.returncode}")
    _no_traceback(run)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    assert out.is_dir() and (out / "report.json").is_file(), (run.stdout[-2000:], run.stderr[-3000:])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    _print_timeline(out / "transcript.jsonl", report)
    assert report["status"] in HONEST_STATUSES
    assert report["verified"] == (report["status"] == "verified") == (run.returncode == 0)
    assert report["calls"] >= 1, "the real server was not called"
    if not report["verified"]:
        assert report["reason"].strip(), "a NOT VERIFIED report must say why"
        return
    # VERIFIED: the test's own exhaustive testbench, through the project's grader, must agree.
    top = report["top"]
    design = [out / f for f in report["files"] if f.endswith((".sv", ".v")) and f != "tb.sv"]
    assert design and all(p.is_file() for p in design), report["files"]
    tb, ref = proj / "spec_tb.sv", proj / "spec_ref.sv"
    tb.write_text(mux_testbench(top), encoding="utf-8")
    ref.write_text(MUX_REF, encoding="utf-8")
    graded = _sim(design, tb, ref, proj, env)
    assert graded["passed"] and graded["samples"] == 1 << 17 and graded["samples_checked"], (
        f"design said VERIFIED but the spec's own exhaustive testbench says {graded['category']}: "
        f"{graded['detail'] or graded['log_tail']}"
    )


@pytest.mark.timeout(BENCH_BOUND_S + 300)
def test_bench_single_shot_verdicts_equal_an_independent_regrade(real_server: RealServer) -> None:
    from veriloop import runstore
    from veriloop.bench.store import ResultStore

    proj, env = real_server.project("bench")
    run = veriloop(
        ["bench", "run", "--suite", "verilog-eval", "--path", str(VEV2),
         "--problems", ",".join(BENCH_PROBLEMS), "--backend", "local", "--config", "single-shot", "--json"],
        cwd=proj, env=env, bound_s=BENCH_BOUND_S,
    )
    print(f"bench: {run.wall_s:.0f} s, exit {run.returncode}")
    _no_traceback(run)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout[run.stdout.index("{"):])
    rec = runstore.load_run(proj / "data", summary["run_id"])
    with ResultStore.open(Path(rec.dir)) as store:
        samples = store.records(with_code=True)
    assert sorted(s.problem for s in samples) == sorted(BENCH_PROBLEMS)
    tasks = VEV2 / "dataset_spec-to-rtl"
    for s in samples:
        print(f"bench {s.problem}: {s.category}")
        assert s.category != "backend_error", f"{s.problem}: the real server failed: {s.detail}"
        assert s.prompt_tokens > 0, f"{s.problem}: no tokens were accounted"
        if not s.code.strip():
            assert not s.passed, f"{s.problem} passed with no code"
            continue
        design = proj / f"{s.problem}_sample.sv"
        design.write_text(s.code, encoding="utf-8")
        graded = _sim([design], tasks / f"{s.problem}_test.sv", tasks / f"{s.problem}_ref.sv", proj, env)
        assert graded["passed"] == s.passed, (
            f"{s.problem}: stored {s.category}, re-graded {graded['category']} ({graded['detail']})"
        )
