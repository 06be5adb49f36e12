"""Evaluator for systolic_dse: scores the returned accelerator configuration with the analytical model.

The model (model.py beside this file) is loaded here before the candidate starts; the candidate
runs in its own process and only returns a configuration, which is validated and scored here.
"""

import importlib.util
import math
import os

import numpy as np

import os as _os
import sys as _sys

_sys.path.insert(0, _os.path.dirname(_os.path.abspath(__file__)))  # problemkit.py beside this file

from problemkit import CandidateError, CandidateProcess
from problemkit import hidden_seed, reject, reject_candidate, result

_spec = importlib.util.spec_from_file_location("_systolic_model",
                                               os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.py"))
M = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(M)

AREA_CAP_MM2 = 4.0
REFERENCE = {"dataflow": "os", "rows": 16, "cols": 16, "ifmap_kb": 64, "filter_kb": 64, "ofmap_kb": 64}
KEYS = {"dataflow", "rows", "cols", "ifmap_kb", "filter_kb", "ofmap_kb"}


def constraints(cap):
    return {"area_cap_mm2": cap, "pe_area_mm2": M.PE_AREA_MM2, "sram_area_mm2_per_kb": M.SRAM_AREA_MM2_PER_KB}


def check(cfg, cap):
    if not isinstance(cfg, dict):
        raise ValueError(f"design() must return a dict, got {type(cfg).__name__}")
    if set(cfg) != KEYS:
        raise ValueError(f"the design must have exactly the keys {sorted(KEYS)}, got {sorted(cfg)}")
    if cfg["dataflow"] not in M.DATAFLOWS:
        raise ValueError(f"dataflow must be one of {M.DATAFLOWS}, got {cfg['dataflow']!r}")
    for key, lo, hi in (("rows", 1, 512), ("cols", 1, 512), ("ifmap_kb", 1, 65536), ("filter_kb", 1, 65536),
                        ("ofmap_kb", 1, 65536)):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise ValueError(f"{key} must be an integer in [{lo}, {hi}], got {v!r}")
    area = M.area_mm2(cfg)
    if area > cap + 1e-9:
        raise ValueError(f"the design's area {area:.3f} mm2 exceeds the cap of {cap:g} mm2")
    return area


def hidden_layers(rng):
    """A perturbed workload (scaled shapes) for the hidden check."""
    out = []
    for name, m, k, n, dup, count in M.LAYERS:
        s = float(rng.uniform(0.5, 2.0))
        out.append((name, max(1, int(m * s)), k, max(1, int(n / s)), dup, count))
    return out


def _ask(cand, layers, cap):
    cfg, _ = cand.call("design", [list(x) for x in layers], constraints(cap))
    return cfg, check(cfg, cap)


def evaluate_stage1(program_path):
    try:
        with CandidateProcess(program_path, budget_s=10.0) as cand:
            cfg, area = _ask(cand, M.LAYERS[:2], AREA_CAP_MM2)
    except CandidateError as err:
        return reject_candidate(err)
    except ValueError as exc:
        return reject(f"invalid design: {exc}")
    return result({"combined_score": 1.0, "area_mm2": area, "valid": 1.0}, {"stage1": f"design ok: {cfg}"})


def evaluate_stage2(program_path):
    hrng = np.random.default_rng(hidden_seed())
    hcap = float(hrng.uniform(1.5, 6.0))
    hlayers = hidden_layers(hrng)
    try:
        with CandidateProcess(program_path, budget_s=20.0) as cand:
            cfg, area = _ask(cand, M.LAYERS, AREA_CAP_MM2)
            hcfg, _ = _ask(cand, hlayers, hcap)
    except CandidateError as err:
        return reject_candidate(err)
    except ValueError as exc:
        return reject(f"invalid design: {exc}")
    cyc, energy, util = M.evaluate_config(cfg)
    rcyc, renergy, _ = M.evaluate_config(REFERENCE)
    speedup, egain = rcyc / cyc, renergy / energy
    score = math.sqrt(speedup * egain)
    hc, he, _ = M.evaluate_config(hcfg, hlayers)
    rhc, rhe, _ = M.evaluate_config(REFERENCE, hlayers)
    return result(
        {"combined_score": score, "latency_mcycles": cyc / 1e6, "energy_uj": energy / 1e6, "speedup": speedup,
         "energy_gain": egain, "utilisation": util, "area_mm2": area,
         "hidden_score": math.sqrt(rhc / hc * rhe / he), "valid": 1.0},
        {"feedback": f"design {cfg}: {cyc / 1e6:.2f} Mcycles ({speedup:.3f}x vs reference), {energy / 1e6:.1f} uJ "
                     f"({egain:.3f}x), mean PE utilisation {util:.3f}, area {area:.3f}/{AREA_CAP_MM2} mm2"},
    )


def evaluate(program_path):
    return evaluate_stage2(program_path)
