`timescale 1ns/1ps
// Self-checking testbench for debouncer: the model delays the input by two samples and counts how long
// the delayed input has disagreed with the modelled output.
module tb;
    localparam STABLE = {{STABLE}};
    localparam RUNS = (STABLE > 2000) ? 2 : 12;
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg noisy = 1'b0;
    wire clean;
    reg d1, d2;           // the noisy samples of the previous two edges
    integer disagree;     // consecutive edges on which d2 differed from the model output
    reg model;
    integer errors = 0;
    integer total = 0;
    integer i, j, run;
    integer seed = 37;

    debouncer dut (.clk(clk), .{{RST}}({{RST}}), .noisy(noisy), .clean(clean));

    always #5 clk = ~clk;

    task step(input r, input v);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            noisy = v;
            @(posedge clk);
            if (r) begin
                d1 = 1'b0; d2 = 1'b0; disagree = 0; model = 1'b0;
            end else begin
                // decide with the synchronised value visible at this edge, then advance the pipeline
                if (d2 != model) disagree = disagree + 1;
                else disagree = 0;
                if (disagree == STABLE) begin
                    model = d2;
                    disagree = 0;
                end
                d2 = d1;
                d1 = v;
            end
            #1;
            total = total + 1;
            if (clean !== model) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t clean=%b expected %b", $time, clean, model);
            end
        end
    endtask

    initial begin
        d1 = 1'b0; d2 = 1'b0; disagree = 0; model = 1'b0;
        step(1, 0);
        for (run = 0; run < RUNS; run = run + 1) begin
            // bounce: short random pulses, then a long stable level
            for (i = 0; i < 3 * STABLE && i < 200; i = i + 1) step(0, $random(seed) & 1);
            j = $random(seed) & 1;
            for (i = 0; i < STABLE + 4; i = i + 1) step(0, j[0]);
            // a glitch one cycle shorter than the stability time must not pass
            for (i = 0; i < STABLE - 1; i = i + 1) step(0, ~j[0]);
            for (i = 0; i < STABLE + 4; i = i + 1) step(0, j[0]);
        end
        step(1, 1);
        for (i = 0; i < STABLE + 6; i = i + 1) step(0, 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
