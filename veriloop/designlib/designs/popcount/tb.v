`timescale 1ns/1ps
// Self-checking testbench for popcount: the model clears the lowest set bit until the value is zero.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam CW = $clog2(WIDTH + 1);
    reg  [WIDTH-1:0] in, v;
    wire [CW-1:0]    count;
    integer n;
    integer errors = 0;
    integer total = 0;
    integer i, k;
    integer seed = 59;

    popcount dut (.in(in), .count(count));

    task apply(input [WIDTH-1:0] x);
        begin
            in = x;
            v = x; n = 0;
            while (v != 0) begin v = v & (v - 1'b1); n = n + 1; end
            #1;
            total = total + 1;
            if (count !== n[CW-1:0]) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH in=%h count=%0d expected %0d", x, count, n);
            end
        end
    endtask

    initial begin
        apply(0);
        apply({WIDTH{1'b1}});
        if (WIDTH <= 10) for (i = 0; i < (1 << WIDTH); i = i + 1) apply(i);
        for (i = 0; i < 1500; i = i + 1) begin
            for (k = 0; k < WIDTH; k = k + 1) v[k] = ($random(seed) % 4) == 0 ? ~i[0] : i[0];
            apply(v);
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
