`timescale 1ns/1ps
// Self-checking testbench for modn_counter: an integer model counts modulo N.
module tb;
    localparam ASYNC = {{RESET==async?1|0}};
    localparam N = {{N}};
    localparam W = (N > 2) ? $clog2(N) : 1;
    localparam HAS_EN = {{ENABLE}};
    reg clk = 1'b0;
    reg {{RST}} = {{RST_ASSERT}};
    reg en = 1'b0;
    wire [W-1:0] q;
    wire tc;
    integer model = 0;
    integer errors = 0;
    integer total = 0;
    integer i;
    integer seed = 11;

    modn_counter dut (.clk(clk), .{{RST}}({{RST}}),
// @if ENABLE
        .en(en),
// @endif
        .q(q), .tc(tc));

    always #5 clk = ~clk;

    task step(input r, input e);
        begin
            @(negedge clk);
            {{RST}} = r ? {{RST_ASSERT}} : {{RST_DEASSERT}};
            en = e;
            @(posedge clk);
            if (r) model = 0;
            else if (e || !HAS_EN) model = (model + 1) % N;
            #1;
            total = total + 1;
            if (q !== model[W-1:0] || tc !== (model == N - 1)) begin
                errors = errors + 1;
                if (errors <= 10) $display("MISMATCH t=%0t q=%0d tc=%b expected %0d", $time, q, tc, model);
            end
        end
    endtask

    initial begin
        step(1, 0);
        for (i = 0; i < 3 * N + 5 && i < 5000; i = i + 1) step(0, 1);
        for (i = 0; i < 500; i = i + 1) step(($random(seed) % 97) == 0, ($random(seed) % 4) != 0);
        // reset asserted between clock edges: an asynchronous reset acts at once, a synchronous one waits
        step(0, 1);
        while (model == 0) step(0, 1);
        @(negedge clk);
        {{RST}} = {{RST_ASSERT}};
        #1;
        total = total + 1;
        if (q !== (ASYNC ? {W{1'b0}} : model[W-1:0])) begin
            errors = errors + 1;
            $display("MISMATCH t=%0t reset between edges: q=%h (reset is %0s)", $time, q, ASYNC ? "asynchronous" : "synchronous");
        end
        step(1, 0);
        step(0, 1);
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
