`timescale 1ns/1ps
// Self-checking testbench for gray_counter: model Gray code built bit by bit, plus a one-bit-change check.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam WIDTH = {{WIDTH}};
    localparam HAS_EN = {{ENABLE}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg en = 1'b0;
    wire [WIDTH-1:0] gray;
    reg [WIDTH-1:0] count, expect_gray, prev;
    integer errors = 0;
    integer total = 0;
    integer i, k, diff;
    integer seed = 5;

    gray_counter dut (.clk(clk), .{{RST}}({{RST}}),
// @if ENABLE
        .en(en),
// @endif
        .gray(gray));

    always #5 clk = ~clk;

    task step(input r, input e);
        begin
            @(negedge clk);
            prev = gray;
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            en = e;
            @(posedge clk);
            if (r) count = 0;
            else if (e || !HAS_EN) count = count + 1'b1;
            for (k = 0; k < WIDTH; k = k + 1)
                expect_gray[k] = (k == WIDTH - 1) ? count[k] : (count[k] ^ count[k + 1]);
            #1;
            total = total + 1;
            diff = 0;
            for (k = 0; k < WIDTH; k = k + 1) diff = diff + (gray[k] ^ prev[k]);
            if (gray !== expect_gray || (!r && (e || !HAS_EN) && diff != 1)) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t gray=%b expected %b", $time, gray, expect_gray);
            end
        end
    endtask

    initial begin
        count = 0;
        step(1, 0);
        for (i = 0; i < (1 << WIDTH) + 4 && i < 3000; i = i + 1) step(0, 1);
        for (i = 0; i < 400; i = i + 1) step(($random(seed) % 89) == 0, $random(seed) & 1);
        // reset asserted between clock edges: an asynchronous reset acts at once, a synchronous one waits
        step(0, 1);
        while (count == 0) step(0, 1);
        @(negedge clk);
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (gray !== (ASYNC ? {WIDTH{1'b0}} : expect_gray)) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: gray=%h (reset is %0s)", $time, gray, ASYNC ? "asynchronous" : "synchronous");
        end
        step(1, 0);
        step(0, 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
