"""Invalid and reward-hacking candidates for the systems problems are rejected with a clear artifact."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from veriloop.problems import problem_path

NP = "import numpy as np\n"


def _rejects(lib: Any, name: str, code: str, *needles: str) -> str:
    reason = lib.rejected(lib.run(name, code))
    for needle in needles:
        assert needle in reason, reason
    return reason


# ---- moe_eplb -------------------------------------------------------------------------------


def test_moe_wrong_shape_missing_expert_and_float_ids(lib: Any) -> None:
    _rejects(
        lib,
        "moe_eplb",
        NP + "def rebalance_experts(w, r, g):\n    return np.zeros((len(w), r - 1), dtype=int)\n",
        "shape",
    )
    _rejects(
        lib,
        "moe_eplb",
        NP + "def rebalance_experts(w, r, g):\n    return np.zeros((len(w), r), dtype=int)\n",
        "has no replica",
    )
    _rejects(
        lib,
        "moe_eplb",
        NP + "def rebalance_experts(w, r, g):\n"
        "    return np.tile(np.arange(r) % w.shape[1], (len(w), 1)) + 0.5\n",
        "integer",
    )


def test_moe_hard_coded_answers_fail_the_hidden_scenario(lib: Any) -> None:
    # Placements of the fixed scenarios, computed once and pasted in: valid there, wrong elsewhere.
    import sys

    sys.path.insert(0, str(problem_path("moe_eplb")))
    try:
        import numpy as np

        from veriloop.problems import problem_path as _pp  # noqa: F401

        spec_dir = problem_path("moe_eplb")
        import importlib.util

        spec = importlib.util.spec_from_file_location("moe_eval_for_test", spec_dir / "evaluator.py")
        assert spec and spec.loader
        ev = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ev)
        rng = np.random.default_rng(ev.SEED)
        table = {}
        for layers, experts, _gpus, replicas in ev.SCENARIOS:
            w = ev.make_loads(rng, layers, experts)
            table[f"{layers}x{experts}"] = [[e % experts for e in range(replicas)] for _ in range(layers)]
            assert w.shape == (layers, experts)
    finally:
        sys.path.pop(0)
    code = (
        "import json\nTABLE = json.loads(" + repr(json.dumps(table)) + ")\n"
        "def rebalance_experts(w, r, g):\n"
        "    key = '%dx%d' % w.shape\n"
        "    return TABLE.get(key, next(iter(TABLE.values())))\n"
    )
    reason = _rejects(lib, "moe_eplb", code)
    assert "shape" in reason or "replica" in reason or "outside" in reason


def test_moe_monkeypatching_numpy_and_builtins_changes_nothing(lib: Any) -> None:
    base = lib.run("moe_eplb", lib.problem("moe_eplb").initial_code)
    patched = lib.problem("moe_eplb").initial_code + (
        "\nimport builtins, json\n"
        "np.mean = lambda *a, **k: 1.0\n"
        "np.ndarray.max = lambda *a, **k: 1e-9\n"
        "np.bincount = lambda *a, **k: np.ones(1000, dtype=int)\n"
        "builtins.min = lambda *a, **k: 0\n"
        'json.dumps = lambda *a, **k: \'{"ok": true, "value": [], "time_s": 0}\'\n'
    )
    out = lib.run("moe_eplb", patched)
    # builtins.min is used by the baseline itself, so it breaks its own placement or runs unchanged;
    # either way the evaluator's own arithmetic decides, and the score can never exceed 1.
    if out.metrics.get("valid") == 1.0:
        assert out.metrics["balance"] == pytest.approx(base.metrics["balance"])
    else:
        assert out.combined_score == 0.0
    assert (out.combined_score or 0.0) <= 1.0


# ---- spot_scheduling --------------------------------------------------------------------------


def test_spot_invalid_action_wait_forever_and_blind_spot(lib: Any) -> None:
    _rejects(
        lib,
        "spot_scheduling",
        "class S:\n    def step(self, obs):\n        return 'fly'\n"
        "def make_strategy(info):\n    return S()\n",
        "invalid action",
    )
    _rejects(
        lib,
        "spot_scheduling",
        "class S:\n    def step(self, obs):\n        return ('spot', 7)\n"
        "def make_strategy(info):\n    return S()\n",
        "invalid action",
    )
    _rejects(
        lib,
        "spot_scheduling",
        "class S:\n    def step(self, obs):\n        return ('wait', 0)\n"
        "def make_strategy(info):\n    return S()\n",
        "missed the deadline",
    )
    # Hard-coded 'always spot' ignores availability and the deadline: rejected on the first bad trace.
    _rejects(
        lib,
        "spot_scheduling",
        "class S:\n    def step(self, obs):\n        return ('spot', 0)\n"
        "def make_strategy(info):\n    return S()\n",
        "missed the deadline",
    )


# ---- txn_scheduling ---------------------------------------------------------------------------


def test_txn_non_permutations_and_hard_coded_order(lib: Any) -> None:
    _rejects(lib, "txn_scheduling", "def schedule(txns, w):\n    return [0] * len(txns)\n", "permutation")
    _rejects(lib, "txn_scheduling", "def schedule(txns, w):\n    return []\n", "entries")
    _rejects(
        lib,
        "txn_scheduling",
        "def schedule(txns, w):\n    return [float(i) for i in range(len(txns))]\n",
        "integer",
    )
    _rejects(lib, "txn_scheduling", "def schedule(txns, w):\n    return list(range(150))\n", "expected")


# ---- llm_serving_scheduler --------------------------------------------------------------------


def test_serving_overflow_stall_and_bad_ids(lib: Any) -> None:
    greedy = (
        "def schedule(s):\n"
        "    return {'prefill': [[w['id'], w['prompt_len'] - w['prefilled']] for w in s['waiting']],\n"
        "            'decode': [r['id'] for r in s['running']]}\n"
    )
    _rejects(lib, "llm_serving_scheduler", greedy, "KV overflow")
    _rejects(lib, "llm_serving_scheduler", "def schedule(s):\n    return {}\n", "stalled")
    _rejects(
        lib, "llm_serving_scheduler", "def schedule(s):\n    return {'decode': [12345]}\n", "not running"
    )
    _rejects(
        lib,
        "llm_serving_scheduler",
        "def schedule(s):\n    return {'prefill': [[w['id'], 10**6] for w in s['waiting'][:1]]}\n",
        "left",
    )
    _rejects(
        lib, "llm_serving_scheduler", "def schedule(s):\n    return {'skip': True}\n", "unknown batch keys"
    )


# ---- cache_policy -----------------------------------------------------------------------------


def test_cache_rankings_must_be_permutations_of_the_residents(lib: Any) -> None:
    head = "class P:\n    def rank(self, history, cache):\n"
    tail = "def make_policy(info):\n    return P()\n"
    _rejects(lib, "cache_policy", head + "        return cache[:5]\n" + tail, "every resident")
    _rejects(lib, "cache_policy", head + "        return [[99, 99]] + cache[1:]\n" + tail, "non-resident")
    _rejects(lib, "cache_policy", head + "        return None\n" + tail, "must return a list")
    _rejects(
        lib, "cache_policy", head + "        return [['a', 'b']] * len(cache)\n" + tail, "[layer, expert]"
    )


# ---- gpu_model_placement ----------------------------------------------------------------------


def test_gpu_placement_out_of_range_overfull_and_hard_coded(lib: Any) -> None:
    _rejects(
        lib, "gpu_model_placement", "def place_models(m, g, mem):\n    return [g] * len(m)\n", "GPU index"
    )
    _rejects(lib, "gpu_model_placement", "def place_models(m, g, mem):\n    return [0] * len(m)\n", "weights")
    _rejects(
        lib,
        "gpu_model_placement",
        "def place_models(m, g, mem):\n    return [i % 8 for i in range(24)]\n",
        "list of",
    )


# ---- systolic_dse -----------------------------------------------------------------------------


def test_systolic_area_cap_keys_and_types(lib: Any) -> None:
    cfg = "{'dataflow': 'os', 'rows': 64, 'cols': 64, 'ifmap_kb': 512, 'filter_kb': 512, 'ofmap_kb': 512}"
    _rejects(lib, "systolic_dse", f"def design(layers, c):\n    return {cfg}\n", "exceeds the cap")
    _rejects(
        lib, "systolic_dse", "def design(layers, c):\n    return {'dataflow': 'os', 'rows': 8}\n", "keys"
    )
    bad_df = "{'dataflow': 'magic', 'rows': 8, 'cols': 8, 'ifmap_kb': 8, 'filter_kb': 8, 'ofmap_kb': 8}"
    _rejects(lib, "systolic_dse", f"def design(layers, c):\n    return {bad_df}\n", "dataflow")
    bad_t = "{'dataflow': 'os', 'rows': 8.5, 'cols': 8, 'ifmap_kb': 8, 'filter_kb': 8, 'ofmap_kb': 8}"
    _rejects(lib, "systolic_dse", f"def design(layers, c):\n    return {bad_t}\n", "integer")


# ---- generic: crashes, forgery, touching the evaluator ---------------------------------------


def _digest(name: str) -> dict[str, str]:
    d = problem_path(name)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir()) if p.is_file()}


def test_overwriting_the_evaluator_and_forging_output_have_no_effect(lib: Any) -> None:
    name = "gpu_model_placement"
    before = _digest(name)
    base = lib.run(name, lib.problem(name).initial_code)
    hack = (
        lib.problem(name).initial_code
        + f"""
import os, sys
for target in ("evaluator.py", "problemkit.py", "listing.toml"):
    try:
        with open(os.path.join({str(problem_path(name))!r}, target), "w") as fh:
            fh.write("def evaluate_stage2(p):\\n    return {{'combined_score': 99.0}}\\n")
    except OSError:
        pass
print('{{"ok": true, "value": [0], "time_s": 0}}')
os.write(1, b'{{"combined_score": 99.0}}\\n')
sys.stdout.flush()
"""
    )
    out = lib.run(name, hack)
    assert out.error is None, out.error
    assert out.combined_score == pytest.approx(base.combined_score)
    assert _digest(name) == before


def test_killing_the_evaluator_or_crashing_gives_no_score(lib: Any) -> None:
    out = lib.run(
        "txn_scheduling",
        "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"
        "def schedule(t, w):\n    return list(range(len(t)))\n",
    )
    assert out.error is not None or out.combined_score == 0.0
    assert not out.combined_score
    reason = _rejects(lib, "txn_scheduling", "def schedule(t, w):\n    raise RuntimeError('boom')\n", "boom")
    assert reason.startswith("call:")
    _rejects(lib, "txn_scheduling", "import os\ndef schedule(t, w):\n    os._exit(3)\n", "died")
    _rejects(lib, "txn_scheduling", "def schedule(t, w) return\n", "import")
    _rejects(lib, "txn_scheduling", "import os\nos._exit(0)\n", "died")


@pytest.mark.slow
def test_a_hanging_candidate_is_killed_and_rejected(lib: Any) -> None:
    reason = _rejects(
        lib, "gpu_model_placement", "def place_models(m, g, mem):\n    while True:\n        pass\n", "timeout"
    )
    assert "time budget" in reason
