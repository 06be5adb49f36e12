`timescale 1ns/1ps
// Self-checking testbench for priority_encoder: the model scans from the winning end and stops at the first set bit.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam IW = $clog2(WIDTH);
    localparam MSB = {{PRIORITY==msb?1|0}};
    reg  [WIDTH-1:0] in;
    wire [IW-1:0]    idx;
    wire             valid;
    integer exp_idx;
    reg found;
    integer errors = 0;
    integer total = 0;
    integer i, k, b;
    integer seed = 53;

    priority_encoder dut (.in(in), .idx(idx), .valid(valid));

    task apply(input [WIDTH-1:0] v);
        begin
            in = v;
            found = 1'b0; exp_idx = 0;
            for (k = 0; k < WIDTH; k = k + 1) begin
                b = MSB ? WIDTH - 1 - k : k;
                if (!found && v[b]) begin found = 1'b1; exp_idx = b; end
            end
            #1;
            total = total + 1;
            if (valid !== found || idx !== exp_idx[IW-1:0]) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH in=%b idx=%0d valid=%b expected %0d %b", v, idx, valid, exp_idx, found);
            end
        end
    endtask

    initial begin
        apply(0);
        for (i = 0; i < WIDTH; i = i + 1) apply({{(WIDTH-1){1'b0}}, 1'b1} << i);
        for (i = 0; i < WIDTH; i = i + 1) apply({WIDTH{1'b1}} << i);
        for (i = 0; i < WIDTH; i = i + 1) apply({WIDTH{1'b1}} >> i);
        if (WIDTH <= 10) for (i = 0; i < (1 << WIDTH); i = i + 1) apply(i);
        // sparse random vectors make every position matter
        for (i = 0; i < 1500; i = i + 1) apply({$random(seed), $random(seed)} & {$random(seed), $random(seed)} & {$random(seed), $random(seed)});
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
