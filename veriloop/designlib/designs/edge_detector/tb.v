`timescale 1ns/1ps
// Self-checking testbench for edge_detector: the model remembers the last sampled input.
module tb;
    localparam RISE = {{EDGE==falling?0|1}};
    localparam FALL = {{EDGE==rising?0|1}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg sig = 1'b0;
    wire pulse;
    reg last;
    reg expected;
    integer errors = 0;
    integer total = 0;
    integer i;
    integer seed = 29;

    edge_detector dut (.clk(clk), .{{RST}}({{RST}}), .sig(sig), .pulse(pulse));

    always #5 clk = ~clk;

    // drive sig after the rising edge, check pulse just before the next one, then sample
    task step(input r, input s);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            sig = s;
            #2;
            if (!r) begin
                expected = (RISE && s && !last) || (FALL && !s && last);
                total = total + 1;
                if (pulse !== expected) begin
                    errors = errors + 1;
                    if (errors <= 10) $display("MISMATCH t=%0t sig=%b last=%b pulse=%b expected %b", $time, s, last, pulse, expected);
                end
            end
            @(posedge clk);
            last = r ? 1'b0 : s;
        end
    endtask

    initial begin
        last = 1'b0;
        step(1, 0);
        step(0, 1); step(0, 1); step(0, 0); step(0, 0); step(0, 1); step(0, 0); step(0, 1);
        for (i = 0; i < 800; i = i + 1) step(($random(seed) % 67) == 0, ($random(seed) % 3) == 0);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
