`timescale 1ns/1ps
// Self-checking testbench for mux: the model shifts the packed bus down by sel*WIDTH.
module tb;
    localparam N = {{N}};
    localparam WIDTH = {{WIDTH}};
    localparam SW = $clog2(N);
    reg  [N*WIDTH-1:0] in;
    reg  [SW-1:0]      sel;
    wire [WIDTH-1:0]   out;
    reg  [WIDTH-1:0]   expected;
    integer errors = 0;
    integer total = 0;
    integer i, s, k;
    integer seed = 47;

    mux dut (.in(in), .sel(sel), .out(out));

    initial begin
        for (i = 0; i < 300; i = i + 1) begin
            for (k = 0; k < N * WIDTH; k = k + 1) in[k] = $random(seed);
            for (s = 0; s < (1 << SW); s = s + 1) begin
                sel = s;
                expected = (s < N) ? (in >> (s * WIDTH)) : {WIDTH{1'b0}};
                #1;
                total = total + 1;
                if (out !== expected) begin
                    errors = errors + 1;
                    if (errors <= 10) $display("MISMATCH sel=%0d out=%h expected %h", s, out, expected);
                end
            end
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
