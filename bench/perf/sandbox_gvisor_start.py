"""Per-job cost of the gvisor sandbox against the local (bubblewrap) one and a bare host process.

    .venv/bin/python bench/perf/sandbox_gvisor_start.py [--reps 7]

Prints the median wall seconds of three jobs (`/bin/true`, `python -c pass`, iverilog + vvp on a
small counter) per backend, one job at a time. Needs root and runsc for the gvisor column.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from veriloop.config import SandboxConfig
from veriloop.sandbox import Job, Limits, get_sandbox

DESIGN = (
    "module counter(input clk, input rst, output reg [3:0] q);\n"
    "  always @(posedge clk) q <= rst ? 4'd0 : q + 4'd1;\n"
    "endmodule\n"
    "module tb; reg clk = 0, rst = 1; wire [3:0] q;\n"
    "  counter dut(.clk(clk), .rst(rst), .q(q));\n"
    "  always #1 clk = ~clk;\n"
    '  initial begin #3 rst = 0; #20 $display("q=%0d", q); $finish; end\n'
    "endmodule\n"
)
SIM = "iverilog -g2012 -o sim.vvp d.v && vvp -n sim.vvp"
JOBS = {
    "true": Job(argv=["/bin/true"]),
    "python -c pass": Job(argv=[sys.executable, "-c", "pass"]),
    "iverilog+vvp": Job(argv=["sh", "-c", SIM], files={"d.v": DESIGN}, limits=Limits(wall_s=60)),
}


def bare(job: Job) -> float:
    with tempfile.TemporaryDirectory() as d:
        for name, text in job.files.items():
            Path(d, name).write_text(str(text))
        t0 = time.monotonic()
        subprocess.run(job.argv, cwd=d, capture_output=True, check=True)
        return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    reps = ap.parse_args().reps
    boxes = {name: get_sandbox(SandboxConfig(backend=name, max_parallel=1)) for name in ("local", "gvisor")}
    print(f"{'job':16} {'bare':>8} {'local':>8} {'gvisor':>8}   (median wall s of {reps})")
    for label, job in JOBS.items():
        cols = [statistics.median(bare(job) for _ in range(reps))]
        for box in boxes.values():
            box.run(job)  # warm caches
            times = []
            for _ in range(reps):
                t0 = time.monotonic()
                res = box.run(job)
                times.append(time.monotonic() - t0)
                assert res.ok, (label, box.name, res.stderr)
            cols.append(statistics.median(times))
        print(f"{label:16} " + " ".join(f"{c:8.3f}" for c in cols))


if __name__ == "__main__":
    main()
