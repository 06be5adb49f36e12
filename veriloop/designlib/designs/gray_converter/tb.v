`timescale 1ns/1ps
// Self-checking testbench for gray_converter: round trips and a sequential-decode model.
module tb;
    localparam WIDTH = {{WIDTH}};
    reg  [WIDTH-1:0] bin_in, gray_in;
    wire [WIDTH-1:0] gray_out, bin_out;
    reg  [WIDTH-1:0] exp_gray, exp_bin;
    integer errors = 0;
    integer total = 0;
    integer i, k;
    integer seed = 3;

    gray_converter dut (.bin_in(bin_in), .gray_out(gray_out), .gray_in(gray_in), .bin_out(bin_out));

    task apply(input [WIDTH-1:0] b, input [WIDTH-1:0] g);
        begin
            bin_in = b; gray_in = g;
            // model: gray bit k = b[k] xor b[k+1]; binary decoded MSB first with a running xor
            exp_gray[WIDTH-1] = b[WIDTH-1];
            for (k = WIDTH - 2; k >= 0; k = k - 1) exp_gray[k] = b[k] ^ b[k + 1];
            exp_bin[WIDTH-1] = g[WIDTH-1];
            for (k = WIDTH - 2; k >= 0; k = k - 1) exp_bin[k] = exp_bin[k + 1] ^ g[k];
            #1;
            total = total + 1;
            if (gray_out !== exp_gray || bin_out !== exp_bin) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH bin_in=%b gray_out=%b exp %b | gray_in=%b bin_out=%b exp %b",
                                           b, gray_out, exp_gray, g, bin_out, exp_bin);
            end
        end
    endtask

    initial begin
        if (WIDTH <= 10) begin
            for (i = 0; i < (1 << WIDTH); i = i + 1) apply(i, i);
        end
        for (i = 0; i < 1000; i = i + 1) apply({$random(seed), $random(seed)}, {$random(seed), $random(seed)});
        apply({WIDTH{1'b1}}, {WIDTH{1'b1}});
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
