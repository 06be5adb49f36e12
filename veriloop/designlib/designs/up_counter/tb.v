`timescale 1ns/1ps
// Self-checking testbench for up_counter: a behavioural model predicts q every cycle.
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam ASYNC = {{RESET==async?1|0}};
    localparam HAS_EN = {{ENABLE}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg en = 1'b0;
    wire [WIDTH-1:0] q;
    reg  [WIDTH-1:0] model;
    integer errors = 0;
    integer total = 0;
    integer i;
    integer seed = 32'd20240611;

    up_counter dut (
        .clk(clk),
        .{{RST}}({{RST}}),
// @if ENABLE
        .en(en),
// @endif
        .q(q)
    );

    always #5 clk = ~clk;

    task check(input [WIDTH-1:0] exp);
        begin
            total = total + 1;
            if (q !== exp) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t q=%h expected %h", $time, q, exp);
            end
        end
    endtask

    // one clock edge: drive inputs at negedge, update the model at posedge, check after it
    task step(input rst_on, input en_in);
        begin
            @(negedge clk);
            {{RST}} = rst_on ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            en = en_in;
            @(posedge clk);
            if (rst_on) model = {WIDTH{1'b0}};
            else if (en_in || !HAS_EN) model = model + 1'b1;
            #1 check(model);
        end
    endtask

    initial begin
        model = {WIDTH{1'b0}};
        step(1'b1, 1'b0);
        step(1'b1, 1'b1);
        // long enable run, long enough to wrap narrow counters
        for (i = 0; i < 300; i = i + 1) step(1'b0, 1'b1);
        // random enable and occasional reset
        for (i = 0; i < 400; i = i + 1) step(($random(seed) % 53) == 0, $random(seed) & 1);
        // reset between edges: an asynchronous reset clears q at once, a synchronous one waits for the edge
        @(negedge clk);
        {{RST}} = {{RST_DEASSERT}}; en = 1'b1;
        @(posedge clk); model = model + 1'b1;
        @(posedge clk); model = model + 1'b1;
        #2 {{RST}} = {{RST_ASSERT}};
        #1;
        if (ASYNC) model = {WIDTH{1'b0}};
        check(model);
        @(posedge clk); model = {WIDTH{1'b0}};
        #1 check(model);
        // wrap from all ones to zero
        if (WIDTH <= 12) begin
            step(1'b1, 1'b0);
            for (i = 0; i < (1 << WIDTH) + 3; i = i + 1) step(1'b0, 1'b1);
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
