"""Each baseline reproduces its README/listing score in the real sandbox; a known-better program beats it."""

from __future__ import annotations

from typing import Any

import pytest

from veriloop.problems import list_problems

BETTER_CONSTANTS: dict[str, dict[str, Any]] = {
    "moe_eplb": {"REPLICA_EXPONENT": 1.0, "ORDER_EXPONENT": 1.0, "LOAD_WEIGHT": 10.0},
    "spot_scheduling": {"SAFETY_MARGIN": 10, "SPOT_REGION_LIMIT": 3},
    "txn_scheduling": {"WINDOW": 16},
    "llm_serving_scheduler": {"TOKEN_BUDGET": 1024, "MIX_DECODES": 1},
    "cache_policy": {"FREQUENCY_WEIGHT": 8.0, "LAYER_WEIGHT": 0.3, "DECAY": 0.95},
    "gpu_model_placement": {"PRESSURE_WEIGHT": 5.0},
    "systolic_dse": {"DATAFLOW": 1, "ROWS": 64, "COLS": 24, "IFMAP_KB": 128, "FILTER_KB": 32, "OFMAP_KB": 16},
}
BETTER_SOURCES = {
    "abc_recipe": "# known better\n# EVOLVE-BLOCK-START\ndch\nbalance\n# EVOLVE-BLOCK-END\n",
    "rtl_ppa": (
        "module popcount16(input [15:0] in, output reg [4:0] count);\n"
        "  // EVOLVE-BLOCK-START\n  integer i;\n  always @* begin\n    count = 5'd0;\n"
        "    for (i = 0; i < 16; i = i + 1) count = count + in[i];\n  end\n  // EVOLVE-BLOCK-END\n"
        "endmodule\n"
    ),
}
INFOS = {p.name: p for p in list_problems()}


@pytest.mark.parametrize("name", sorted(INFOS))
def test_baseline_reproduces_listed_score_and_better_program_beats_it(name: str, lib: Any) -> None:
    info = INFOS[name]
    base = lib.run(name, lib.problem(name).initial_code)
    assert base.error is None, (base.error, base.artifacts)
    assert base.stage_reached == 2 and base.metrics["valid"] == 1.0
    assert base.combined_score == pytest.approx(info.baseline_score, abs=info.baseline_tolerance)
    # a runtime-dependent score only drops under load: the listing, measured on a quiet machine, may
    # not understate it (0.73 was listed for moe_eplb while its initial program scores 0.770)
    assert base.combined_score <= info.baseline_score + 0.01, (base.combined_score, info.baseline_score)
    for key, val in (info.baseline_metrics or {}).items():
        assert base.metrics[key] == pytest.approx(val, abs=1e-9), key
    assert "feedback" in base.artifacts

    code = BETTER_SOURCES.get(name) or lib.variant(name, **BETTER_CONSTANTS[name])
    better = lib.run(name, code)
    assert better.error is None, (better.error, better.artifacts)
    assert better.metrics.get("valid") == 1.0, better.artifacts
    assert better.combined_score > base.combined_score + 0.01, (better.metrics, base.metrics)
