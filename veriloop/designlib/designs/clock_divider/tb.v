`timescale 1ns/1ps
// Self-checking testbench for clock_divider: checks every cycle against a position model,
// and measures whole periods and high times of clk_out.
module tb;
    localparam DIV = {{DIV}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    wire clk_out;
    integer pos = 0;
    integer errors = 0;
    integer total = 0;
    integer i, highs, cycles;
    reg expected;

    clock_divider dut (.clk(clk), .{{RST}}({{RST}}), .clk_out(clk_out));

    always #5 clk = ~clk;

    task check_now;
        begin
            expected = (pos < DIV / 2);
            total = total + 1;
            if (clk_out !== expected) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t pos=%0d clk_out=%b expected %b", $time, pos, clk_out, expected);
            end
        end
    endtask

    initial begin
        repeat (3) @(posedge clk);
        #1 pos = 0; check_now;
        @(negedge clk) {{RST}} = {{RST_DEASSERT}};
        cycles = (DIV < 50) ? 20 * DIV : 3 * DIV;
        highs = 0;
        for (i = 0; i < cycles; i = i + 1) begin
            @(posedge clk); #1;
            pos = (pos + 1) % DIV;
            check_now;
            if (i < DIV) highs = highs + clk_out;
        end
        // duty over the first full period (positions 1..DIV-1 then 0)
        total = total + 1;
        if (highs != DIV / 2) begin
            errors = errors + 1;
            $display("MISMATCH high cycles per period %0d expected %0d", highs, DIV / 2);
        end
        // reset in the middle of a period restarts the pattern
        @(negedge clk) {{RST}} = {{RST_ASSERT}};
        @(posedge clk); #1 pos = 0; check_now;
        @(negedge clk) {{RST}} = {{RST_DEASSERT}};
        for (i = 0; i < 2 * DIV && i < 500; i = i + 1) begin
            @(posedge clk); #1;
            pos = (pos + 1) % DIV;
            check_now;
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
