"""Analytical systolic-array model (SCALE-Sim-like GEMM folding, buffer refetch, roofline, energy).

Shared by the evaluator (which scores) and readable by candidates; the evaluator always uses its
own copy loaded before the candidate starts.
"""

import math

DATAFLOWS = ("ws", "os", "is")
BYTES_PER_CYCLE = 32.0  # DRAM bandwidth
PE_AREA_MM2 = 0.0022
SRAM_AREA_MM2_PER_KB = 0.0035
E_MAC_PJ = 0.2
E_DRAM_PJ_PER_BYTE = 20.0
E_LEAK_PJ_PER_MM2_CYCLE = 0.05

# name, M (output pixels / tokens), K (reduction), N (output channels), input duplication of im2col, count
LAYERS = [
    ("resnet.conv1", 12544, 147, 64, 49, 1),
    ("resnet.res2.1x1a", 3136, 64, 64, 1, 3),
    ("resnet.res2.3x3", 3136, 576, 64, 9, 3),
    ("resnet.res2.1x1b", 3136, 64, 256, 1, 3),
    ("resnet.res3.3x3", 784, 1152, 128, 9, 4),
    ("resnet.res4.3x3", 196, 2304, 256, 9, 6),
    ("resnet.res5.3x3", 49, 4608, 512, 9, 3),
    ("resnet.fc", 1, 2048, 1000, 1, 1),
    ("bert.qkv", 128, 768, 2304, 1, 12),
    ("bert.scores", 128, 64, 128, 1, 144),
    ("bert.ffn1", 128, 768, 3072, 1, 12),
    ("bert.ffn2", 128, 3072, 768, 1, 12),
]


def area_mm2(cfg):
    return (
        cfg["rows"] * cfg["cols"] * PE_AREA_MM2
        + (cfg["ifmap_kb"] + cfg["filter_kb"] + cfg["ofmap_kb"]) * SRAM_AREA_MM2_PER_KB
    )


def _refetch(folds, buffer_kb, nbytes):
    """How many times an operand streams from DRAM: once if it fits its buffer, up to `folds` times."""
    if nbytes <= 0:
        return 1.0
    short = max(0.0, 1.0 - buffer_kb * 1024.0 / nbytes)
    return 1.0 + (folds - 1) * short


def layer_cost(cfg, layer):
    """(cycles, energy_pj, utilisation) of one layer instance."""
    _, m, k, n, dup, _count = layer
    rows, cols, df = cfg["rows"], cfg["cols"], cfg["dataflow"]
    a_bytes = m * k / dup  # unique input activations
    b_bytes = k * n  # weights
    o_bytes = m * n  # outputs (int8); partial sums are 4 bytes
    if df == "os":
        fr, fc = math.ceil(m / rows), math.ceil(n / cols)
        folds, per_fold = fr * fc, k + rows + cols - 2
        a_tr = a_bytes * _refetch(fc, cfg["ifmap_kb"], a_bytes)
        b_tr = b_bytes * _refetch(fr, cfg["filter_kb"], b_bytes)
        o_tr = o_bytes
        sram = m * k * fc + k * n * fr + o_bytes
    elif df == "ws":
        fr, fc = math.ceil(k / rows), math.ceil(n / cols)
        folds, per_fold = fr * fc, m + 2 * rows + cols - 2
        a_tr = a_bytes * _refetch(fc, cfg["ifmap_kb"], a_bytes)
        b_tr = b_bytes
        o_tr = o_bytes + 8.0 * o_bytes * (fr - 1) * max(0.0, 1.0 - cfg["ofmap_kb"] * 1024.0 / (4 * o_bytes))
        sram = m * k * fc + k * n + 4 * o_bytes * fr
    elif df == "is":
        fr, fc = math.ceil(k / rows), math.ceil(m / cols)
        folds, per_fold = fr * fc, n + 2 * rows + cols - 2
        a_tr = a_bytes
        b_tr = b_bytes * _refetch(fc, cfg["filter_kb"], b_bytes)
        o_tr = o_bytes + 8.0 * o_bytes * (fr - 1) * max(0.0, 1.0 - cfg["ofmap_kb"] * 1024.0 / (4 * o_bytes))
        sram = m * k + k * n * fc + 4 * o_bytes * fr
    else:
        raise ValueError(f"unknown dataflow {df!r}")
    compute = folds * per_fold
    dram = a_tr + b_tr + o_tr
    cycles = max(compute, dram / BYTES_PER_CYCLE)
    kb = cfg["ifmap_kb"] + cfg["filter_kb"] + cfg["ofmap_kb"]
    e_sram = 0.03 * math.sqrt(max(kb, 1.0) / 64.0)
    energy = (
        m * k * n * E_MAC_PJ
        + sram * e_sram
        + dram * E_DRAM_PJ_PER_BYTE
        + area_mm2(cfg) * cycles * E_LEAK_PJ_PER_MM2_CYCLE
    )
    util = m * k * n / (compute * rows * cols)
    return cycles, energy, util


def evaluate_config(cfg, layers=LAYERS):
    """Total (cycles, energy_pj) and mean utilisation over the layer list (with repeat counts)."""
    cyc = en = 0.0
    utils = []
    for layer in layers:
        c, e, u = layer_cost(cfg, layer)
        cyc += c * layer[5]
        en += e * layer[5]
        utils.append(u)
    return cyc, en, sum(utils) / len(utils)
