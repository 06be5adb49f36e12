"""Systolic-array design-space exploration: pick a dataflow, array shape and buffer sizes.

design(layers, constraints) returns {"dataflow": "ws" | "os" | "is", "rows": int, "cols": int,
"ifmap_kb": int, "filter_kb": int, "ofmap_kb": int} for an accelerator that runs every layer.
layers: [[name, M, K, N, im2col_duplication, repeat_count], ...] (each layer is an M x K by K x N
GEMM); constraints: {"area_cap_mm2", "pe_area_mm2", "sram_area_mm2_per_kb"}. The area
(rows * cols * pe_area + total_kb * sram_area) must stay under the cap. Score: geometric mean of
the latency and energy gains over a reference design (16x16 output-stationary, 64 KB buffers).
"""

# EVOLVE-BLOCK-START
DATAFLOW = 1  # index into ("ws", "os", "is")
ROWS = 16.0
COLS = 16.0
IFMAP_KB = 32.0
FILTER_KB = 32.0
OFMAP_KB = 32.0
SHRINK = 0.8  # buffer scale step while the design is over the area cap


def choose(layers, constraints):
    cfg = {"dataflow": ("ws", "os", "is")[int(DATAFLOW) % 3], "rows": max(1, round(ROWS)),
           "cols": max(1, round(COLS)), "ifmap_kb": max(1, round(IFMAP_KB)),
           "filter_kb": max(1, round(FILTER_KB)), "ofmap_kb": max(1, round(OFMAP_KB))}

    def area(c):
        return (c["rows"] * c["cols"] * constraints["pe_area_mm2"]
                + (c["ifmap_kb"] + c["filter_kb"] + c["ofmap_kb"]) * constraints["sram_area_mm2_per_kb"])

    while area(cfg) > constraints["area_cap_mm2"]:
        if cfg["ifmap_kb"] + cfg["filter_kb"] + cfg["ofmap_kb"] > 24:
            for key in ("ifmap_kb", "filter_kb", "ofmap_kb"):
                cfg[key] = max(8, int(cfg[key] * SHRINK))
        else:
            cfg["rows"] = max(4, cfg["rows"] // 2)
            cfg["cols"] = max(4, cfg["cols"] // 2)
    return cfg
# EVOLVE-BLOCK-END


def design(layers, constraints):
    return choose(layers, constraints)
