`timescale 1ns/1ps
// Self-checking testbench for seq_multiplier: checks latency, the done pulse, busy and the product
// against the simulator's own multiplication.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam WIDTH = {{WIDTH}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg start = 1'b0;
    reg [WIDTH-1:0] a = 0, b = 0;
    wire busy, done;
    wire [2*WIDTH-1:0] product;
    reg [2*WIDTH-1:0] expected, last;
    integer errors = 0;
    integer total = 0;
    integer i, n;
    integer seed = 101;

    seq_multiplier dut (.clk(clk), .{{RST}}({{RST}}), .start(start), .a(a), .b(b),
        .busy(busy), .done(done), .product(product));

    always #5 clk = ~clk;

    task fail(input [8*40-1:0] what);
        begin
            errors = errors + 1;
            if (errors <= 10) $display("MISMATCH t=%0t %0s a=%h b=%h product=%h expected %h busy=%b done=%b", $time, what, a, b, product, expected, busy, done);
        end
    endtask

    task multiply(input [WIDTH-1:0] x, input [WIDTH-1:0] y);
        begin
            @(negedge clk);
            a = x; b = y; start = 1'b1;
            expected = x * y;
            @(negedge clk);
            start = 1'b0;
            // start is ignored while busy: change the operands and pulse start again
            a = ~x; b = ~y; start = (WIDTH > 2);
            for (n = 0; n < WIDTH; n = n + 1) begin
                total = total + 1;
                if (busy !== 1'b1 || done !== 1'b0 || product !== last) fail("while busy");
                @(negedge clk);
                start = 1'b0;
            end
            total = total + 1;
            if (busy !== 1'b0 || done !== 1'b1 || product !== expected) fail("at done");
            last = expected;
            @(negedge clk);
            total = total + 1;
            if (done !== 1'b0 || product !== expected) fail("after done");
        end
    endtask

    initial begin
        last = 0; expected = 0;
        @(negedge clk);
        total = total + 1;
        if (busy !== 1'b0 || done !== 1'b0 || product !== 0) fail("in reset");
        {{RST}} = {{RST_DEASSERT}};
        multiply({WIDTH{1'b1}}, {WIDTH{1'b1}});
        multiply(0, {WIDTH{1'b1}});
        multiply(1, 1);
        for (i = 0; i < 150; i = i + 1) multiply($random(seed), $random(seed));
        // reset in the middle of an operation
        @(negedge clk); a = 3; b = 3; start = 1'b1;
        @(negedge clk); start = 1'b0; {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (busy !== (ASYNC ? 1'b0 : 1'b1)) fail("reset between edges");
        @(negedge clk); {{RST}} = {{RST_DEASSERT}}; last = 0; expected = 0;
        total = total + 1;
        if (busy !== 1'b0 || done !== 1'b0 || product !== 0) fail("after reset");
        multiply(5, 7);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
