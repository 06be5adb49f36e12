"""Evaluator for abc_recipe: runs a whitelisted ABC recipe on each design, maps it, checks equivalence.

For every design (designs/*.v) the evaluator builds an AIG with Yosys, then runs yosys-abc:
  read_aiger; strash; <recipe>; strash; map (gates.genlib.txt); print_stats; cec <original AIG>
and the same with the reference recipe (the pre-mapping part of Yosys' default abc script).
Score = geometric mean over designs of (ref_area * ref_delay) / (area * delay). The recipe is
parsed and whitelisted here, so it can name no file and run no other command; a non-equivalent
result is rejected with ABC's cec report.
"""

import math
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))  # problemkit.py beside this file

from problemkit import reject, result

HERE = os.path.dirname(os.path.abspath(__file__))
DESIGNS = ["mul8", "alu16", "prio16", "max4", "crc8"]
STAGE1_DESIGNS = ["max4"]
REFERENCE = "ifraig; scorr; dc2; dretime; strash; dch -f"
MAX_COMMANDS = 40
ABC_TIMEOUT_S = 20.0
# command -> (flags, numeric options {option: (lo, hi)})
ALLOWED = {
    "strash": (set(), {}),
    "balance": ({"-l", "-d", "-s", "-x"}, {}),
    "rewrite": ({"-l", "-z"}, {}),
    "refactor": ({"-l", "-z"}, {"-N": (2, 12)}),
    "resub": ({"-l", "-z"}, {"-K": (4, 16), "-N": (0, 3)}),
    "dc2": ({"-b", "-l"}, {}),
    "dch": ({"-f"}, {}),
    "drw": ({"-l", "-z"}, {}),
    "drf": ({"-l", "-z"}, {}),
    "fraig": (set(), {}),
    "ifraig": (set(), {}),
}
_TOKEN = re.compile(r"^[-A-Za-z0-9_]+$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STATS = re.compile(r"area\s*=\s*([0-9.]+)\s+delay\s*=\s*([0-9.]+)")


class RecipeError(ValueError):
    pass


def parse_recipe(text):
    """The recipe's commands as a list of token lists; raises RecipeError with the offending line."""
    commands = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        for part in line.split(";"):
            tokens = part.split()
            if not tokens:
                continue
            name, args = tokens[0], tokens[1:]
            if name not in ALLOWED:
                raise RecipeError(f"line {lineno}: command '{name[:40]}' is not allowed; allowed: "
                                  f"{', '.join(sorted(ALLOWED))}")
            for tok in tokens:
                if not _TOKEN.match(tok):
                    raise RecipeError(f"line {lineno}: '{tok[:40]}' is not an allowed token (letters, digits, '-', '_')")
            flags, numeric = ALLOWED[name]
            i = 0
            while i < len(args):
                opt = args[i]
                if opt in flags:
                    i += 1
                elif opt in numeric:
                    lo, hi = numeric[opt]
                    if i + 1 >= len(args) or not args[i + 1].isdigit() or not lo <= int(args[i + 1]) <= hi:
                        raise RecipeError(f"line {lineno}: '{name} {opt}' needs an integer in [{lo}, {hi}]")
                    i += 2
                else:
                    raise RecipeError(f"line {lineno}: option '{opt}' is not allowed for '{name}'")
            commands.append(tokens)
    if len(commands) > MAX_COMMANDS:
        raise RecipeError(f"the recipe has {len(commands)} commands; at most {MAX_COMMANDS} are allowed")
    return commands


def _tool(name):
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed or not on PATH; the abc_recipe evaluator needs it")
    return path


def build_aig(workdir, design):
    """The AIG of one design, built by Yosys (trusted input) in workdir."""
    out = os.path.join(workdir, design + ".aig")
    script = [f"read_verilog {os.path.join(HERE, 'designs', design + '.v')}",
              f"synth -flatten -top {design} -run begin:fine", "techmap", "opt -fast", "aigmap", "opt_clean",
              f"write_aiger -zinit {out}"]
    proc = subprocess.run([_tool("yosys"), "-q", "-p", "; ".join(script)], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"yosys could not build the AIG of {design}: {proc.stderr[-2000:]}")
    return out


def run_flow(aig, recipe, workdir):
    """(area, delay, equivalent, log) of a (validated or trusted) recipe string + map on one AIG."""
    script = (f"read_library {os.path.join(HERE, 'gates.genlib.txt')}; read_aiger {aig}; strash; "
              + (recipe + "; " if recipe else "") + f"strash; map; print_stats; cec {aig}")
    try:
        proc = subprocess.run([_tool("yosys-abc"), "-c", script], capture_output=True, text=True,
                              timeout=ABC_TIMEOUT_S, cwd=workdir)
    except subprocess.TimeoutExpired:
        return None, None, False, f"ABC did not finish within {ABC_TIMEOUT_S:g} s"
    out = _ANSI.sub("", proc.stdout + proc.stderr)
    m = _STATS.search(out)
    if proc.returncode != 0 or m is None:
        return None, None, False, out[-2000:]
    return float(m.group(1)), float(m.group(2)), "Networks are equivalent" in out, out[-2000:]


def check_equivalent(aig_a, aig_b, workdir):
    """(equivalent, ABC's cec report) for two AIG files."""
    proc = subprocess.run([_tool("yosys-abc"), "-c", f"cec {aig_a} {aig_b}"], capture_output=True, text=True,
                          timeout=ABC_TIMEOUT_S, cwd=workdir)
    out = _ANSI.sub("", proc.stdout + proc.stderr)
    return "Networks are equivalent" in out, out[-2000:]


def _evaluate(program_path, designs):
    with open(program_path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    try:
        cmds = parse_recipe(text)
    except RecipeError as exc:
        return reject(f"invalid recipe: {exc}")
    recipe = "; ".join(" ".join(c) for c in cmds)
    workdir = tempfile.mkdtemp(prefix="vl-abc-")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            aigs = dict(zip(designs, pool.map(lambda d: build_aig(workdir, d), designs), strict=True))
            jobs = [(d, recipe) for d in designs] + [(d, REFERENCE) for d in designs]
            outs = list(pool.map(lambda j: run_flow(aigs[j[0]], j[1], workdir), jobs))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    n = len(designs)
    ratios, lines, metrics = [], [], {}
    for d, (area, delay, eq, log), (ra, rd, _req, rlog) in zip(designs, outs[:n], outs[n:], strict=True):
        if ra is None:
            raise RuntimeError(f"the reference flow failed on {d}: {rlog}")
        if area is None:
            return reject(f"ABC failed on design {d} with this recipe", log)
        if not eq:
            return reject(f"the result for design {d} is NOT equivalent to the original", log)
        ratio = (ra * rd) / max(area * delay, 1e-9)
        ratios.append(ratio)
        metrics[f"{d}_ratio"] = ratio
        lines.append(f"{d}: area {area:g} delay {delay:g} (reference {ra:g} / {rd:g}) -> {ratio:.3f}x")
    score = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    metrics.update({"combined_score": score, "commands": float(len(cmds)), "valid": 1.0})
    return result(metrics, {"feedback": "; ".join(lines) + ". All results are equivalent (ABC cec)."})


def evaluate_stage1(program_path):
    return _evaluate(program_path, STAGE1_DESIGNS)


def evaluate_stage2(program_path):
    return _evaluate(program_path, DESIGNS)


def evaluate(program_path):
    return evaluate_stage2(program_path)
