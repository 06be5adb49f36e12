`timescale 1ns/1ps
// Self-checking testbench for seq_detector: the model keeps every sampled bit and compares windows
// directly, remembering where the last non-overlapping occurrence ended.
module tb;
    localparam L = {{PATTERN_LEN}};
    localparam [L-1:0] PATTERN = {{PATTERN_VLOG}};
    localparam OVERLAP = {{OVERLAP}};
    localparam MAXN = 8192;
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg din = 1'b0;
    wire detected;
    reg bits [0:MAXN-1];  // 3000 random steps plus pattern bursts stay below MAXN
    integer n;          // bits sampled since reset
    integer free_from;  // first index a new occurrence may start at
    reg expected, ok;
    integer errors = 0;
    integer total = 0;
    integer i, j, k;
    integer m;          // loop index private to the step task
    integer seed = 103;

    seq_detector dut (.clk(clk), .{{RST}}({{RST}}), .din(din), .detected(detected));

    always #5 clk = ~clk;

    task step(input r, input b);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            din = b;
            @(posedge clk);
            if (r) begin
                n = 0; free_from = 0; expected = 1'b0;
            end else begin
                bits[n] = b;
                n = n + 1;
                // window bits[n-L .. n-1] against PATTERN (first pattern bit is its MSB)
                ok = (n - L >= free_from);
                for (m = 0; m < L && ok; m = m + 1)
                    if (bits[n - L + m] !== PATTERN[L - 1 - m]) ok = 1'b0;
                expected = ok;
                if (ok && !OVERLAP) free_from = n;
            end
            #1;
            total = total + 1;
            if (detected !== expected) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t bit#%0d detected=%b expected %b", $time, n, detected, expected);
            end
        end
    endtask

    initial begin
        n = 0; free_from = 0;
        step(1, 0);
        // the pattern three times back to back, then with a one-bit gap
        for (j = 0; j < 3; j = j + 1) for (k = L - 1; k >= 0; k = k - 1) step(0, PATTERN[k]);
        step(0, ~PATTERN[0]);
        for (k = L - 1; k >= 0; k = k - 1) step(0, PATTERN[k]);
        // random stream biased towards the pattern's bits
        for (i = 0; i < 3000; i = i + 1) begin
            if (($random(seed) % 3) == 0) begin
                for (k = L - 1; k >= 0; k = k - 1) step(0, PATTERN[k]);
                i = i + L;
            end else step(($random(seed) % 997) == 0, $random(seed) & 1);
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
