`timescale 1ns/1ps
// Self-checking testbench for lfsr: the model steps a bit array with an explicit tap loop.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam WIDTH = {{WIDTH}};
    localparam [WIDTH-1:0] TAPS = {{TAPS}};
    localparam [WIDTH-1:0] SEED = {{SEED}};
    localparam HAS_EN = {{ENABLE}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg en = 1'b0;
    wire [WIDTH-1:0] q;
    reg [WIDTH-1:0] model;
    reg fb;
    integer errors = 0;
    integer total = 0;
    integer i, k;
    integer seed = 73;

    lfsr dut (.clk(clk), .{{RST}}({{RST}}),
// @if ENABLE
        .en(en),
// @endif
        .q(q));

    always #5 clk = ~clk;

    task step(input r, input e);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            en = e;
            @(posedge clk);
            if (r) model = SEED;
            else if (e || !HAS_EN) begin
                fb = 1'b0;
                for (k = 0; k < WIDTH; k = k + 1) if (TAPS[k]) fb = fb ^ model[k];
                for (k = WIDTH - 1; k > 0; k = k - 1) model[k] = model[k - 1];
                model[0] = fb;
            end
            #1;
            total = total + 1;
            if (q !== model) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t q=%h expected %h", $time, q, model);
            end
        end
    endtask

    initial begin
        model = SEED;
        step(1, 0);
        for (i = 0; i < 1200; i = i + 1) step(0, 1);
        for (i = 0; i < 400; i = i + 1) step(($random(seed) % 151) == 0, $random(seed) & 1);
        // reset asserted between clock edges: an asynchronous reset acts at once, a synchronous one waits
        step(0, 1);
        while (model == SEED) step(0, 1);
        @(negedge clk);
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (q !== (ASYNC ? SEED : model)) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: q=%h (reset is %0s)", $time, q, ASYNC ? "asynchronous" : "synchronous");
        end
        step(1, 0);
        step(0, 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
