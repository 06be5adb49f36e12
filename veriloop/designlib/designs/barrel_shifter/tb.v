`timescale 1ns/1ps
// Self-checking testbench for barrel_shifter: the model moves one bit position at a time.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam SW = $clog2(WIDTH);
    localparam ROTATE = {{ROTATE}};
    reg  [WIDTH-1:0] data, m;
    reg  [SW-1:0]    shamt;
    reg              dir;
    wire [WIDTH-1:0] out;
    reg              t;
    integer errors = 0;
    integer total = 0;
    integer i, s, k, step;
    integer seed = 67;

    barrel_shifter dut (.data(data), .shamt(shamt), .dir(dir), .out(out));

    task apply(input [WIDTH-1:0] x, input [SW-1:0] n, input d);
        begin
            data = x; shamt = n; dir = d;
            m = x;
            for (step = 0; step < n; step = step + 1) begin
                if (d) begin
                    t = m[0];
                    for (k = 0; k < WIDTH - 1; k = k + 1) m[k] = m[k + 1];
                    m[WIDTH - 1] = ROTATE ? t : 1'b0;
                end else begin
                    t = m[WIDTH - 1];
                    for (k = WIDTH - 1; k > 0; k = k - 1) m[k] = m[k - 1];
                    m[0] = ROTATE ? t : 1'b0;
                end
            end
            #1;
            total = total + 1;
            if (out !== m) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH data=%h shamt=%0d dir=%b out=%h expected %h", x, n, d, out, m);
            end
        end
    endtask

    initial begin
        for (i = 0; i < 120; i = i + 1)
            for (s = 0; s < (1 << SW); s = s + 1) begin
                apply({$random(seed), $random(seed)}, s, 1'b0);
                apply({$random(seed), $random(seed)}, s, 1'b1);
            end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
