"""Fault injection through the real sandbox and the fake OpenAI server: every fault survived and counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from veriloop.config import load_settings
from veriloop.evolve.controller import BackendChoice, EvolveOptions, run_evolution
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply, write_config

from .helpers_evolve import ONE_ISLAND_TOML, copy_problem


def inject(body: str) -> str:
    """A valid edit that puts `body` at the top of choose() (inside the EVOLVE block)."""
    return f"Injecting.\n<<<<<<< SEARCH\ndef choose():\n=======\ndef choose():\n    {body}\n>>>>>>> REPLACE\n"


@pytest.mark.parametrize("isolation", ["warm", "per-candidate"])
def test_every_fault_is_survived_and_counted(
    tmp_path: Path, fake_openai: FakeOpenAIServer, isolation: str
) -> None:
    problem = copy_problem(tmp_path, ONE_ISLAND_TOML)
    write_config(tmp_path, fake_openai, retries=1)
    script: list[Reply | str] = [
        inject("import time; time.sleep(60)"),  # sleeps past its timeout
        inject("while True: pass"),  # busy loop
        inject("import os; os._exit(7)"),  # os._exit
        inject("import ctypes; ctypes.string_at(0)"),  # segfault
        inject("blob = bytearray(10 * 1024 ** 3)"),  # allocates 10 GB
        inject("import sys; [sys.stdout.write('x' * (1 << 20)) for _ in range(1024)]"),  # prints 1 GB
        "I have no change to propose.",  # no diff
        "<<<<<<< SEARCH\n    q = 12345\n=======\n    q = 1\n>>>>>>> REPLACE\n",  # SEARCH matches nothing
        "<<<<<<< SEARCH\ndef run():\n=======\ndef run(y=1):\n>>>>>>> REPLACE\n",  # outside the block
        Reply(content=""),
        Reply(content=""),  # empty (+ its retry)
        Reply(status=429, retry_after=0.05),
        Reply(status=429, retry_after=0.05),  # 429 after retries
        Reply(status=500),
        Reply(status=500),  # 500 after retries
        Reply(status=500),
        inject("b = 0.5"),  # 500 then recovered
        inject("return 3.6"),  # a good candidate
    ]
    fake_openai.enqueue(*script)
    settings = load_settings()
    opts = EvolveOptions(
        backends=[BackendChoice(name="fake")],
        iterations=14,
        seed=1,
        llm_concurrency=1,
        eval_workers=2,
        window=1,
        isolation=isolation,  # type: ignore[arg-type]
    )
    summary = run_evolution(problem, settings, opts)
    faults = summary.stats["faults"]
    assert summary.status == "done" and summary.iterations_done == 15
    assert faults.get("timeout") == 2, faults
    assert faults.get("exit") == 1, faults
    assert faults.get("crash") == 1, faults
    assert faults.get("memory") == 1, faults
    assert faults.get("output") == 1, faults
    assert faults.get("no_diff") == 1, faults
    assert faults.get("failed_search") == 1, faults
    assert faults.get("outside_block") == 1, faults
    assert faults.get("empty_reply") == 1, faults
    assert faults.get("backend_429") == 1, faults
    assert faults.get("backend_5xx") == 1, faults
    assert summary.stats["backend_retries"] >= 1
    by_status = summary.stats["by_status"]
    assert by_status.get("evaluated") == 2 and by_status.get("eval_failed") == 6
    # The good candidates were evaluated normally after all of that.
    assert summary.best_score is not None and summary.best_score > -((2.0 - 3.7) ** 2)
    executor = summary.stats["executor"]
    assert executor["isolation"] == isolation
    if isolation == "warm":
        # Every killed stage (2 timeouts, 1 flood) retired its worker; the run went on with fresh
        # ones. The exit, segfault and allocation happen in the candidate's own process (proxy
        # import), which the harness outlives: those workers stay.
        assert executor["recycled"] + executor["lost"] >= 3, executor
        assert executor["started"] >= 4, executor


def test_backend_fault_reads_the_status_not_the_port() -> None:
    from veriloop.errors import BackendError
    from veriloop.evolve.controller import backend_fault

    at_port = "Backend 'fake' at http://127.0.0.1:42937/v1 kept failing (HTTP 500) after 2 tries."
    assert backend_fault(BackendError(at_port)) == "backend_5xx"
    limited = "Backend 'fake' kept rate-limiting the request (HTTP 429) after 2 tries."
    assert backend_fault(BackendError(limited)) == "backend_429"
