"""Evolution problems: load an OpenEvolve-style directory (+ optional problem.toml) into a Problem.

A problem directory holds:
  initial_program.<ext>   the seed program; code between EVOLVE-BLOCK-START / EVOLVE-BLOCK-END
                          marker lines (in any comment style) is what evolution may change; a file
                          without markers is evolvable as a whole.
  evaluator.py            `evaluate(program_path)` -> dict with `combined_score` (or an
                          EvaluationResult(metrics, artifacts)); optional `evaluate_stage1..N`.
  config.yaml             optional OpenEvolve config; the settings we share are read.
  problem.toml            optional veriloop settings (wins over config.yaml):

      name = "my_problem"
      description = "What the program must do (shown to the LLM)."
      language = "python"            # or "verilog"; default from the file extension
      workload = "notes on the workload the evaluator runs"
      [metrics]                      # direction of each metric: "max" (default) or "min"
      combined_score = "max"
      [features]                     # MAP-Elites dimensions: metric names, "code_length", "novelty"
      dimensions = ["combined_score", "code_length"]
      bins = 10
      [evaluator]
      timeout_s = 60                 # per stage unless stage_timeouts says otherwise
      stage_timeouts = [10, 60]
      cascade_thresholds = [0.5]
      memory_mb = 2048
      candidate_import = "auto"      # how an evaluator that imports the program gets it: "proxy" (a
                                     # proxy module, the program runs in its own process), "shared"
                                     # (in the evaluator's process: scores forgeable), "auto" (proxy
                                     # unless it cannot serve the initial program)
      [evolution]
      max_iterations = 100
      num_islands = 4
      migration_interval = 10        # generations
      migration_rate = 0.1
      diff_based = true
      population_size = 1000
      archive_size = 100
      exploration_ratio = 0.2
      exploitation_ratio = 0.7
      num_inspirations = 3
      max_code_length = 20000
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from veriloop.errors import InputError
from veriloop.evolve import problem_files

START_MARK = "EVOLVE-BLOCK-START"
END_MARK = "EVOLVE-BLOCK-END"

_LANG_BY_EXT = {
    ".py": "python",
    ".v": "verilog",
    ".sv": "verilog",
    ".vh": "verilog",
    ".c": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".rs": "rust",
    ".js": "javascript",
    ".go": "go",
}


class EvaluatorSettings(BaseModel):
    """How candidates are evaluated."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(default=60.0, gt=0)
    stage_timeouts: list[float] = Field(default_factory=list)
    cascade_thresholds: list[float] = Field(default_factory=list)
    cascade: bool = True
    memory_mb: int = Field(default=2048, ge=64)
    candidate_import: Literal["proxy", "shared", "auto"] = "auto"
    """How an evaluator that imports the program gets it (see `harness.py`): a proxy module whose
    calls run in a separate sandboxed process, the program itself in the evaluator's process
    (forgeable), or proxy unless it cannot serve the initial program (decided at run start)."""

    def stage_timeout(self, index: int) -> float:
        """Timeout of stage `index` (0-based)."""
        if index < len(self.stage_timeouts):
            return float(self.stage_timeouts[index])
        return self.timeout_s


class EvolutionSettings(BaseModel):
    """Database and search settings shared with OpenEvolve's config.yaml."""

    model_config = ConfigDict(extra="forbid")

    max_iterations: int = Field(default=100, ge=0)
    num_islands: int = Field(default=4, ge=1, le=256)
    migration_interval: int = Field(default=10, ge=1)
    migration_rate: float = Field(default=0.1, ge=0, le=1)
    diff_based: bool = True
    population_size: int = Field(default=1000, ge=1)
    archive_size: int = Field(default=100, ge=1)
    exploration_ratio: float = Field(default=0.2, ge=0, le=1)
    exploitation_ratio: float = Field(default=0.7, ge=0, le=1)
    num_inspirations: int = Field(default=3, ge=0, le=32)
    max_code_length: int = Field(default=20000, ge=100)
    random_seed: int | None = None


class FeatureSettings(BaseModel):
    """MAP-Elites feature dimensions."""

    model_config = ConfigDict(extra="forbid")

    dimensions: list[str] = Field(default_factory=lambda: ["combined_score", "code_length"])
    bins: int = Field(default=10, ge=1, le=1000)


class ProblemToml(BaseModel):
    """The schema of problem.toml."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str = ""
    language: str | None = None
    workload: str = ""
    metrics: dict[str, Literal["max", "min"]] = Field(default_factory=dict)
    features: FeatureSettings | None = None
    evaluator: EvaluatorSettings | None = None
    evolution: EvolutionSettings | None = None


class Block(BaseModel):
    """One evolvable region: 0-based line indices of the content lines [start, end)."""

    start: int
    end: int


class Problem(BaseModel):
    """Everything the controller needs to know about one problem."""

    name: str
    path: Path
    program_file: str
    """File name of the initial program (the candidate gets the same name)."""
    language: str
    initial_code: str
    evaluator_path: Path
    stages: list[str]
    """Evaluator functions to call in order (evaluate_stage1.. or just evaluate)."""
    description: str = ""
    workload: str = ""
    metric_directions: dict[str, Literal["max", "min"]] = Field(default_factory=dict)
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    evaluator: EvaluatorSettings = Field(default_factory=EvaluatorSettings)
    evolution: EvolutionSettings = Field(default_factory=EvolutionSettings)
    templates_dir: Path | None = None
    sources: list[str] = Field(default_factory=list)
    """Which files the settings came from."""

    def blocks(self, code: str | None = None) -> list[Block]:
        return find_blocks(self.initial_code if code is None else code)


def find_blocks(code: str) -> list[Block]:
    """Evolvable regions of `code`; the whole file when it has no markers. Raises ValueError."""
    lines = code.splitlines()
    blocks: list[Block] = []
    open_at: int | None = None
    for i, line in enumerate(lines):
        if START_MARK in line:
            if open_at is not None:
                raise ValueError(f"line {i + 1}: {START_MARK} inside an open block")
            open_at = i + 1
        elif END_MARK in line:
            if open_at is None:
                raise ValueError(f"line {i + 1}: {END_MARK} without a {START_MARK}")
            blocks.append(Block(start=open_at, end=i))
            open_at = None
    if open_at is not None:
        raise ValueError(f"{START_MARK} on line {open_at} is never closed")
    if not blocks:
        return [Block(start=0, end=len(lines))]
    return blocks


def _bad(problem: str, file: Path, why: str) -> InputError:
    return InputError(
        f"Problem '{problem}': {file.name} is malformed: {why}.",
        hint=f"Fix {file} and run again; nothing was started.",
    )


def _stages_of(source: str, evaluator: Path, problem: str) -> tuple[list[str], set[str]]:
    """The stage functions evaluator.py defines (in cascade order) and all its top-level function names."""
    try:
        tree = ast.parse(source, filename=str(evaluator))
    except SyntaxError as exc:
        raise _bad(problem, evaluator, f"syntax error on line {exc.lineno}: {exc.msg}") from None
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    stages: list[str] = []
    k = 1
    while f"evaluate_stage{k}" in names:
        stages.append(f"evaluate_stage{k}")
        k += 1
    if stages:
        return stages, names
    if "evaluate" in names:
        return ["evaluate"], names
    raise _bad(
        problem, evaluator, "it defines neither evaluate(program_path) nor evaluate_stage1(program_path)"
    )


def _openevolve_config(path: Path, problem: str) -> tuple[dict[str, Any], str]:
    """The shared subset of an OpenEvolve config.yaml, as our section dicts, and its system message."""
    import yaml

    text = problem_files.read_text(path.parent, path.name, problem)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise _bad(problem, path, f"not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise _bad(problem, path, "the top level must be a mapping")
    out: dict[str, Any] = {"evolution": {}, "evaluator": {}, "features": {}}
    evo = out["evolution"]
    for key in ("max_iterations", "random_seed", "max_code_length"):
        if raw.get(key) is not None:
            evo[key] = raw[key]
    if "diff_based_evolution" in raw:
        evo["diff_based"] = bool(raw["diff_based_evolution"])
    db = raw.get("database") or {}
    if not isinstance(db, dict):
        raise _bad(problem, path, "'database' must be a mapping")
    for key in (
        "num_islands",
        "migration_interval",
        "migration_rate",
        "population_size",
        "archive_size",
        "exploration_ratio",
        "exploitation_ratio",
    ):
        if db.get(key) is not None:
            evo[key] = db[key]
    if db.get("feature_dimensions"):
        dims = [
            {"complexity": "code_length", "diversity": "novelty"}.get(d, d) for d in db["feature_dimensions"]
        ]
        out["features"]["dimensions"] = dims
    bins = db.get("feature_bins")
    if isinstance(bins, int):
        out["features"]["bins"] = bins
    elif isinstance(bins, dict) and bins:
        out["features"]["bins"] = max(int(v) for v in bins.values())
    ev = raw.get("evaluator") or {}
    if not isinstance(ev, dict):
        raise _bad(problem, path, "'evaluator' must be a mapping")
    if ev.get("timeout") is not None:
        out["evaluator"]["timeout_s"] = ev["timeout"]
    if ev.get("cascade_thresholds") is not None:
        out["evaluator"]["cascade_thresholds"] = ev["cascade_thresholds"]
    if ev.get("cascade_evaluation") is not None:
        out["evaluator"]["cascade"] = bool(ev["cascade_evaluation"])
    prompt = raw.get("prompt") or {}
    system = prompt.get("system_message", "") if isinstance(prompt, dict) else ""
    return out, system if isinstance(system, str) else ""


def load_problem(path: str | Path) -> Problem:
    """Read a problem directory; any malformed part raises InputError naming the file and problem.

    Every file is read through `problem_files`: nothing is read through a link that leads out of
    the directory, and only regular files are read.
    """
    given = Path(path).expanduser()
    name = given.name or str(given)
    if not given.is_dir():
        raise InputError(
            f"Problem directory {given} does not exist.",
            hint="Give a directory holding initial_program.* and evaluator.py.",
        )
    root = given.resolve()
    programs = problem_files.names(root, "initial_program.*")
    if not programs:
        raise InputError(
            f"Problem '{name}' has no initial_program.* file in {given}.",
            hint="OpenEvolve problems need initial_program.py (or .v, ...) with EVOLVE-BLOCK markers.",
        )
    program = root / programs[0]
    evaluator = root / "evaluator.py"
    if not problem_files.exists(root, evaluator.name):
        raise InputError(
            f"Problem '{name}' has no evaluator.py in {given}.",
            hint="Add evaluator.py defining evaluate(program_path) -> dict with combined_score.",
        )
    code = problem_files.read_text(root, program.name, name)
    try:
        find_blocks(code)
    except ValueError as exc:
        raise _bad(name, program, str(exc)) from None
    stages, evaluator_names = _stages_of(problem_files.read_text(root, evaluator.name, name), evaluator, name)

    sections: dict[str, Any] = {"evolution": {}, "evaluator": {}, "features": {}}
    sources = [program.name, evaluator.name]
    description = ""
    cfg = next((root / n for n in ("config.yaml", "config.yml") if problem_files.exists(root, n)), None)
    if cfg is not None:
        from_yaml, description = _openevolve_config(cfg, name)
        for key, vals in from_yaml.items():
            sections[key].update(vals)
        sources.append(cfg.name)
    toml_data = ProblemToml()
    ptoml = root / "problem.toml"
    has_toml = problem_files.exists(root, ptoml.name)
    if has_toml:
        text = problem_files.read_text(root, ptoml.name, name)
        try:
            raw = tomllib.loads(text)
            toml_data = ProblemToml.model_validate(raw)
        except tomllib.TOMLDecodeError as exc:
            raise _bad(name, ptoml, f"not valid TOML ({exc})") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise _bad(name, ptoml, f"{where}: {err['msg']}") from None
        sources.append(ptoml.name)
        for key in ("evolution", "evaluator", "features"):
            sub = getattr(toml_data, key)
            if sub is not None:
                sections[key].update(sub.model_dump(exclude_unset=True))
    try:
        evolution = EvolutionSettings.model_validate(sections["evolution"])
        evaluator_settings = EvaluatorSettings.model_validate(sections["evaluator"])
        features = FeatureSettings.model_validate(sections["features"])
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        src = cfg if cfg is not None and not has_toml else (ptoml if has_toml else root)
        raise _bad(name, src, f"{where}: {err['msg']}") from None
    language = toml_data.language or _LANG_BY_EXT.get(
        program.suffix.lower(), program.suffix.lstrip(".") or "text"
    )
    templates = root / "templates"
    if problem_files.exists(root, templates.name):
        for tmpl in ("system.tmpl", "diff_user.tmpl", "rewrite_user.tmpl"):
            if problem_files.exists(root, f"templates/{tmpl}"):
                problem_files.read_text(root, f"templates/{tmpl}", name)  # refused now, not mid-run
    return Problem(
        name=toml_data.name or re.sub(r"\s+", "_", name),
        path=root,
        program_file=program.name,
        language=language,
        initial_code=code,
        evaluator_path=evaluator,
        stages=stages
        if evaluator_settings.cascade
        else (["evaluate"] if "evaluate" in evaluator_names else stages),
        description=toml_data.description or description,
        workload=toml_data.workload,
        metric_directions=dict(toml_data.metrics),
        features=features,
        evaluator=evaluator_settings,
        evolution=evolution,
        templates_dir=templates if problem_files.exists(root, templates.name) else None,
        sources=sources,
    )
