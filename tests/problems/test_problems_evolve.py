"""`veriloop evolve <problem> --backend offline` improves on the baseline of cheap tunable problems."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from veriloop.cli import app
from veriloop.problems import list_problems

INFOS = {p.name: p for p in list_problems()}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gpu_model_placement", "txn_scheduling"])
def test_offline_evolution_improves_on_the_baseline(name: str) -> None:
    res = CliRunner().invoke(
        app,
        [
            "evolve",
            str(INFOS[name].path),
            "--backend",
            "offline",
            "--iterations",
            "25",
            "--seed",
            "0",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout[res.stdout.index("{") :])
    assert summary["status"] == "done"
    assert summary["stats"]["by_status"].get("evaluated", 0) >= 10
    baseline = INFOS[name].baseline_score
    assert baseline is not None
    print(f"{name}: baseline {baseline:.4f} -> best {summary['best_score']:.4f} after 25 offline iterations")
    assert summary["best_score"] > baseline + 0.01
