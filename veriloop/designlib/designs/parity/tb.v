`timescale 1ns/1ps
// Self-checking testbench for parity: the model counts ones with an integer loop.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam ODD = {{PARITY==odd?1|0}};
    reg  [WIDTH-1:0] data;
    reg              parity_in;
    wire             parity, error;
    integer ones, i, k;
    reg exp_p;
    integer errors = 0;
    integer total = 0;
    integer seed = 149;

    parity_gen dut (.data(data), .parity_in(parity_in), .parity(parity), .error(error));

    task apply(input [WIDTH-1:0] d, input pin);
        begin
            data = d; parity_in = pin;
            ones = 0;
            for (k = 0; k < WIDTH; k = k + 1) ones = ones + d[k];
            exp_p = ODD ? (ones % 2 == 0) : (ones % 2 == 1);
            #1;
            total = total + 1;
            if (parity !== exp_p || error !== (pin != exp_p)) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH data=%h parity_in=%b parity=%b error=%b expected %b %b", d, pin, parity, error, exp_p, pin != exp_p);
            end
        end
    endtask

    initial begin
        if (WIDTH <= 10) for (i = 0; i < (1 << (WIDTH + 1)); i = i + 1) apply(i >> 1, i & 1);
        for (i = 0; i < 1500; i = i + 1) apply({$random(seed), $random(seed)}, $random(seed) & 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
