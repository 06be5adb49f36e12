"""The library as a whole: listing, name resolution, CLI, problem directories, shared kit copies."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from veriloop.cli import app
from veriloop.errors import InputError
from veriloop.evolve.problem import find_blocks, load_problem
from veriloop.problems import KIT, list_problems, problem_path

EXPECTED = {
    "moe_eplb",
    "spot_scheduling",
    "txn_scheduling",
    "llm_serving_scheduler",
    "cache_policy",
    "gpu_model_placement",
    "abc_recipe",
    "rtl_ppa",
    "systolic_dse",
}


def test_all_nine_problems_are_listed_with_metric_and_baseline() -> None:
    infos = {p.name: p for p in list_problems()}
    assert set(infos) == EXPECTED
    for info in infos.values():
        assert info.baseline_score is not None and info.baseline_score > 0, info.name
        assert info.summary and info.metric, info.name
        assert info.direction == "max"
        assert (info.path / "README.md").is_file(), info.name
    assert infos["abc_recipe"].kind == "hardware" and infos["rtl_ppa"].kind == "hardware"
    assert infos["moe_eplb"].kind == "systems"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_problem_loads_with_blocks_and_two_stages(name: str) -> None:
    prob = load_problem(problem_path(name))
    assert prob.stages == ["evaluate_stage1", "evaluate_stage2"]
    blocks = find_blocks(prob.initial_code)
    assert blocks and blocks[0].end > blocks[0].start
    assert "EVOLVE-BLOCK-START" in prob.initial_code
    assert prob.description and prob.metric_directions.get("combined_score") == "max"
    assert len(prob.evaluator.stage_timeouts) == 2


def test_problem_path_rejects_unknown_names() -> None:
    assert problem_path("moe_eplb").name == "moe_eplb"
    for bad in ("nope", "../moe_eplb", ""):
        with pytest.raises(InputError) as exc:
            problem_path(bad)
        assert "moe_eplb" in (exc.value.hint or "")


def test_kit_copies_match_the_source() -> None:
    source = KIT.read_bytes()
    users = [p for p in list_problems() if "from problemkit import" in (p.path / "evaluator.py").read_text()]
    assert len(users) >= 7
    for info in users:
        assert (info.path / "problemkit.py").read_bytes() == source, (
            f"{info.name}: run veriloop.problems.sync_kits()"
        )


def test_cli_problems_list_json_and_table() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["problems", "list", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert {r["name"] for r in rows} == EXPECTED
    assert all(isinstance(r["baseline_score"], float) for r in rows)
    res = runner.invoke(app, ["problems", "list"])
    assert res.exit_code == 0
    assert "moe_eplb" in res.stdout and "baseline" in res.stdout
    res = runner.invoke(app, ["problems", "path", "rtl_ppa"])
    assert res.exit_code == 0 and res.stdout.strip().endswith("rtl_ppa")
    res = runner.invoke(app, ["problems", "path", "nope"])
    assert res.exit_code != 0
