"""Problem loading (OpenEvolve dirs, config.yaml, problem.toml, bad input) and sandboxed evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from veriloop.errors import InputError
from veriloop.evolve.evaluate import evaluate_code
from veriloop.evolve.problem import load_problem

from .helpers_evolve import copy_problem, set_import_mode


def test_load_fixture(tmp_path: Path) -> None:
    p = load_problem(copy_problem(tmp_path))
    assert p.name == "maxfn" and p.language == "python"
    assert p.stages == ["evaluate_stage1", "evaluate_stage2"]
    assert p.evolution.num_islands == 2 and p.features.bins == 5
    assert len(p.blocks()) == 1


def test_openevolve_config_yaml(tmp_path: Path) -> None:
    d = copy_problem(tmp_path)
    (d / "problem.toml").unlink()
    (d / "config.yaml").write_text(
        "max_iterations: 7\ndiff_based_evolution: false\n"
        "prompt:\n  system_message: 'Maximise f.'\n"
        "database:\n  num_islands: 3\n  feature_dimensions: [complexity, diversity]\n  feature_bins: 4\n"
        "evaluator:\n  timeout: 12\n  cascade_thresholds: [0.1, 0.2]\n",
        encoding="utf-8",
    )
    p = load_problem(d)
    assert p.evolution.max_iterations == 7 and p.evolution.diff_based is False
    assert p.evolution.num_islands == 3
    assert p.features.dimensions == ["code_length", "novelty"] and p.features.bins == 4
    assert p.evaluator.timeout_s == 12 and p.evaluator.cascade_thresholds == [0.1, 0.2]
    assert p.description == "Maximise f."


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: (d / "evaluator.py").write_text("def evaluate(p:\n"), "evaluator.py"),
        (lambda d: (d / "evaluator.py").write_text("def other(p):\n    return {}\n"), "evaluator.py"),
        (lambda d: (d / "evaluator.py").unlink(), "no evaluator.py"),
        (lambda d: (d / "initial_program.py").unlink(), "no initial_program"),
        (lambda d: (d / "problem.toml").write_text("[evaluator]\ntimeout_s = -1\n"), "problem.toml"),
        (lambda d: (d / "problem.toml").write_text("name = [\n"), "problem.toml"),
        (lambda d: (d / "config.yaml").write_text("database: [1, 2\n"), "config.yaml"),
        (
            lambda d: (d / "initial_program.py").write_text("# EVOLVE-BLOCK-START\nx = 1\n"),
            "initial_program.py",
        ),
    ],
)
def test_malformed_problem_names_file(tmp_path: Path, mutate, needle: str) -> None:  # type: ignore[no-untyped-def]
    d = copy_problem(tmp_path)
    mutate(d)
    with pytest.raises(InputError) as exc:
        load_problem(d)
    assert needle in exc.value.message and "maxfn" in exc.value.message


def test_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_problem(tmp_path / "nope")


def test_evaluate_in_sandbox_cascade(tmp_path: Path) -> None:
    p = load_problem(copy_problem(tmp_path))
    out = evaluate_code(p, p.initial_code)
    assert out.ok, out.error
    assert out.stage_reached == 2 and out.metrics["x"] == 2.0
    assert out.combined_score == pytest.approx(-((2.0 - 3.7) ** 2))
    assert out.artifacts["note"] == "x=2.000"
    assert set(out.timings) == {"evaluate_stage1", "evaluate_stage2"}


def test_cascade_threshold_stops_early(tmp_path: Path) -> None:
    d = copy_problem(tmp_path)
    (d / "problem.toml").write_text("[evaluator]\ncascade_thresholds = [0.5]\n", encoding="utf-8")
    p = load_problem(d)
    out = evaluate_code(p, p.initial_code)
    assert out.ok and out.stage_reached == 1 and "x" not in out.metrics
    assert "stopped after stage 1" in out.artifacts["cascade"]


@pytest.mark.parametrize("mode", ["proxy", "shared"])
def test_forged_result_is_not_accepted(tmp_path: Path, mode: str) -> None:
    """A candidate printing a fake result frame neither reaches the result channel nor passes.

    In proxy mode its os._exit ends only the candidate's process, in shared mode the evaluator's:
    either way an exit fault and no score."""
    d = copy_problem(tmp_path)
    set_import_mode(d, mode)
    p = load_problem(d)
    assert p.evaluator.candidate_import == mode
    code = p.initial_code.replace(
        "    a = 1.0",
        "    import sys, os\n"
        '    print(\'0\' * 32 + \' {"ok": true, "metrics": {"combined_score": 1e9}}\')\n'
        '    os.write(1, b\'\\nfake {"ok": true, "metrics": {"combined_score": 1e9}}\\n\')\n'
        "    os._exit(0)\n    a = 1.0",
    )
    out = evaluate_code(p, code)
    assert not out.ok and out.combined_score is None and out.fault == "exit"


def test_openevolve_evaluation_result_shim(tmp_path: Path) -> None:
    d = copy_problem(tmp_path)
    (d / "problem.toml").unlink()
    (d / "evaluator.py").write_text(
        "from openevolve.evaluation_result import EvaluationResult\n"
        "import numpy as np\n"
        "import importlib.util\n"
        "def evaluate(path):\n"
        "    spec = importlib.util.spec_from_file_location('c', path)\n"
        "    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "    x = m.run()\n"
        "    return EvaluationResult(metrics={'combined_score': np.float64(-abs(x - 3.7)), 'label': 'txt'},\n"
        "                            artifacts={'stderr': 'warn: something'})\n",
        encoding="utf-8",
    )
    p = load_problem(d)
    out = evaluate_code(p, p.initial_code)
    assert out.ok, out.error
    assert out.combined_score == pytest.approx(-1.7)
    assert out.artifacts == {"label": "txt", "stderr": "warn: something"}


def test_problem_dir_is_bound_read_only_in_place() -> None:
    """The problem dir is bound read-only at its own path (not copied), under /tmp too."""
    from veriloop.evolve.evaluate import stage_job

    from .helpers_evolve import FIXTURE

    p = load_problem(FIXTURE)
    job = stage_job(p, p.initial_code, 0, "n" * 32, 10.0)
    assert job.ro_paths == [str(p.path)] and not any(k.startswith("_problem/") for k in job.files)
    out = evaluate_code(p, p.initial_code.replace("b = 0.5", "b = 1.35"))
    assert out.ok and out.combined_score == pytest.approx(0.0)
    # The candidate cannot write into the problem directory.
    evil = p.initial_code.replace(
        "    a = 1.0", f"    open({str(p.path / 'pwned.txt')!r}, 'w').write('x')\n    a = 1.0"
    )
    bad = evaluate_code(p, evil)
    assert not bad.ok and "Read-only file system" in (bad.artifacts.get("evaluate_stage1_error") or "")
    assert not (p.path / "pwned.txt").exists()
