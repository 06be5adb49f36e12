`timescale 1ns/1ps
// Self-checking testbench for decoder: exhaustive over inputs (and enable), checks every output bit.
module tb;
    localparam IN_BITS = {{IN_BITS}};
    localparam HAS_EN = {{ENABLE}};
    localparam NOUT = 1 << IN_BITS;
    reg  [IN_BITS-1:0] in;
    reg                en;
    wire [NOUT-1:0]    out;
    reg  [NOUT-1:0]    expected;
    integer errors = 0;
    integer total = 0;
    integer i, e, k;

    decoder dut (.in(in),
// @if ENABLE
        .en(en),
// @endif
        .out(out));

    initial begin
        for (e = 0; e < 2; e = e + 1) begin
            for (i = 0; i < NOUT; i = i + 1) begin
                in = i; en = e;
                for (k = 0; k < NOUT; k = k + 1) expected[k] = (k == i) && (e == 1 || !HAS_EN);
                #1;
                total = total + 1;
                if (out !== expected) begin
                    errors = errors + 1;
                    if (errors <= 10) $display("MISMATCH in=%0d en=%0d out=%b expected %b", i, e, out, expected);
                end
            end
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
