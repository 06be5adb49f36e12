"""Every library design, rendered with default and non-default parameters, is lint-clean under
`verilator -Wall`, synthesises with Yosys and passes its own self-checking testbench (real tools)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest

from veriloop.designlib import DesignCheck, check_rendered, load_library, render

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("iverilog", "vvp", "verilator", "yosys")),
    reason="needs iverilog, vvp, verilator and yosys",
)

CASES = [
    (entry.name, i, params) for entry in load_library() for i, params in enumerate([{}] + entry.test_params)
]


def _case_id(case: tuple[str, int, Mapping[str, object]]) -> str:
    return f"{case[0]}-{'default' if case[1] == 0 else f'p{case[1]}'}"


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, int], DesignCheck]:
    """All checks, run concurrently (each tool call is its own sandboxed job)."""
    entries = {e.name: e for e in load_library()}

    def run(case: tuple[str, int, dict[str, object]]) -> tuple[tuple[str, int], DesignCheck]:
        name, i, params = case
        # lint and synthesis on the default and the first non-default set; simulation on every set
        full = i <= 1
        return (name, i), check_rendered(render(entries[name], params), lint=full, synth=full)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(run, CASES))


def test_every_design_has_a_non_default_case() -> None:
    lib = load_library()
    assert len(lib) >= 28
    for entry in lib:
        assert entry.test_params, f"{entry.name} has no non-default test parameters"
        for params in entry.test_params:
            assert render(entry, params).params != render(entry, {}).params


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_design_lints_synthesises_and_passes(
    case: tuple[str, int, dict[str, object]], results: dict[tuple[str, int], DesignCheck]
) -> None:
    check = results[(case[0], case[1])]
    if case[1] <= 1:
        assert check.lint_clean, "\n".join(check.lint_messages)
        assert check.synthesizes, check.log_tail
        assert check.cells is not None
    assert check.sim_category == "pass", check.log_tail
    assert check.mismatches == 0
    assert check.samples and check.samples > 0
