"""Evaluator for rtl_ppa: formal equivalence (Yosys miter + SAT) and PPA (cells x logic depth) of popcount16.

The candidate Verilog is never simulated or executed: Yosys reads it (in the sandbox) after a
static screen, proves it equivalent to reference.v, then synthesises it to a fixed gate set
(abc -g ...) and reports cells and the longest topological path. Score = (reference cells *
reference depth) / (cells * depth); a non-equivalent candidate is rejected with the
counterexample; sequential logic, blackboxes and unknown cells are rejected.
"""

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
TOP = "popcount16"
GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX"
ALLOWED_CELLS = {"$_AND_", "$_NAND_", "$_OR_", "$_NOR_", "$_XOR_", "$_XNOR_", "$_ANDNOT_", "$_ORNOT_", "$_MUX_",
                 "$_NOT_", "$_BUF_"}
FORBIDDEN = [
    (re.compile(r"`\s*include"), "`include is not allowed"),
    (re.compile(r"\$\w+"), "system tasks and functions ($...) are not allowed"),
    (re.compile(r"\binitial\b"), "initial blocks are not allowed"),
    (re.compile(r"\b(posedge|negedge)\b"), "the design must be combinational (no edges)"),
    (re.compile(r"\b(blackbox|whitebox|keep_hierarchy|abc9_box|lib_whitebox)\b"), "blackbox-style attributes are not allowed"),
    (re.compile(r"\b(specify|primitive|library|config)\b"), "specify blocks, primitives and configs are not allowed"),
]
TIMEOUT_S = 20


def _yosys(script, workdir):
    path = shutil.which("yosys")
    if path is None:
        raise RuntimeError("yosys is not installed or not on PATH; the rtl_ppa evaluator needs it")
    try:
        proc = subprocess.run([path, "-p", script], capture_output=True, text=True, timeout=TIMEOUT_S, cwd=workdir)
    except subprocess.TimeoutExpired:
        return 1, f"yosys did not finish within {TIMEOUT_S} s"
    return proc.returncode, proc.stdout + proc.stderr


def screen(text):
    """None, or why the source is refused before any tool reads it."""
    stripped = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    for pattern, why in FORBIDDEN:
        if pattern.search(stripped):
            return why
    if len(text) > 100_000:
        return "the source is larger than 100 kB"
    return None


def synth_stats(verilog_path, workdir, netlist=None):
    """(cells, depth, cell types) or raises ValueError with yosys's complaint.

    The design must pass `check -assert` (no multiple drivers, undriven wires or logic loops)
    before and after synthesis; with `netlist`, the synthesised gate netlist is written there.
    """
    script = (f"read_verilog -noautowire {verilog_path}; hierarchy -check -top {TOP}; proc; flatten; "
              f"check -assert; synth -flatten -top {TOP}; abc -g {GATES}; opt_clean; check -assert; "
              f"tee -o stat.txt stat; tee -o ltp.txt ltp -noff"
              + (f"; write_verilog -noattr {netlist}" if netlist else ""))
    code, out = _yosys(script, workdir)
    if code != 0:
        warn = [ln.strip() for ln in out.splitlines() if ln.startswith("Warning:") or "ERROR" in ln]
        raise ValueError("; ".join(warn[-6:]) or out[-800:])
    stat = open(os.path.join(workdir, "stat.txt")).read()
    ltp = open(os.path.join(workdir, "ltp.txt")).read()
    types = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\S+)\s+(\d+)\s*$", stat, re.M)
             if not m.group(1).startswith("Number")}
    cells = re.search(r"Number of cells:\s+(\d+)", stat)
    depth = re.search(r"length=(\d+)", ltp)
    if cells is None or depth is None:
        raise ValueError("could not read Yosys' statistics")
    return int(cells.group(1)), int(depth.group(1)), types


def prove(candidate_path, workdir):
    """(equivalent, counterexample text or error) of a (synthesised) design against reference.v."""
    script = (f"read_verilog -noautowire {candidate_path}; rename {TOP} vl_gate; "
              f"read_verilog {os.path.join(HERE, 'reference.v')}; rename {TOP} vl_gold; hierarchy -check; proc; "
              "flatten; opt_clean; check -assert; miter -equiv -flatten -make_assert vl_gold vl_gate vl_miter; "
              "hierarchy -top vl_miter; sat -enable_undef -set-def-inputs -prove-asserts -show-ports vl_miter")
    code, out = _yosys(script, workdir)
    if code == 0 and "no model found: SUCCESS!" in out:
        return True, ""
    if "model found: FAIL!" in out:
        m = re.search(r"\\in_in\s+(\d+)\s+([0-9a-fA-F]+)\s+([01]+)", out)
        if m:
            value = int(m.group(1))
            return False, (f"counterexample: in = 16'h{value:04x} (16'b{m.group(3)}): the reference gives "
                           f"count = {bin(value).count('1')}, the candidate does not")
        return False, "counterexample:\n" + out[out.find("model found: FAIL!"):][:1500]
    err = [ln for ln in out.splitlines() if "ERROR" in ln]
    return False, "the equivalence check could not run: " + ("; ".join(err[-3:]) or out[-800:])


def _evaluate(program_path):
    with open(program_path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    why = screen(text)
    if why:
        return reject(f"refused before synthesis: {why}")
    workdir = tempfile.mkdtemp(prefix="vl-rtl-")
    try:
        cand = os.path.join(workdir, "candidate.v")
        netlist = os.path.join(workdir, "netlist.v")
        with open(cand, "w", encoding="utf-8") as fh:
            fh.write(text)
        for sub in ("eq", "syn", "ref"):
            os.mkdir(os.path.join(workdir, sub))
        with ThreadPoolExecutor(max_workers=2) as pool:
            ref_f = pool.submit(synth_stats, os.path.join(HERE, "reference.v"), os.path.join(workdir, "ref"))
            try:
                cells, depth, types = synth_stats(cand, os.path.join(workdir, "syn"), netlist)
            except ValueError as exc:
                return reject("Yosys rejected the design (multiple drivers, undriven wires, logic loops or "
                              "a synthesis error)", str(exc))
            # Prove what was measured: the synthesised gate netlist against the reference.
            equivalent, detail = prove(netlist, os.path.join(workdir, "eq"))
            if not equivalent:
                return reject("the design is not equivalent to the reference popcount16", detail)
            rcells, rdepth, _ = ref_f.result()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bad = sorted(t for t in types if t not in ALLOWED_CELLS)
    if bad:
        return reject(f"the synthesised design contains cells outside the gate set: {', '.join(bad)} "
                      "(flip-flops, latches, blackboxes or submodules are not allowed)")
    if cells == 0 or depth == 0:
        return reject("the synthesised design has no logic, which cannot compute popcount16")
    score = (rcells * rdepth) / (cells * depth)
    metrics = {"combined_score": score, "cells": float(cells), "depth": float(depth), "valid": 1.0}
    return result(metrics, {"feedback": f"equivalent to the reference (SAT proof on the synthesised netlist); "
                                        f"{cells} cells, depth {depth} (reference {rcells} cells, depth {rdepth}); "
                                        "cell types " + ", ".join(f"{k} {v}" for k, v in sorted(types.items()))})


def evaluate_stage1(program_path):
    """Cheap: the static screen and a Yosys parse/elaboration of the module and its interface."""
    with open(program_path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    why = screen(text)
    if why:
        return reject(f"refused before synthesis: {why}")
    workdir = tempfile.mkdtemp(prefix="vl-rtl-")
    try:
        cand = os.path.join(workdir, "candidate.v")
        with open(cand, "w", encoding="utf-8") as fh:
            fh.write(text)
        code, out = _yosys(f"read_verilog -noautowire {cand}; hierarchy -check -top {TOP}; proc; flatten; "
                           "check -assert; "
                           f"select -assert-count 1 {TOP}/i:in; select -assert-count 1 {TOP}/o:count; "
                           f"select -assert-count 2 {TOP}/x:*", workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if code != 0:
        err = [ln for ln in out.splitlines() if "ERROR" in ln]
        warn = [ln.strip() for ln in out.splitlines() if ln.startswith("Warning:")]
        return reject("the module does not elaborate cleanly with the required interface "
                      f"(module {TOP}(input [15:0] in, output [4:0] count); no multiple drivers, undriven "
                      "wires or logic loops)", "; ".join((warn[-4:] + err[-3:])) or out[-800:])
    return result({"combined_score": 1.0, "valid": 1.0}, {"stage1": "parses and elaborates with the right ports"})


def evaluate_stage2(program_path):
    return _evaluate(program_path)


def evaluate(program_path):
    return evaluate_stage2(program_path)
