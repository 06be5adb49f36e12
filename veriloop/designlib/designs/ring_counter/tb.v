`timescale 1ns/1ps
// Self-checking testbench for ring_counter: the model keeps the state number k and builds the expected
// pattern from it (ring: 1 << k; Johnson: k low ones, then ones draining from the bottom).
module tb;
    localparam WIDTH = {{WIDTH}};
    localparam JOHNSON = {{KIND==johnson?1|0}};
    localparam HAS_EN = {{ENABLE}};
    localparam ASYNC = {{RESET==async?1|0}};
    localparam STATES = JOHNSON ? 2 * WIDTH : WIDTH;
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg en = 1'b0;
    wire [WIDTH-1:0] q;
    reg [WIDTH-1:0] expected;
    integer k = 0;
    integer errors = 0;
    integer total = 0;
    integer i, b;
    integer seed = 139;

    ring_counter dut (.clk(clk), .{{RST}}({{RST}}),
// @if ENABLE
        .en(en),
// @endif
        .q(q));

    always #5 clk = ~clk;

    task build(input integer state);
        begin
            for (b = 0; b < WIDTH; b = b + 1) begin
                if (!JOHNSON) expected[b] = (b == state);
                else if (state <= WIDTH) expected[b] = (b < state);
                else expected[b] = (b >= state - WIDTH);
            end
        end
    endtask

    task step(input r, input e);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            en = e;
            @(posedge clk);
            if (r) k = 0;
            else if (e || !HAS_EN) k = (k + 1) % STATES;
            build(k);
            #1;
            total = total + 1;
            if (q !== expected) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t state %0d q=%b expected %b", $time, k, q, expected);
            end
        end
    endtask

    initial begin
        step(1, 0);
        for (i = 0; i < 3 * STATES + 2; i = i + 1) step(0, 1);
        for (i = 0; i < 500; i = i + 1) step(($random(seed) % 83) == 0, $random(seed) & 1);
        // reset asserted between clock edges: an asynchronous reset acts at once, a synchronous one waits
        step(0, 1);
        while (k == 0) step(0, 1);
        @(negedge clk);
        {{RST}} = {{RST_ASSERT}};
        #1;
        build(ASYNC ? 0 : k);
        total = total + 1;
        if (q !== expected) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: q=%b expected %b", $time, q, expected);
        end
        step(1, 0);
        step(0, 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
