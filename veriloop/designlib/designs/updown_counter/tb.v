`timescale 1ns/1ps
// Self-checking testbench for updown_counter against an integer model taken modulo 2^WIDTH.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam WIDTH = {{WIDTH}};
    localparam HAS_EN = {{ENABLE}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg en = 1'b0;
    reg up = 1'b1;
    wire [WIDTH-1:0] q;
    integer model = 0;
    integer modulus = 1 << WIDTH;
    integer errors = 0;
    integer total = 0;
    integer i;
    integer seed = 7;

    updown_counter dut (
        .clk(clk), .{{RST}}({{RST}}),
// @if ENABLE
        .en(en),
// @endif
        .up(up), .q(q));

    always #5 clk = ~clk;

    task step(input r, input e, input u);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            en = e; up = u;
            @(posedge clk);
            if (r) model = 0;
            else if (e || !HAS_EN) model = u ? (model + 1) % modulus : (model + modulus - 1) % modulus;
            #1;
            total = total + 1;
            if (q !== model[WIDTH-1:0]) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t q=%0d expected %0d", $time, q, model);
            end
        end
    endtask

    initial begin
        step(1, 0, 1);
        for (i = 0; i < 5; i = i + 1) step(0, 1, 0);   // underflow wraps to all ones
        for (i = 0; i < 20; i = i + 1) step(0, 1, 1);
        for (i = 0; i < 600; i = i + 1) step(($random(seed) % 61) == 0, $random(seed) & 1, $random(seed) & 1);
        for (i = 0; i < 40; i = i + 1) step(0, 1, 1);
        // reset asserted between clock edges: an asynchronous reset acts at once, a synchronous one waits
        step(0, 1, 1);
        while (model == 0) step(0, 1, 1);
        @(negedge clk);
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (q !== (ASYNC ? {WIDTH{1'b0}} : model[WIDTH-1:0])) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: q=%h (reset is %0s)", $time, q, ASYNC ? "asynchronous" : "synchronous");
        end
        step(1, 0, 1);
        step(0, 1, 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
